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

# The parts of the writing path live in their own modules; their names stay reachable here.
from .lines import STEP_FMT, _encode_lines, _encode_str, _fmt_done, _fmt_task, _jstr, _null, format_items  # noqa: E402,F401
from .sinks import FileSink, PipeSink, SocketSink, _FormatterGone, _check_ours, _identity, _NotOurs, _send_waiting  # noqa: E402,F401
from .formatter import _Formatter, _encode_raw, _formatter_wanted, formatter_process  # noqa: E402,F401
from .writer import _KEEP, _Writer  # noqa: E402,F401


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
        # next() on itertools.count is atomic under the GIL: no lock on the hot path.
        self.new_task_id = itertools.count(1).__next__
        self.new_timeout_id = itertools.count(1).__next__
        self.new_loop_id = itertools.count(1).__next__
        self.new_site_id = itertools.count(1).__next__
        self.new_obj_id = itertools.count(1).__next__  # objects tasks wait on (aio/objects.py)
        self._user_cache = {}      # id(code) -> bool
        self._keep = []            # code objects whose ids key the caches
        self._site_cache = {}      # (id(code), lineno) -> site id
        self._roots = _library_roots()
        # `python -c` (a Python child of the run): its program is `<string>` code (see _is_user_source).
        self._dash_c = bool(sys.argv) and sys.argv[0] == "-c"
        self._dash_c_codes = None
        self._dash_c_tries = 0
        self._main_ident = _thread.get_ident()
        self._providers = []
        self._finalizers = []
        self._asyncio_current = None
        self.enabled = True
        self.exit_code = 0
        self.exit_error = None
        self.exit_exec = False  # the program replaced itself (os.exec*)
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
            return self._is_user_source(code, fn)
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

    def _is_user_source(self, code, fn):
        """Code compiled from a string. The program's own: a script read from stdin, a notebook
        cell, the program of `python -c` (its module code and what it defines). Not the user's:
        what libraries generate at run time (dataclasses' __init__, namedtuple's __new__,
        pydantic/attrs/FastAPI helpers, mostly `<string>`): sites and await stacks go past it
        to the user's line that called it."""
        if fn == "<stdin>" or fn.startswith("<ipython-input-"):
            return True
        if fn != "<string>" or not self._dash_c:
            return False
        codes = self._dash_c_codes
        if codes is None:
            codes = self._find_dash_c_codes()
        return codes is not None and id(code) in codes

    def _find_dash_c_codes(self):
        """Ids of the `python -c` program's code objects, from its module frame at the bottom of
        the main thread's stack (None while it cannot be seen; looked for a few times only)."""
        self._dash_c_tries += 1
        if self._dash_c_tries > 8:
            self._dash_c = False
            return None
        try:
            f = sys._current_frames().get(self._main_ident)
            while f is not None and f.f_back is not None:
                f = f.f_back
        except Exception:
            f = None
        if f is None or f.f_code.co_filename != "<string>" or f.f_code.co_name != "<module>":
            return None
        ids = set()
        todo = [f.f_code]
        while todo:
            c = todo.pop()
            if id(c) in ids:
                continue
            ids.add(id(c))
            self._keep.append(c)
            todo.extend(k for k in c.co_consts if type(k) is type(c))
        self._dash_c_codes = ids
        return ids

    def site_of_code(self, code, lineno):
        key = (id(code), lineno)
        sid = self._site_cache.get(key)
        if sid is not None:
            return sid
        if not self.is_user_code(code):
            return None
        # No lock: a signal handler of the program may run here (between two bytecodes) and
        # need a site too; a lock would wait on itself. Two threads missing the cache at once
        # declare the place twice, under two ids: each declared before use.
        sid = self.new_site_id()
        fn = code.co_filename
        if not fn.startswith("<") and not os.path.isabs(fn):
            fn = os.path.abspath(fn)
        func = getattr(code, "co_qualname", code.co_name)
        self.emit('{"type":"site","id":%d,"file":%s,"line":%d,"func":%s}'
                  % (sid, self.jstr(fn), lineno or 0, self.jstr(func)))
        self._site_cache[key] = sid
        return sid

    def site_of_frame(self, frame):
        # (The cache read inline: hooks on hot paths walk the same few library frames per call.)
        known = self._user_cache
        is_user = self.is_user_code
        while frame is not None:
            code = frame.f_code
            u = known.get(id(code))
            if u is None:
                u = is_user(code)
            if u:
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
        if self.exit_exec:
            err += ',"exec":true'
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
