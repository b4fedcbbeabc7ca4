"""The greenlet.settrace callback: every switch of the traced thread ends the step of the greenlet
it leaves (with its suspension stack and what it waits on) and starts the next one."""
import sys
from time import perf_counter_ns as _ns

from . import wakes as _wakes
from .blocks import _block
from .calls import _MISSING
from .ends import _UNKNOWN_ERR, _check_name, _on_death, _reap_unstarted, _started
from .state import _current_info, _declare, _discover
from .waits import _classify

_rec = None
_st = None


def _make_trace(st):
    """greenlet's trace function, called after every switch. Two fast paths cover most switches
    of a gevent program: the hub resuming a greenlet, and a greenlet suspending to the hub
    exactly where it did last time (same user frame and instruction, same library path): then
    its step record reuses the text written for that suspension.

    Whatever greenlet a switch leaves has run since the previous switch, so the one clock
    reading per switch (st.cur_start) is the start of the next step. A greenlet the hub
    starts for the first time is registered at its first suspension (or death), on the slow
    path, with that start as its creation time."""
    info = st.info
    ns = _ns
    rec = _rec
    emit_step = rec.emit_step
    block_ns = st.block_us * 1000
    slow = _trace_slow
    buf = rec.buf
    flush_at = rec.flush_at
    flush = rec.flush
    chains = _chains
    link = _wakes.link
    io_wake = _wakes.IO_WAIT
    io_by = _wakes.IO_BY

    def trace(event, args):
        # st.fhub is the hub while the fast paths apply (None otherwise: see _set_fast).
        hub = st.fhub
        origin, target = args
        if origin is hub:
            if event == "switch":
                st.cur_start = ns()
                return
        elif target is hub:
            oinf = info.get(id(origin))
            # (Its first suspension, and one with greenlets it spawned still unstarted, take
            # the slow path: they have bookkeeping to do.)
            if oinf is not None and oinf.steps and not oinf.unstarted and event == "switch":
                f = origin.gr_frame
                cands = chains.get((id(f.f_code), f.f_lasti)) if f is not None else None
                if cands is not None:
                    for codes, lastis, tail, io in cands:
                        # The same code at every level of the stack down to its bottom, at the
                        # same instruction where that matters: the same sites and the same wait.
                        g = f
                        for c, l in zip(codes, lastis):
                            if g is None or g.f_code is not c or (l is not None and g.f_lasti != l):
                                break
                            g = g.f_back
                        else:
                            if g is None:
                                now = ns()
                                start = st.cur_start
                                if now - start > block_ns:
                                    break
                                wk = oinf.wake
                                if wk is None:
                                    emit_step((oinf.tid, start, now, tail))
                                elif wk is io_wake and oinf.marks is None:
                                    # Resumed from an I/O wait: ready when the loop's poll
                                    # returned (st.poll_ns, see wakes.start_poll_clock).
                                    p = st.poll_ns
                                    emit_step((oinf.tid, start, now, ((p, io_by), tail) if 0 < p <= start else tail))
                                else:  # (woken by what its previous wait noted: see wakes)
                                    w = link(st, oinf, start, now)
                                    emit_step((oinf.tid, start, now, tail if w is None else (w, tail)))
                                oinf.wake = io
                                st.cur_start = now
                                if len(buf) > flush_at:
                                    flush()
                                return
        slow(event, args)
    return trace


def _trace_slow(event, args):
    st = _st
    if st is not None and st.active and _rec.enabled:
        try:
            _on_switch(st, event, args)
        except Exception:
            pass
        p = st.prev_trace
        if p is not None:
            p(event, args)
    elif st is not None and st.prev_trace is not None:
        st.prev_trace(event, args)


def _on_switch(st, event, args):
    origin, target = args
    now = (_ns() - st.t0) // 1000
    if st.trap is not None:
        st.trap.disarm(_UNKNOWN_ERR)
    info = st.info
    start = (st.cur_start - st.t0) // 1000
    # (Registered here at the first switch of the run, main, or of a greenlet the hub started.)
    oinf = _current_info(st, origin)
    tinf = info.get(id(target))
    if tinf is None and id(target) not in st.hubs:
        tinf = _discover(target, origin, now)
    if event == "throw" and tinf is not None:
        _on_throw(st, target, tinf, origin, now)
    if oinf is not None:
        if origin.dead:
            trap = None
            if event == "throw" and oinf.raw:
                # A plain greenlet died of an exception that is about to be raised in `target`,
                # whose frame is the caller of our trace callback.
                try:
                    trap = sys._getframe(3)  # _on_switch <- _trace_slow <- trace <- it
                except ValueError:
                    trap = None
            _on_death(st, origin, oinf, start, now, event, trap)
        else:
            f = origin.gr_frame
            if not oinf.declared:
                _declare(oinf, origin, f)
            if not oinf.steps:
                oinf.steps = 1
                if oinf.spawner is not None:
                    _started(oinf)
                if not oinf.raw:
                    _check_name(origin, oinf)
            # The user sites of its frames, outermost first (inlined: this is the hot path).
            out = []
            cache = _site_at
            g = f
            n = 0
            codes = []
            lastis = []
            while g is not None and n < 64:
                code = g.f_code
                lasti = g.f_lasti
                codes.append(code)
                sid = cache.get((id(code), lasti), _MISSING)
                if sid is _MISSING:
                    sid = _site_for(code, g)
                if sid is not None:
                    out.append(sid)
                # The instruction matters where it makes the step's text: a user frame's line,
                # and the innermost frames, where the wait is classified (a sleep's zero branch).
                lastis.append(lasti if sid is not None or n < 2 else None)
                g = g.f_back
                n += 1
            if len(out) > 1:
                out.reverse()
            stack = ",".join(out)
            const = False
            t0 = st.t0
            start_ns, now_ns = t0 + start * 1000, t0 + now * 1000
            # (Read before the classification notes what could end this new wait.)
            woke = _wakes.link(st, oinf, start_ns, now_ns) if oinf.wake is not None else None
            if tinf is not None:
                on = '{"kind":"switch","to":%d}' % tinf.tid
            else:
                on, const = _classify(st, f, oinf, now)
            tail = ',"await":{"stack":[%s],"on":%s}}' % (stack, on)
            record = (oinf.tid, start_ns, now_ns, tail if woke is None else (woke, tail))
            if tinf is not None and not tinf.declared:
                # A new plain greenlet: its task line waits for its first suspension (its
                # function is known then); this step, which names it, follows that line.
                if tinf.held is None:
                    tinf.held = []
                tinf.held.append(record)
            else:
                _rec.emit_step(record)
            # Remembered only when what it waits on depends on nothing but the code (an I/O
            # operation, a bare yield): a sleep's delay or a join's target is read every time.
            io = None
            if on.startswith('{"kind":"io"'):
                io = oinf.wake = _wakes.IO_WAIT  # (ready when the loop's poll returns: see wakes)
            if const and g is None and id(target) in st.hubs:
                _remember(codes, lastis, tail, io)
            if now - start > st.block_us and start != st.t_hook:
                # (the main greenlet's first step ran before there was a hub to hold up)
                _block(st, oinf.tid, start, now, out[-1] if out else None)
            if oinf.unstarted:
                _reap_unstarted(st, oinf, now)
    st.cur_start = st.t0 + now * 1000


# The suspensions seen, for the fast path: (id(top code), its instruction) -> candidates
# (codes, instructions, tail) of whole stacks, of any greenlet. Codes and instructions, not
# frames: holding a frame would keep its locals alive past its end; the codes held keep their
# ids unique.
_chains = {}
_CHAINS_MAX = 4096
_CANDIDATES_MAX = 8


def _remember(codes, lastis, tail, io):
    key = (id(codes[0]), lastis[0])
    cands = _chains.get(key)
    entry = (tuple(codes), tuple(lastis), tail, io)
    if cands is None:
        if len(_chains) < _CHAINS_MAX:
            _chains[key] = (entry,)
    elif entry not in cands:
        # Newest first; past the bound the oldest goes (a suspension point reached from more
        # places than that pays the slow path for the rarer ones).
        _chains[key] = ((entry,) + cands)[:_CANDIDATES_MAX]


# (id(code), lasti) -> site id text, or None for library code; the recorder keeps the codes
# alive. Keyed by instruction offset so the line number (a line-table scan) is computed once.
_site_at = {}


def _site_for(code, f):
    s = _rec.site_of_code(code, f.f_lineno) if _rec.is_user_code(code) else None
    s = None if s is None else str(s)
    _site_at[(id(code), f.f_lasti)] = s
    return s


def _on_throw(st, g, inf, origin, now):
    """Something is thrown into `g`: a gevent Timeout (patched, flagged in st.firing), a kill
    (gevent's kill() throws from the hub; a plain greenlet's throw() comes from its caller)."""
    inf.thrown = True
    if inf.wake is not None:
        _wakes.drop(inf)  # (not woken by what it waited on: a kill, a Timeout)
    if st.firing is g:
        return
    by = site = None
    if inf.kill is not None:
        by, site = inf.kill
        inf.kill = None
    elif id(origin) in st.hubs:
        # The hub also throws SystemExit/KeyboardInterrupt raised in a greenlet into main:
        # that is not a kill of main.
        if g is st.main or g.parent is None:
            return
    else:
        oinf = st.info.get(id(origin))
        if oinf is None:
            return
        by = oinf.tid
        try:
            site = _rec.site_of_frame(origin.gr_frame)
        except Exception:
            site = None
    if not inf.declared:
        _declare(inf, g)
    _rec.emit('{"type":"cancel","task":%d,"ts":%d,"by":%s,"site":%s,"cause":"kill"}'
              % (inf.tid, now, "null" if by is None else by, "null" if site is None else site))
