"""The writer: moves the buffer's records to the sinks (or hands them to the formatter process)
on its own thread, bounded so that a slow reader never stalls the program."""
import _thread
import os
import signal
import sys
import time

from .formatter import _SHELL, _Formatter, _encode_raw, _formatter_wanted, _spawn, _waitpid
from .lines import _encode_lines, format_items
from .sinks import PipeSink, _select

# Record types (the text after '{"type":"', four characters) kept when old lines are dropped.
_KEEP = frozenset(("site", "task", "loop", "name", 'end"'))
# ... of which those that declare what later lines name: kept without bound.
_DECLARE = frozenset(("site", "task", "loop"))
# Records of their own (lines._SPECIAL) kept like their lines: a task's start and plain end.
_KEEP_RECORDS = frozenset(("task", "done"))


try:
    # Python runs signal handlers in the main thread between two bytecodes, so a handler that
    # raises (Ctrl-C's KeyboardInterrupt, a SIGTERM handler's SystemExit) could interrupt the
    # program thread's hand-over between taking a batch and writing it (the batch is lost: later
    # lines name tasks whose lines were in it), or between a write and its bookkeeping (a frame
    # torn in the pipe). The hand-over runs with signals blocked; they are delivered right after.
    # The C function: signal.pthread_sigmask turns every signal of the mask it returns into an
    # enum member, 70 us a call with all blocked (three calls per hand-over).
    import _signal
    _sigmask = _signal.pthread_sigmask
    _SIGS = frozenset(int(s) for s in signal.valid_signals())
    _BLOCK, _SETMASK = int(signal.SIG_BLOCK), int(signal.SIG_SETMASK)
except AttributeError:
    _sigmask = None


def _block_signals():
    """Block every signal in this thread; the mask to restore (None where that cannot be done).
    A handler already due runs (and may raise) before anything is blocked."""
    if _sigmask is None:
        return None
    old = _sigmask(_BLOCK, ())
    try:
        _sigmask(_BLOCK, _SIGS)
    except BaseException:
        _sigmask(_SETMASK, old)
        raise
    return old


def _restore_signals(old):
    """Restore the mask: the signals that came meanwhile are handled now (and may raise)."""
    if old is not None:
        _sigmask(_SETMASK, old)


# The real thread primitives, read when the runtime starts: a forked child of a program that
# gevent monkey-patched makes a new writer, which must be a thread with real locks, not a greenlet
# the program's hub may never run again (a traced gevent worker then hung at its exit).
_start_new_thread = _thread.start_new_thread
_allocate_lock = _thread.allocate_lock
_get_ident = _thread.get_ident


def _formatter_env(environ):
    """The formatter's environment: the program's, with glibc's malloc told to keep the memory
    it frees. Each chunk makes a few strings of megabytes; by default glibc gives them back to
    the system when freed and faults the pages in again for the next chunk, which cost the
    formatter half its time (1.1 -> 0.6 us per line). (Other C libraries ignore these; values
    the user set are kept.)"""
    env = dict(environ)
    env.setdefault("MALLOC_MMAP_THRESHOLD_", "33554432")
    env.setdefault("MALLOC_TRIM_THRESHOLD_", "134217728")
    return env


class _Writer:
    """Moves the buffer's items to the sinks on its own thread.

    The program's threads only ever append records of four items to ``buf``, each with one
    ``extend`` (atomic under the GIL, so any length of the list is a record boundary); batches
    are taken with ``buf[:n]`` and ``del buf[:n]`` (both atomic). When more than ``limit`` items
    wait, the oldest lines but ``site`` lines are dropped and counted (sites must stay declared
    before use, and there are few of them).

    Where posix_spawn exists, a formatter process is started before the program runs and the
    batches go to it raw (marshal, through a pipe): it formats and writes the lines on the other
    core. The program's thread hands them over itself (flush_inline); this thread sweeps what is
    left now and then and runs the samplers (tickers). Otherwise this thread formats and writes.
    """

    def __init__(self, sinks, limit=None, interval=0.02):
        if limit is None:
            try:
                limit = int(os.environ.get("ASYNCTRACE_BUFFER_LINES", "")) or 100000
            except ValueError:
                limit = 100000
        self.buf = []
        self.kept = []            # lines kept when the oldest are dropped (see _drop_oldest)
        self.sinks = list(sinks)  # objects with write(bytes, writer), close() and detach()
        # In items: a step record is four, other lines one.
        self.limit = max(16, limit * 4)
        self.batch = 1 << 16      # items per chunk (a multiple of four)
        self.eager = min(8192, self.limit // 4)  # this many waiting: no pause between chunks
        self.interval = interval
        self.dropped = 0
        self.base = 0             # the recorder's clock origin (perf_counter_ns)
        self.child = None         # the formatter process (_Formatter)
        # Set before start() by a main process whose program has not run yet: the shell that
        # starts the formatter is reaped by reap_spawned() instead, just before the program runs.
        self.defer_reap = False
        self._stop = False
        self._wake = _allocate_lock()
        self._wake.acquire()
        # Released by this thread after it took a batch (see relieve).
        self._took = _allocate_lock()
        self._took.acquire()
        self._done = _allocate_lock()
        self._done.acquire()
        self.broken = False
        self.writing = False
        self.stalled = False
        self._next_relief = 0.0
        self.on_broken = None
        self._thread = None
        self._wlock = _allocate_lock()  # one writer at a time on the sinks
        self._inline_owner = None  # the program's thread inside flush_inline (holding _wlock)
        self.deadline = None
        self._encode = self._format
        # [function, period, next due]: samplers run on this thread (one thread, one wakeup
        # schedule: each wakeup costs the program a GIL hand-over, and while this thread waits
        # for the GIL every blocking call of the program pays for waking it).
        self._tickers = []

    def add_ticker(self, fn, period):
        self._tickers.append([fn, period, 0.0])

    def _tick(self, now, horizon):
        """Run the tickers due by `horizon` (a wakeup serves everything due soon after it).
        A ticker returns how many seconds it wants to sleep, or None for its period."""
        for t in self._tickers:
            if t[2] <= horizon:
                try:
                    d = t[0]()
                except Exception:
                    d = None
                t[2] = now + (t[1] if d is None else max(0.001, d))

    def start(self):
        if _formatter_wanted():
            self._spawn_formatter()
        if self.child is not None:
            # The program's thread hands batches over itself (flush_inline); this thread only
            # sweeps what is left now and then (or when relieve() wakes it), and waits on a slow
            # formatter.
            self.interval = 0.1
            self.eager = self.limit
        self._thread = _start_new_thread(self._run, ())

    # -- the formatter process ------------------------------------------------------------
    def _spawn_formatter(self):
        """Start the formatter: a fresh interpreter (posix_spawn: no copy of this process,
        whose pages the program would then pay to copy on write) reading the pipe on its
        stdin and writing to the sinks, handed over as descriptors."""
        try:
            r, w = os.pipe()  # not inherited by programs the traced one executes
        except OSError:
            return
        try:
            dr, dw = os.pipe()  # the formatter's pid, then its exit status, then EOF
        except OSError:
            os.close(r)
            os.close(w)
            return
        handle = None
        try:
            srcs = [s.fileno() for s in self.sinks]
            # Targets above every descriptor in play: a dup2 onto itself would keep close-on-exec.
            first = max(srcs + [r, w, dr, dw, 2]) + 1
            # The pipe's read end is passed at a descriptor of its own: a shell gives a command
            # it starts in the background /dev/null as its standard input.
            rfd = first + 1 + len(srcs)
            actions = [(os.POSIX_SPAWN_OPEN, 0, os.devnull, os.O_RDONLY, 0),
                       (os.POSIX_SPAWN_OPEN, 1, os.devnull, os.O_WRONLY, 0),
                       (os.POSIX_SPAWN_DUP2, dw, first),
                       (os.POSIX_SPAWN_DUP2, r, rfd)]
            spec = []
            for i, (sink, fd) in enumerate(zip(self.sinks, srcs)):
                actions.append((os.POSIX_SPAWN_DUP2, fd, first + 1 + i))
                spec.append((sink.kind, first + 1 + i))
            pkg_parent = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
            # Not the program's child (see _Formatter): a shell starts it in the background and
            # exits at once (a few ms), or, without a shell, the spawned interpreter forks it.
            via_shell = os.path.exists(_SHELL)
            code = ("import sys;sys.path.insert(0,%r);from asynctrace.formatter import formatter_process;"
                    "formatter_process(%d,%r,%d,%d,%d,%r)"
                    % (pkg_parent, self.base, spec, first, os.getpid(), rfd, via_shell))
            argv = [sys.executable, "-I", "-S", "-c", code]
            env = _formatter_env(os.environ)
            if via_shell:
                pid = _spawn(_SHELL, [_SHELL, "-c", '"$@" &', "sh"] + argv, env, file_actions=actions)
            else:
                pid = _spawn(sys.executable, argv, env, file_actions=actions)
            os.close(dw)
            dw = None
            handle = _Formatter.detach(pid, dr, wait_pid=not via_shell)
            if handle is not None and not self.defer_reap:
                handle.reap_spawned()
        except Exception:
            handle = None
        if handle is None:
            for fd in (r, w, dr, dw):
                if fd is not None:
                    try:
                        os.close(fd)
                    except OSError:
                        pass
            return
        os.close(r)
        for s in self.sinks:
            try:
                s.detach()  # the formatter owns them now
            except Exception:
                pass
        self.sinks = [PipeSink(w, handle, self)]
        self.child = handle
        self._encode = self._encode_frame

    def forget_in_child(self):
        """In a child the program forked: drop the buffer and let go of the outputs (the
        formatter must see the end of its pipe when the parent closes it)."""
        del self.buf[:]
        self.kept = []
        for s in self.sinks:
            try:
                s.detach()
            except Exception:
                pass
        self.sinks = []
        self.broken = True
        if self.child is not None:
            self.child.forget()
        self.child = None

    def _encode_frame(self, chunk):
        """A frame for the formatter: its length and the count of dropped lines so far (the
        formatter writes the exit line itself if the program dies without writing it)."""
        data = _encode_raw(chunk)
        return len(data).to_bytes(8, "little") + self.dropped.to_bytes(8, "little") + data

    # -- taking and writing -----------------------------------------------------------------
    def _format(self, chunk):
        return _encode_lines(format_items(chunk, self.base))

    def _drop_oldest(self, extra):
        """Drop at least `extra` items (whole records) from the head. The lines that declare
        what later lines name (sites, tasks, loops) move to `kept`, written ahead of the next
        batch, always: a lossy trace never names a task, site or loop it did not declare. Names
        and task ends are kept while `kept` holds less than a quarter of the limit; steps,
        timeouts, cancels and blocks go first."""
        buf = self.buf
        extra = (extra + 3) & ~3
        head = buf[:extra]
        del buf[:extra]
        it = iter(head)
        keep = self.kept
        room = self.limit >> 2
        lines = 0
        for a, b, c, d in zip(it, it, it, it):
            # (a line: b is None; a record of its own: a is its lines._SPECIAL name; a step: a is an int)
            if (a[9:13] in _DECLARE if b is None else a == "task") or (
                    (a[9:13] in _KEEP if b is None else a in _KEEP_RECORDS) and len(keep) < room):
                keep.extend((a, b, c, d))
            else:
                lines += 1
        self.dropped += lines

    def _take(self):
        """The next batch (callers hold _wlock): what trimming kept, then the oldest items."""
        buf = self.buf
        n = len(buf)
        if not n and not self.kept:
            return None
        if n > self.limit:
            self.trim()  # the program outruns the reader: drop the oldest lines
            n = len(buf)
        # Bounded chunks (a multiple of four: whole records) keep the pipe flowing: the
        # formatter starts on one while this thread hands over the next.
        if n > self.batch:
            n = self.batch
        chunk = buf[:n]
        del buf[:n]
        if self.kept:
            chunk[0:0] = self.kept  # older than anything left in the buffer
            self.kept = []
        return chunk

    def _write_chunk(self, chunk):
        data = self._encode(chunk)
        for s in list(self.sinks):
            try:
                s.write(data, self)
            except Exception as e:  # disk full, reader gone: keep the program running
                self._sink_failed(s, e)
        if not self.sinks:
            self.broken = True

    def _run(self):
        try:
            if _sigmask is not None:
                # Signals are the program's: never delivered to this thread (its C handler
                # would have the main thread run the Python handler in the midst of a hand-over,
                # or run one the program blocked in its own threads).
                _sigmask(_BLOCK, _SIGS)
        except BaseException:
            pass
        try:
            next_sweep = 0.0
            while not self._stop:
                woken = False
                if len(self.buf) < self.eager:
                    due = next_sweep
                    for t in self._tickers:
                        due = min(due, t[2])
                    wait = due - time.monotonic()
                    if wait > 0:
                        woken = self._wake.acquire(True, max(0.001, wait))
                now = time.monotonic()
                horizon = now + self.interval * 0.3
                if self._tickers:
                    self._tick(now, horizon)
                if not woken and next_sweep > horizon and len(self.buf) < self.eager:
                    continue  # woke for a sampler only
                next_sweep = now + self.interval
                if self.child is not None and not self.broken:
                    self._sweep()
                    continue
                with self._wlock:
                    chunk = self._take()
                    self._release_took()
                    if chunk and not self.broken:
                        self.writing = True
                        try:
                            self._write_chunk(chunk)
                        finally:
                            self.writing = False
                            self._release_took()
                chunk = None
        except BaseException:
            # Never leave the program waiting on a dead writer (relieve() would time out on
            # every step): stop writing; the program goes on untraced.
            self.broken = True
        finally:
            self._release_took()
            self._done.release()

    def _sweep(self):
        """The writer thread's turn when a formatter runs: the program's thread hands most
        batches over itself (flush_inline); this hands over what was left, and when the pipe
        is full waits for room (holding no lock: never block the program's flush_inline)."""
        sink = self.sinks[0] if self.sinks else None
        if sink is None:
            return
        if self._wlock.acquire(False):
            try:
                self.writing = True
                if sink.pending is None or sink.try_write(None):
                    chunk = self._take()
                    self._release_took()
                    if chunk:
                        sink.try_write(self._encode(chunk))
                    chunk = None
            except Exception as e:
                self._sink_failed(sink, e)
                return
            finally:
                self.writing = False
                self._wlock.release()
                self._release_took()
        if sink.pending is not None:
            # The formatter is behind (a slow reader): wait for room, bound the buffer.
            try:
                _, w, _ = _select([], [sink.fd], [], 0.1)
            except (OSError, ValueError):
                w = None
            if not w:
                self.stalled = True
                # Under the lock: trimming and taking both cut the buffer's head.
                if self._wlock.acquire(True, 0.05):
                    try:
                        self.trim()
                    finally:
                        self._wlock.release()
            else:
                self.stalled = False
        else:
            self.stalled = False

    def _release_took(self):
        if self._took.locked():
            try:
                self._took.release()  # a program waiting in relieve goes on
            except RuntimeError:
                pass

    def _sink_failed(self, s, e):
        try:
            self.sinks.remove(s)
        except ValueError:
            pass
        try:
            s.close()
        except Exception:
            pass
        if not self.sinks:
            self.broken = True
        if self.on_broken:
            try:
                self.on_broken(s, e, not self.sinks)
            except Exception:
                pass  # whatever it could not stop, `broken` already keeps from writing

    def relieve(self):
        """Called by the program thread when many items wait: wake this thread and give it the
        GIL until it took a batch. A loop that polls its selector releases and retakes the GIL
        in a moment, which can starve this thread for the whole run (all lines over the bound
        dropped); a short wait here keeps the lines instead."""
        if self._thread is None or self._stop or self.broken or self.stalled:
            return  # stalled: a slow reader, not the GIL, holds this thread back
        now = time.monotonic()
        if now < self._next_relief and len(self.buf) < self.limit - (self.limit >> 3):
            return
        if self.writing:
            # It may be waiting for the GIL between two writes: a short wait, at most one in
            # every 5 ms unless lines are about to be dropped, so a slow reader (which sets
            # `stalled`) costs the program a bounded share of its time.
            self._next_relief = now + 0.005
            self._took.acquire(False)
            self._took.acquire(True, 0.002)
            return
        self._took.acquire(False)  # forget a batch taken before now
        try:
            self._wake.release()
        except RuntimeError:
            pass
        self._took.acquire(True, 0.05)

    def reap_spawned(self):
        """See defer_reap."""
        if self.child is not None:
            try:
                self.child.reap_spawned()
            except Exception:
                pass

    def flush_inline(self):
        """Called by the program's thread when a batch waits and a formatter runs: hand it over
        right here (marshal, one non-blocking write), so the writer thread need not wake and
        take the GIL for it; each such hand-over between threads costs the program a switch.
        Falls back to relieve() when the pipe is full and the buffer nears its bound."""
        if self.child is None:
            return self.relieve()  # a forked child writes in process (see processes.py)
        if self.broken or not self.sinks:
            return
        # Marked as the lock's owner before taking it, and until after letting it go: a signal
        # handler of the program that runs in between (its os._exit finishing the trace) must
        # see that this thread may hold the lock, and never wait on it.
        self._inline_owner = _get_ident()
        held = False
        try:
            if not self._wlock.acquire(False):
                return
            try:
                mask = _block_signals()
            except BaseException:
                self._wlock.release()
                raise
            held = True
        finally:
            if not held:
                self._inline_owner = None
        try:
            sink = self.sinks[0]
            if sink.pending is not None and not sink.try_write(None):
                ok = False
            else:
                chunk = self._take()
                ok = True
                if chunk:
                    sink.try_write(self._encode(chunk))
                chunk = None
        except Exception as e:  # the formatter is gone
            ok = True
            self._sink_failed(sink, e)
        finally:
            self._wlock.release()
            self._inline_owner = None
            _restore_signals(mask)
        if not ok and len(self.buf) > self.limit // 2:
            self.relieve()

    def trim(self):
        """Bound the waiting items (drop the oldest lines): when taking a batch, and while a sink
        waits on a slow reader."""
        n = len(self.buf)
        if n > self.limit:
            self._drop_oldest(n - self.limit)

    def close(self, last=None, timeout=5.0):
        """Flush everything written so far, then `last(dropped)` (the exit line, which so
        carries the final count of dropped lines), then close the sinks and wait for the
        formatter to write its last line."""
        if self._inline_owner is not None and self._inline_owner == _get_ident():
            # Called from a signal handler of the program (os._exit in it) that interrupted
            # this thread's hand-over: the lock is ours, the frame half written. Touch nothing;
            # when the process ends the formatter writes what it got, then the exit line.
            return
        self.deadline = time.monotonic() + timeout  # a stuck reader gives up after this
        self._stop = True
        try:
            self._wake.release()
        except RuntimeError:
            pass
        if self._thread is not None:
            self._done.acquire(True, timeout)
        with self._wlock:
            while (self.buf or self.kept) and not self.broken:
                chunk = self._take()
                if chunk:
                    self._write_chunk(chunk)
            if last is not None and not self.broken:
                self._write_chunk([last(self.dropped), None, None, None])
            for s in self.sinks:
                try:
                    s.close()
                except Exception:
                    pass
            self.sinks = []
            if self.child is not None:
                self.child.reap_spawned()
                self.child.wait(timeout)
                self.child = None
