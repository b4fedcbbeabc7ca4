"""The recorder: ids, clock, user-code sites and the buffered trace writer.

Shared by the asyncio hooks and the greenlet hooks. Everything on a hot path is a dict lookup
keyed by ``id(code)`` (the code object is kept alive so its id is never reused) and
%-formatting; the writing happens on a separate thread so a slow reader never stalls the program.
"""
import _thread
import itertools
import marshal
import os
import select
import sys
import time

_RECORDER = None

_ns = time.perf_counter_ns
# Bound now: gevent's monkey-patching may replace them later with cooperative versions.
_select = select.select
_spawn = getattr(os, "posix_spawn", None)
_waitpid = getattr(os, "waitpid", None)
_write = os.write
_NAP = _thread.allocate_lock()
_NAP.acquire()

# A step line, from a step record of the buffer (see format_items).
STEP_FMT = '{"type":"step","task":%d,"ts":%d,"dur":%d%s'


def _jstr(s):
    try:
        return _encode_str(s if type(s) is str else str(s))
    except Exception:
        return '""'


def _null(x):
    return "null" if x is None else x


def _fmt_task(ts_ns, tid, f, base):
    # f: (kind, name, coro, parent, site, thread, loop, eager, internal)
    return ('{"type":"task","id":%d,"ts":%d,"kind":"%s","name":%s,"coro":%s,"parent":%s,"site":%s,'
            '"thread":%d,"loop":%s%s%s}'
            % (tid, (ts_ns - base) // 1000, f[0], _jstr(f[1]), _jstr(f[2]), _null(f[3]), _null(f[4]),
               f[5], _null(f[6]), ',"eager":true' if f[7] else "", ',"internal":true' if f[8] else ""))


def _fmt_done(ts_us, tid, _d, base):
    return '{"type":"end","task":%d,"ts":%d,"state":"done"}' % (tid, ts_us)


# Records other than steps and lines: (name, a, b, c) -> formatter(a, b, c, base).
_SPECIAL = {"task": _fmt_task, "done": _fmt_done}


def format_items(items, base):
    """The lines of a chunk of the buffer. The buffer holds records of four items: a whole line
    is (text, None, None, None); a step is (task id, start ns, end ns, the rest of the line
    after "dur"); a few frequent lines have records of their own (see _SPECIAL). The hooks
    append records instead of lines so the formatting happens elsewhere: in the formatter
    process when there is one. Only ints, str, None and tuples of them: marshal carries them."""
    out = []
    app = out.append
    it = iter(items)
    fmt = STEP_FMT
    special = _SPECIAL
    for a, b, c, d in zip(it, it, it, it):
        if b is None:
            app(a)
        elif type(a) is int:
            app(fmt % (a, (b - base) // 1000, (c - b) // 1000, d))
        else:
            try:
                app(special[a](b, c, d, base))
            except Exception:
                pass
    return out


def _encode_lines(lines):
    # backslashreplace turns a lone surrogate into its JSON escape: the output stays UTF-8
    return ("\n".join(lines) + "\n").encode("utf-8", "backslashreplace")


def get_recorder():
    """The active recorder, or None when not tracing (for example in a forked child)."""
    return _RECORDER


try:
    from _json import encode_basestring as _encode_str  # C, no import of the json package
except ImportError:  # pragma: no cover
    from json.encoder import py_encode_basestring as _encode_str


def _library_roots():
    roots = set()
    # The standard library is where `os` lives (lib-dynload is below it); site-packages and
    # dist-packages are recognised by name (see _classify). No sysconfig: it is slow to import.
    std = os.path.dirname(os.__file__)
    roots.add(os.path.realpath(std))
    roots.add(os.path.abspath(std))
    for p in (getattr(sys, "base_prefix", None), getattr(sys, "prefix", None)):
        if p:
            # Covers lib/pythonX.Y (stdlib) of pyenv, venvs and Debian builds.
            ver = "python%d.%d" % sys.version_info[:2]
            for sub in ("lib", "lib64"):
                roots.add(os.path.join(p, sub, ver))
    roots.add(os.path.dirname(os.path.abspath(__file__)))
    roots.add(os.path.dirname(os.path.realpath(__file__)))
    return tuple(sorted(r.rstrip(os.sep) + os.sep for r in roots if r))


# Record types (the text after '{"type":"', four characters) kept when old lines are dropped.
_KEEP = frozenset(("site", "task", "loop", "name", 'end"'))


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
        self._stop = False
        self._wake = _thread.allocate_lock()
        self._wake.acquire()
        # Released by this thread after it took a batch (see relieve).
        self._took = _thread.allocate_lock()
        self._took.acquire()
        self._done = _thread.allocate_lock()
        self._done.acquire()
        self.broken = False
        self.writing = False
        self.stalled = False
        self._next_relief = 0.0
        self.on_broken = None
        self._thread = None
        self._wlock = _thread.allocate_lock()  # one writer at a time on the sinks
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
        self._thread = _thread.start_new_thread(self._run, ())

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
            actions = [(os.POSIX_SPAWN_DUP2, r, 0),
                       (os.POSIX_SPAWN_OPEN, 1, os.devnull, os.O_WRONLY, 0),
                       (os.POSIX_SPAWN_DUP2, dw, first)]
            spec = []
            for i, (sink, fd) in enumerate(zip(self.sinks, srcs)):
                actions.append((os.POSIX_SPAWN_DUP2, fd, first + 1 + i))
                spec.append((sink.kind, first + 1 + i))
            pkg_parent = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
            code = ("import sys;sys.path.insert(0,%r);from asynctrace.recorder import formatter_process;"
                    "formatter_process(%d,%r,%d)" % (pkg_parent, self.base, spec, first))
            pid = _spawn(sys.executable, [sys.executable, "-I", "-S", "-c", code], os.environ,
                         file_actions=actions)
            os.close(dw)
            dw = None
            handle = _Formatter.detach(pid, dr)
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
        self._encode = _encode_raw

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

    # -- taking and writing -----------------------------------------------------------------
    def _format(self, chunk):
        return _encode_lines(format_items(chunk, self.base))

    def _drop_oldest(self, extra):
        """Drop at least `extra` items (whole records) from the head. The lines that declare
        what later lines name (sites, tasks, loops, names) and the task ends move to `kept`,
        written ahead of the next batch: a lossy trace still holds every task, its creator and
        how it ended, and loses steps, timeouts, cancels and blocks. Only sites are kept without
        bound (there are few); the others while `kept` holds less than a quarter of the limit."""
        buf = self.buf
        extra = (extra + 3) & ~3
        head = buf[:extra]
        del buf[:extra]
        it = iter(head)
        keep = self.kept
        room = self.limit >> 2
        lines = 0
        for a, b, c, d in zip(it, it, it, it):
            # (a line: b is None; a task's start or plain end: a is the _SPECIAL name; a step: a is an int)
            if ((a[9:13] in _KEEP if b is None else a in _SPECIAL)
                    and (len(keep) < room or (b is None and a[9:13] == "site"))):
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

    def flush_inline(self):
        """Called by the program's thread when a batch waits and a formatter runs: hand it over
        right here (marshal, one non-blocking write), so the writer thread need not wake and
        take the GIL for it; each such hand-over between threads costs the program a switch.
        Falls back to relieve() when the pipe is full and the buffer nears its bound."""
        if self.broken or not self.sinks or not self._wlock.acquire(False):
            return
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
                self.child.wait(timeout)
                self.child = None


def _encode_raw(chunk):
    try:
        data = marshal.dumps(chunk)
    except ValueError:
        # An item marshal cannot carry (a bug of ours): hand over the lines formatted here.
        lines = []
        for ln in format_items(chunk, _RECORDER._t0 if _RECORDER is not None else 0):
            lines.extend((ln, None, None, None))
        data = marshal.dumps(lines)
    return len(data).to_bytes(8, "little") + data


def _formatter_wanted():
    """A formatter process where the platform can spawn one cheaply, unless disabled."""
    if _spawn is None or os.name != "posix" or not sys.executable:
        return False
    if os.environ.get("ASYNCTRACE_FORMATTER", "").lower() in ("0", "off", "inprocess", "no"):
        return False
    return True


class _Formatter:
    """The formatter process, as the program's runtime sees it. It is not the program's child:
    the process spawned for it forks it and exits at once (reaped here before the program
    runs), so a program that waits for all its children, or execs, never meets it. Its end is
    known from a pipe it holds: its pid, then its exit status, then end of file when it exits."""

    def __init__(self, pid, done_fd):
        self.pid = pid
        self.fd = done_fd
        self.ident = _identity(done_fd)
        self.status = None

    @classmethod
    def detach(cls, spawned, done_fd, timeout=10.0):
        while True:
            try:
                _waitpid(spawned, 0)  # exits right after forking the formatter
                break
            except InterruptedError:
                continue
            except ChildProcessError:
                break
        data = cls._read(done_fd, 8, timeout)
        if len(data) < 8:
            return None
        return cls(int.from_bytes(data[:8], "little"), done_fd)

    @staticmethod
    def _read(fd, n, timeout):
        """Up to `n` bytes (fewer at end of file or after `timeout` seconds)."""
        end = time.monotonic() + timeout
        data = b""
        while len(data) < n:
            left = end - time.monotonic()
            if left <= 0:
                break
            try:
                r, _, _ = _select([fd], [], [], left)
            except InterruptedError:
                continue
            except (OSError, ValueError):
                break
            if not r:
                break
            try:
                chunk = os.read(fd, n - len(data))
            except InterruptedError:
                continue
            except OSError:
                break
            if not chunk:
                break
            data += chunk
        return data

    def wait(self, timeout):
        """Wait (a bounded time) for the formatter to finish its last writes; kill it if stuck.
        Returns its exit status (an int), or None if it did not say."""
        fd = self.fd
        if fd is None:
            return self.status
        try:
            _check_ours(fd, self.ident)
        except OSError:
            self.fd = None  # the program took the number over: read nothing, close nothing
            return self.status
        end = time.monotonic() + timeout
        got = b""
        eof = False
        while True:
            left = end - time.monotonic()
            if left <= 0:
                break
            try:
                r, _, _ = _select([fd], [], [], left)
                if not r:
                    break
                chunk = os.read(fd, 1024)
            except InterruptedError:
                continue
            except (OSError, ValueError):
                break
            if not chunk:
                eof = True
                break
            got += chunk
        if got:
            self.status = got[-1]
        if not eof:
            try:
                os.kill(self.pid, 9)  # stuck past the deadline
            except OSError:
                pass
        try:
            os.close(fd)
        except OSError:
            pass
        self.fd = None
        return self.status

    def forget(self):
        """In a forked child of the program: let go of the pipe (the parent keeps waiting)."""
        if self.fd is not None:
            try:
                _check_ours(self.fd, self.ident)
                os.close(self.fd)
            except OSError:
                pass
            self.fd = None


class _ChildSide:
    """What a sink asks of its writer, in the formatter process (the parent bounds the buffer)."""
    stalled = False
    deadline = None

    def trim(self):
        pass


def formatter_process(base, spec, done=None):
    """Entry point of the formatter process (see _Writer._spawn_formatter): the pipe is its
    stdin; spec lists the sinks as (kind, descriptor); `done` is the pipe on which it says its
    pid, then its exit status (see _Formatter)."""
    if done is not None:
        # Not the program's child: the spawned process forks the formatter and exits.
        try:
            if os.fork() != 0:
                os._exit(0)
        except OSError:
            pass  # no fork: stay the program's child (still correct, only visible)
        try:
            os.write(done, os.getpid().to_bytes(8, "little"))
        except OSError:
            pass
    import signal
    for name in ("SIGINT", "SIGTERM", "SIGHUP", "SIGQUIT"):
        # The terminal's Ctrl-C and a Stop reach the whole process group: the parent handles
        # them and closes the pipe when done; this process must live until then.
        try:
            signal.signal(getattr(signal, name), signal.SIG_IGN)
        except (AttributeError, ValueError, OSError):
            pass
    sinks = []
    for kind, fd in spec:
        try:
            if kind == "socket":
                import socket
                sinks.append(SocketSink(socket.socket(fileno=fd)))
            else:
                sinks.append(FileSink(None, fd))
        except Exception:
            pass
    status = 70
    try:
        status = _formatter_main(0, sinks, base)
    finally:
        if done is not None:
            try:
                os.write(done, bytes([status & 0xFF]))
            except OSError:
                pass
        os._exit(status)


def _formatter_main(rfd, sinks, base):
    """The formatter process: read marshalled chunks from the pipe, write the lines to the
    sinks, until the parent closes the pipe (also when it was killed: everything it handed
    over is still written). Returns the exit status: 0, or 3 when every output failed (it said
    so on stderr; the parent then stops tracing)."""
    try:
        import gc
        gc.disable()  # strings and lists only: nothing to collect
    except Exception:
        pass
    side = _ChildSide()
    live = list(sinks)
    said = False
    src = os.fdopen(rfd, "rb", 1 << 16)
    while True:
        hdr = src.read(8)
        if len(hdr) < 8:
            break
        n = int.from_bytes(hdr, "little")
        payload = src.read(n)
        if len(payload) < n:
            break
        if not live:
            continue
        try:
            data = _encode_lines(format_items(marshal.loads(payload), base))
        except Exception:
            continue
        payload = None
        for s in list(live):
            try:
                s.write(data, side)
            except Exception as e:
                live.remove(s)
                try:
                    s.close()
                except Exception:
                    pass
                if not said:
                    said = True
                    try:
                        os.write(2, ("asynctrace: the trace output failed (%s); the program continues "
                                     "untraced\n" % (getattr(e, "strerror", None) or e)).encode("utf-8", "replace"))
                    except OSError:
                        pass
        if not live:
            return 3
    for s in live:
        try:
            s.close()
        except Exception:
            pass
    return 0


class _NotOurs(OSError):
    """A descriptor of ours now names something else: the program closed it (a daemon's
    os.closerange) and may have opened its own file under the same number."""

    def __init__(self, fd):
        OSError.__init__(self, "the program closed the trace's descriptor %d" % fd)
        self.strerror = "the program closed the trace's descriptor %d" % fd


def _identity(fd):
    st = os.fstat(fd)
    return (st.st_dev, st.st_ino)


def _check_ours(fd, ident):
    """Raise _NotOurs unless `fd` is still the file/pipe/socket it was when we opened it: the
    runtime never writes into (or reads from) a descriptor the program took over."""
    try:
        if _identity(fd) == ident:
            return
    except OSError:
        pass
    raise _NotOurs(fd)


class PipeSink:
    """The parent's end of the pipe to the formatter process. Frames must reach the pipe whole
    and in order: what a non-blocking write could not place waits in `pending`, written first
    next time (callers hold the writer's lock)."""

    def __init__(self, fd, formatter, writer):
        self.fd = fd
        self.ident = _identity(fd)
        self.formatter = formatter
        self.pending = None
        os.set_blocking(fd, False)
        try:
            # A roomy pipe: each time it fills, the writer thread waits and must win the GIL back.
            import fcntl
            fcntl.fcntl(fd, getattr(fcntl, "F_SETPIPE_SZ", 1031), 1 << 20)
        except Exception:
            pass

    def try_write(self, data):
        """Write the pending bytes, then `data` (None: nothing new), as far as they fit now;
        never wait (the program's own thread calls this). False when something is left."""
        if self.pending is not None:
            view = self._put(self.pending)
            if view:
                self.pending = view if data is None else memoryview(bytes(view) + bytes(data))
                return False
            self.pending = None
        if data is None:
            return True
        view = self._put(memoryview(data))
        if view:
            self.pending = view
            return False
        return True

    def _put(self, view):
        _check_ours(self.fd, self.ident)
        while view:
            try:
                n = _write(self.fd, view)
            except (BlockingIOError, InterruptedError):
                break
            except BrokenPipeError:
                raise _FormatterGone(self.formatter.wait(1.0))
            view = view[n:]
        return view

    def write(self, data, writer):
        if self.pending is not None:
            view, self.pending = self.pending, None
            self._write_all(view, writer)
        self._write_all(memoryview(data), writer)

    def _write_all(self, view, writer):
        fd = self.fd
        _check_ours(fd, self.ident)
        try:
            _send_waiting(view, fd, lambda v: _write(fd, v), writer)
        except BrokenPipeError:
            raise _FormatterGone(self.formatter.wait(1.0))

    def close(self):
        if self.fd is not None:
            try:
                _check_ours(self.fd, self.ident)  # never close the program's own file
                os.close(self.fd)
            except OSError:
                pass
            self.fd = None

    detach = close


class _FormatterGone(Exception):
    """The formatter process ended early. If it ended with status 3 it already said why."""

    def __init__(self, status):
        reported = False
        try:
            reported = status == 3
        except Exception:
            pass
        self.reported = reported
        self.strerror = "the trace writer process ended"
        Exception.__init__(self, self.strerror)


class FileSink:
    kind = "file"

    def __init__(self, path, fd=None):
        self.path = path
        if fd is None:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | getattr(os, "O_CLOEXEC", 0), 0o644)
        self.fd = fd
        self.ident = _identity(fd)

    def fileno(self):
        return self.fd

    def write(self, data, writer):
        fd = self.fd
        _check_ours(fd, self.ident)
        view = memoryview(data)
        while view:
            n = os.write(fd, view)
            view = view[n:]

    def close(self):
        if self.fd is not None:
            try:
                _check_ours(self.fd, self.ident)  # never close the program's own file
                os.close(self.fd)
            except OSError:
                pass
            self.fd = None

    detach = close


def _send_waiting(view, waitable, send, writer):
    """Write all of `view` through a non-blocking `send`, waiting for room with select. While
    the reader is slow the writer is told so (the program need not make room for it) and keeps
    its buffer bounded; past the writer's deadline (closing) a stuck reader is given up."""
    while view:
        _, w, _ = _select([], [waitable], [], 0.1)
        if not w:
            writer.stalled = True
            writer.trim()
            if writer.deadline is not None and time.monotonic() > writer.deadline:
                raise TimeoutError("the trace reader stopped reading")
            continue
        try:
            n = send(view)
        except (BlockingIOError, InterruptedError):
            continue
        view = view[n:]
        writer.stalled = False


class SocketSink:
    kind = "socket"

    def fileno(self):
        return self.sock.fileno()

    def __init__(self, sock):
        self.sock = sock
        self.ident = _identity(sock.fileno())
        sock.setblocking(False)

    def write(self, data, writer):
        _check_ours(self.sock.fileno(), self.ident)
        _send_waiting(memoryview(data), self.sock, self.sock.send, writer)

    def close(self):
        try:
            _check_ours(self.sock.fileno(), self.ident)
            self.sock.setblocking(True)
            self.sock.close()
        except Exception:
            try:
                self.sock.detach()  # not ours any more: forget the number, close nothing
            except Exception:
                pass

    def detach(self):
        # Only this process's descriptor: the blocking mode is shared with the formatter's.
        try:
            os.close(self.sock.detach())
        except Exception:
            pass


class Recorder:
    def __init__(self, writer, block_ms=100):
        self._writer = writer
        # Records of four items, each appended by one extend (atomic under the GIL), formatted
        # by the writer (see format_items). The hottest path appends a step record itself:
        # (task id, start ns, end ns, rest of the line).
        self.emit_step = ext = writer.buf.extend

        def emit_line(line):
            ext((line, None, None, None))
        self.emit_line = emit_line
        self.buf = writer.buf
        # Above flush_at waiting items the hooks call flush(): relieve() at half the bound (room
        # to spare), or the earlier hand-over to a formatter process (see start).
        self.flush_at = max(4096, writer.limit // 2)
        self.flush = writer.relieve
        self.block_us = int(block_ms * 1000)
        self.block_ms = block_ms
        self.pid = os.getpid()
        self._t0 = _ns()
        writer.base = self._t0
        self._ids = {"site": 0}
        # next() on itertools.count is atomic under the GIL: no lock on the hot path.
        self.new_task_id = itertools.count(1).__next__
        self.new_timeout_id = itertools.count(1).__next__
        self.new_loop_id = itertools.count(1).__next__
        self._lock = _thread.allocate_lock()
        self._user_cache = {}      # id(code) -> bool
        self._keep = []            # code objects whose ids key the caches
        self._site_cache = {}      # (id(code), lineno) -> site id
        self._roots = _library_roots()
        self._providers = []
        self._finalizers = []
        self._asyncio_current = None
        self.enabled = True
        self.exit_code = 0
        self.exit_error = None
        self._finished = False

    def add_ticker(self, fn, period):
        """Run fn() on the writer's thread (it must not raise) after the seconds it returns, or
        about every `period` seconds when it returns None."""
        self._writer.add_ticker(fn, period)

    def start(self):
        """Start the writer; then the hooks read flush_at/flush: above flush_at waiting items
        they call flush()."""
        w = self._writer
        w.start()
        if w.child is not None:
            self.flush_at = min(8192, self.flush_at)
            self.flush = w.flush_inline

    # -- ids and clock ------------------------------------------------------------------
    def now_us(self):
        return (_ns() - self._t0) // 1000

    # -- output -------------------------------------------------------------------------
    def emit(self, line):
        try:
            self.emit_line(line)
        except Exception:
            pass

    @staticmethod
    def jstr(s):
        try:
            return _encode_str(s if type(s) is str else str(s))
        except Exception:
            return '""'

    # -- user code and sites ------------------------------------------------------------
    def is_user_code(self, code):
        r = self._user_cache.get(id(code))
        if r is None:
            r = self._classify(code)
            self._keep.append(code)
            self._user_cache[id(code)] = r
        return r

    def _classify(self, code):
        fn = code.co_filename
        if not fn or fn.startswith("<frozen") or fn.startswith("<asynctrace"):
            return False
        if fn.startswith("<"):
            return True  # exec'd source, notebooks: the user's
        if "site-packages" in fn or "dist-packages" in fn:
            return False
        p = fn if os.path.isabs(fn) else os.path.abspath(fn)
        if p.startswith(self._roots):
            return False
        rp = os.path.realpath(p)
        if rp.startswith(self._roots):
            return False
        parts = rp.split(os.sep)
        if "gevent" in parts or "greenlet" in parts:
            return False
        return True

    def site_of_code(self, code, lineno):
        key = (id(code), lineno)
        sid = self._site_cache.get(key)
        if sid is not None:
            return sid
        if not self.is_user_code(code):
            return None
        with self._lock:
            sid = self._site_cache.get(key)
            if sid is not None:
                return sid
            self._ids["site"] += 1
            sid = self._ids["site"]
            fn = code.co_filename
            if not fn.startswith("<") and not os.path.isabs(fn):
                fn = os.path.abspath(fn)
            func = getattr(code, "co_qualname", code.co_name)
            self.emit('{"type":"site","id":%d,"file":%s,"line":%d,"func":%s}'
                      % (sid, self.jstr(fn), lineno or 0, self.jstr(func)))
            self._site_cache[key] = sid
        return sid

    def site_of_frame(self, frame):
        is_user = self.is_user_code
        while frame is not None:
            code = frame.f_code
            if is_user(code):
                return self.site_of_code(code, frame.f_lineno)
            frame = frame.f_back
        return None

    def stack_sites(self, frame, limit=32):
        out = []
        is_user = self.is_user_code
        while frame is not None and len(out) < limit:
            code = frame.f_code
            if is_user(code):
                out.append(self.site_of_code(code, frame.f_lineno))
            frame = frame.f_back
        out.reverse()
        return out

    def site_of_traceback(self, tb):
        """The innermost user line of a traceback (where an exception was raised)."""
        site = None
        n = 0
        while tb is not None and n < 1000:
            code = tb.tb_frame.f_code
            if self.is_user_code(code):
                site = (code, tb.tb_lineno)
            tb = tb.tb_next
            n += 1
        if site is None:
            return None
        return self.site_of_code(site[0], site[1])

    # -- current task -------------------------------------------------------------------
    def current_task_id(self):
        f = self._asyncio_current
        if f is not None:
            try:
                t = f()
                if t is not None:
                    return t
            except Exception:
                pass
        for p in self._providers:
            try:
                t = p()
                if t is not None:
                    return t
            except Exception:
                pass
        return None

    def set_asyncio_current(self, fn):
        self._asyncio_current = fn

    def add_current_task_provider(self, fn):
        self._providers.append(fn)

    def add_finalizer(self, fn):
        self._finalizers.append(fn)

    # -- end of run ---------------------------------------------------------------------
    def finish(self, code=None, error=None):
        """Write the exit line and flush. Safe to call more than once; only the first counts."""
        if self._finished or os.getpid() != self.pid:
            return
        self._finished = True
        if code is not None:
            self.exit_code = code
        if error is not None:
            self.exit_error = error
        for fn in self._finalizers:
            try:
                fn()
            except Exception:
                pass
        err = ""
        if self.exit_error is not None:
            et, em = self.exit_error
            err = ',"error":{"type":%s,"message":%s}' % (self.jstr(et), self.jstr(em))
        ts = self.now_us()
        code = _as_int(self.exit_code)
        self._writer.close(lambda dropped: '{"type":"exit","ts":%d,"code":%d,"dropped":%d%s}'
                           % (ts, code, dropped, err))


def _as_int(code):
    try:
        return int(code)
    except Exception:
        return 1


def install(recorder):
    global _RECORDER
    _RECORDER = recorder


def uninstall():
    global _RECORDER
    _RECORDER = None
