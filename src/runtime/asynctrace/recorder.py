"""The recorder: ids, clock, user-code sites and the buffered trace writer.

Shared by the asyncio hooks and the greenlet hooks. Everything on a hot path is a dict lookup
keyed by ``id(code)`` (the code object is kept alive so its id is never reused) and
%-formatting; the writing happens on a separate thread so a slow reader never stalls the program.
"""
import _thread
import itertools
import os
import sys
import time

_RECORDER = None

_ns = time.perf_counter_ns


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


class _Writer:
    """Moves lines from the shared list to the sinks on its own thread.

    The program thread only ever appends to ``buf`` (atomic under the GIL). This thread takes
    ``buf[:n]`` and deletes it (both atomic), joins and writes. When more than ``limit`` lines
    are waiting the oldest non-``site`` lines are dropped and counted (sites must stay declared
    before use, and there are few of them).
    """

    def __init__(self, sinks, limit=None, interval=0.02):
        if limit is None:
            try:
                limit = int(os.environ.get("ASYNCTRACE_BUFFER_LINES", "")) or 100000
            except ValueError:
                limit = 100000
        self.buf = []
        self.batch = 65536
        self.sinks = list(sinks)  # objects with write(bytes) and close()
        self.limit = limit
        self.interval = interval
        self.dropped = 0
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

    def start(self):
        self._thread = _thread.start_new_thread(self._run, ())

    def _take(self, most=None):
        buf = self.buf
        n = len(buf)
        if not n:
            return None
        if n > self.limit:
            # The program outruns the reader: drop the oldest lines but keep `site` lines.
            extra = n - self.limit
            head = buf[:extra]
            del buf[:extra]
            keep = [ln for ln in head if ln.startswith('{"type":"site"')]
            self.dropped += extra - len(keep)
            if keep:
                buf[0:0] = keep
            n = len(buf)
        if most is not None and n > most:
            n = most
        chunk = buf[:n]
        del buf[:n]
        return chunk

    def _write_chunk(self, chunk):
        # backslashreplace turns a lone surrogate into its JSON escape: the output stays UTF-8
        data = ("\n".join(chunk) + "\n").encode("utf-8", "backslashreplace")
        for s in list(self.sinks):
            try:
                s.write(data, self)
            except Exception as e:  # disk full, reader gone: keep the program running
                self.sinks.remove(s)
                try:
                    s.close()
                except Exception:
                    pass
                if self.on_broken:
                    self.on_broken(s, e, not self.sinks)
        if not self.sinks:
            self.broken = True

    def _run(self):
        try:
            batch = self.batch
            while not self._stop:
                if len(self.buf) < 1024:
                    self._wake.acquire(True, self.interval)
                # Bounded batches keep the joined text and its bytes small (memory); each batch
                # costs a GIL hand-over (~5 ms), so take all that waits up to the bound.
                with self._wlock:
                    chunk = self._take(batch)
                    if self._took.locked():
                        try:
                            self._took.release()
                        except RuntimeError:
                            pass
                    if chunk and not self.broken:
                        self.writing = True
                        try:
                            self._write_chunk(chunk)
                        finally:
                            self.writing = False
                            if self._took.locked():
                                try:
                                    self._took.release()  # a program waiting in relieve goes on
                                except RuntimeError:
                                    pass
                chunk = None
        finally:
            self._done.release()

    def relieve(self):
        """Called by the program thread when many lines wait: wake this thread and give it the
        GIL until it took a batch. A loop that polls its selector releases and retakes the GIL
        in a moment, which can starve this thread for the whole run (all lines over the bound
        dropped); a short wait here keeps the lines instead."""
        if self._thread is None or self._stop or self.broken or self.stalled:
            return  # stalled: a slow reader, not the GIL, holds this thread back
        now = time.monotonic()
        if now < self._next_relief:
            return
        if self.writing:
            # It may be waiting for the GIL between two writes: a short wait, at most one in
            # every 5 ms, so a slow reader costs the program a bounded share of its time.
            self._next_relief = now + 0.005
            self._took.acquire(True, 0.002)
            return
        try:
            self._wake.release()
        except RuntimeError:
            pass
        self._took.acquire(True, 0.05)

    def trim(self):
        """Called by a sink while it waits on a slow reader: bound the waiting lines."""
        if len(self.buf) > self.limit:
            extra = len(self.buf) - self.limit
            head = self.buf[:extra]
            del self.buf[:extra]
            keep = [ln for ln in head if ln.startswith('{"type":"site"')]
            self.dropped += extra - len(keep)
            if keep:
                self.buf[0:0] = keep

    def close(self, last=None, timeout=5.0):
        """Flush everything written so far, then `last(dropped)` (the exit line, which so
        carries the final count of dropped lines), then close the sinks."""
        self.deadline = time.monotonic() + timeout  # a stuck reader gives up after this
        self._stop = True
        try:
            self._wake.release()
        except RuntimeError:
            pass
        if self._thread is not None:
            self._done.acquire(True, timeout)
        with self._wlock:
            while self.buf and not self.broken:
                chunk = self._take(self.batch)
                if chunk:
                    self._write_chunk(chunk)
            if last is not None and not self.broken:
                self._write_chunk([last(self.dropped)])
            for s in self.sinks:
                try:
                    s.close()
                except Exception:
                    pass
            self.sinks = []



class FileSink:
    def __init__(self, path):
        self.path = path
        self.fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | getattr(os, "O_CLOEXEC", 0), 0o644)

    def write(self, data, writer):
        fd = self.fd
        view = memoryview(data)
        while view:
            n = os.write(fd, view)
            view = view[n:]

    def close(self):
        if self.fd is not None:
            os.close(self.fd)
            self.fd = None


class SocketSink:
    def __init__(self, sock):
        self.sock = sock
        sock.setblocking(False)

    def write(self, data, writer):
        import select
        view = memoryview(data)
        sock = self.sock
        while view:
            _, w, _ = select.select([], [sock], [], 0.1)
            if not w:
                writer.stalled = True  # the program need not make room for this thread
                writer.trim()  # the reader is slow: keep memory bounded meanwhile
                if writer.deadline is not None and time.monotonic() > writer.deadline:
                    raise TimeoutError("the trace reader stopped reading")
                continue
            try:
                n = sock.send(view)
            except (BlockingIOError, InterruptedError):
                continue
            view = view[n:]
            writer.stalled = False

    def close(self):
        try:
            self.sock.setblocking(True)
            self.sock.close()
        except Exception:
            pass


class Recorder:
    def __init__(self, writer, block_ms=100):
        self._writer = writer
        self.emit_line = writer.buf.append  # the hot path: one list append
        self.buf = writer.buf
        # Above this many waiting lines the hooks call relieve() (half the bound: room to spare).
        self.high_water = max(1024, writer.limit // 2)
        self.relieve = writer.relieve
        self.block_us = int(block_ms * 1000)
        self.block_ms = block_ms
        self.pid = os.getpid()
        self._t0 = _ns()
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
