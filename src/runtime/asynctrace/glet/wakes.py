"""Greenlet wake links: what made a waiting greenlet ready (`woke` / `wokeBy` of its next step).

A greenlet's suspension notes what could wake it (inf.wake): a sleep's timer (due time), a
joined greenlet (its end), a joinall's greenlets (the last one that ended), a traced lock (its
releaser, see locks), an Event or AsyncResult (its setter, see events), a queue (who fed it, see
queues), I/O (the loop's last poll, see start_poll_clock); a spawned greenlet's first step, its
spawner. The step that follows, written at the greenlet's next suspension (or its death),
carries the link when the waker did act between the two; nothing is done when it resumes.

A releaser's own step end (when the woken greenlet could run at the earliest) is known only at
its next suspension: the release leaves a mark [releaser _Info, release ns, step end ns] on the
lock (its last few) and in the releaser's inf.marks, filled then."""
from functools import partial as _partial
from time import perf_counter_ns as _ns
from weakref import ref as _weakref

_rec = None
_st = None

TIMER, JOIN, GATHER, OBJ, QUEUE, IO, FIRST = 1, 2, 3, 4, 5, 6, 7
NOWAIT = (0, None, 0)  # (inf.wake of a greenlet with only marks to fill: its next suspension is slow)
IO_WAIT = (IO, None, 0)  # (inf.wake of a greenlet in an I/O wait: one tuple for all, set on the fast path)
IO_BY = '{"kind":"io"}'
_TIMER_BY = '{"kind":"timer"}'
_CALLBACK_BY = '{"kind":"callback"}'
_RELEASES = 4  # releases of a lock kept (its waiter's step may release it again before it is written)
_LISTED = 100  # greenlets of a joinall looked at (the ones its `on` lists)


def note(inf, kind, payload, since_ns):
    """`inf` suspends in a wait `kind` could end (the slow path calls this from the classification)."""
    inf.wake = (kind, payload, since_ns)


def link(st, inf, start_ns, now_ns):
    """The wake link of the step of `inf` that ran from start_ns and ends now (its wake noted at
    its previous suspension, cleared here), filling the marks of releases it made meanwhile:
    (woke ns, task id or wokeBy text) or None."""
    wk = inf.wake
    inf.wake = None
    marks = inf.marks
    if marks is not None:
        inf.marks = None
        for m in marks:
            m[2] = now_ns
    if wk is None:
        return None
    kind, payload, since = wk
    try:
        if kind == TIMER:
            return (min(payload, start_ns), _TIMER_BY)
        if kind == JOIN:
            end = payload.end_ns
            if end is not None and since <= end <= start_ns:
                return (end, payload.tid)
        elif kind == GATHER:
            ld = st.last_death
            if ld is not None and since <= ld[1] <= start_ns:
                for t, _ in payload[:_LISTED]:
                    if t == ld[0]:
                        return (ld[1], t)
        elif kind == OBJ:
            # The last release / set before it resumed (its own step's come after).
            for m in reversed(releases_of(payload) or ()):
                if since <= m[1] <= start_ns:
                    end = m[2]
                    woke = end if end is not None and end <= start_ns else m[1]
                    w = m[0]
                    return (woke, w.tid if w is not None else _CALLBACK_BY)
        elif kind == FIRST:
            # A first step: ready when the step that spawned it ended.
            end = payload[2]
            if payload[1] <= start_ns:
                return (end if end is not None and end <= start_ns else payload[1], payload[0].tid)
        elif kind == IO:
            p = st.poll_ns
            if 0 < p <= start_ns:
                return (p, IO_BY)
        elif kind == QUEUE:
            r = payload.woken(since, start_ns)  # (see queues)
            if r is not None:
                w = r[1]
                return (r[0], w.tid if w is not None else _CALLBACK_BY)
    except Exception:
        pass
    return None


def drop(inf):
    """`inf` stops waiting without being woken (a kill, a Timeout): no link."""
    wk = inf.wake
    inf.wake = None
    if wk is not None and wk[0] == QUEUE:
        try:
            wk[1].cancel()
        except Exception:
            pass


def mark(releaser):
    """A mark [releaser, now ns, its step's end ns once known] that a waiter's next step reads;
    the releaser's step end is filled at its next suspension."""
    m = [releaser, _ns(), None]
    if releaser is not None:
        if releaser.marks is None:
            releaser.marks = [m]
        else:
            releaser.marks.append(m)
        if releaser.wake is None:
            releaser.wake = NOWAIT
    return m


def released(lock, releaser):
    """A greenlet waited on `lock` (or an event, a result) and the running greenlet (`releaser`,
    None for the hub) released (set) it: the mark its waiter's next step reads."""
    try:
        rels = lock._asynctrace_rel
    except AttributeError:
        rels = side.get(id(lock))  # (an object with slots: see watch)
        if rels is None:
            return
        rels = rels[1]
    except Exception:
        return
    m = mark(releaser)
    try:
        if rels is None:
            lock._asynctrace_rel = [m]
        else:
            if len(rels) >= _RELEASES:
                del rels[0]
            rels.append(m)
    except Exception:
        pass


# id(object) -> (weak reference, its releases) of the objects waited on that have no room for
# their releases (pure-Python gevent's Event and AsyncResult have slots). The entry goes with
# the object, by a callback that runs no Python code.
side = {}


def watch(o):
    """A greenlet waits on `o`, an object with slots: from now on its releases are kept here."""
    k = id(o)
    if k not in side:
        side[k] = (_weakref(o, _partial(side.pop, k)), [])


def releases_of(o):
    r = getattr(o, "_asynctrace_rel", None)
    if r is None:
        e = side.get(id(o))
        r = e[1] if e is not None else None
    return r


def start_poll_clock(st, hub):
    """The hub `hub` was seen: a check watcher of its loop (run right after each poll, before the
    callbacks of the watchers it made ready) notes when the poll returned, the `woke` of the
    greenlets an I/O watcher resumes in that loop iteration. It keeps no loop alive."""
    try:
        w = hub.loop.check(ref=False)
    except TypeError:
        try:
            w = hub.loop.check()
            w.ref = False
        except Exception:
            return
    except Exception:
        return

    def polled():
        st.poll_ns = _ns()

    try:
        w.start(polled)
        st.poll_watcher = w  # (kept: a watcher nobody holds stops)
    except Exception:
        pass
