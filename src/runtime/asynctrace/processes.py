"""One run, many processes: the program's Python children record into the same run.

Every process of a run writes its own stream, which starts with a `run` line naming the process
(pid, parent pid, how it started, the run's id, the wall clock time of its ts 0):
- with `-o TRACE`, the main process writes TRACE and each child writes TRACE.processes/PID.jsonl;
- with `--connect`, each child opens its own connection to the same listener with the same token.
Streams never share a descriptor, so a child that is killed or outlives the parent leaves its own
lines intact and can never corrupt the parent's.

How children are followed:
- forked children (os.fork, multiprocessing's fork, gunicorn/uvicorn workers, the workers of a
  forkserver): the fork hook gives the child its own outputs and a new writer; the hooks stay;
- executed Python children (subprocess, asyncio subprocesses, multiprocessing's spawn and
  forkserver): the process environment (not os.environ: the program sees its own) carries this
  runtime's bootstrap directory first on PYTHONPATH and the run's settings in ASYNCTRACE_CHILD;
  its sitecustomize (see _boot/) restores what the program would see and starts tracing.
"""
import os
import sys
import time

ENV_KEY = "ASYNCTRACE_CHILD"
_BOOT_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "_boot")
_CHILD_NAME = "%d.jsonl"

_cfg = None        # the run's settings: out, connect, token, blockMs, runId (see start_main)
_state = {"start": "main", "forkserver": False}


def companion_dir(out):
    """Where the children of a run traced to `out` write their streams."""
    return out + ".processes"


def run_fields(rec):
    """The process fields of this process's `run` line."""
    j = rec.jstr
    now_ns = time.time_ns()
    t0 = now_ns // 1000 - rec.now_us()  # wall clock (us since the epoch) of ts 0
    run_id = _cfg["runId"] if _cfg else ""
    return (',"runId":%s,"t0":%d,"ppid":%d,"start":%s'
            % (j(run_id), t0, os.getppid(), j(_state["start"])))


def start_main(rec, opts, token, on_fork_untraced, sinks=()):
    """In the main process, before the program runs: remember the run's outputs for the
    children, export them to executed children, clean the children's files of an earlier run,
    and follow forks (`on_fork_untraced(rec)`: what a child whose tracing fails does)."""
    global _cfg
    out = opts.get("output")
    for s in sinks:  # the default file name is chosen when it is opened
        out = out or getattr(s, "path", None)
    cfg = {"out": os.path.abspath(out) if out else None,
           "connect": list(opts["connect"]) if opts.get("connect") else None,
           "token": token or "", "blockMs": opts.get("block_ms", 100.0),
           "runId": os.urandom(8).hex()}
    _cfg = cfg
    if cfg["out"]:
        _clean_companions(cfg["out"])
    _export(cfg, os.environ.get("PYTHONPATH"))
    _follow_forks(rec, on_fork_untraced)


def _clean_companions(out):
    d = companion_dir(out)
    try:
        names = os.listdir(d)
    except OSError:
        return
    for n in names:
        stem = n[:-6] if n.endswith(".jsonl") else ""
        if stem.replace("-", "").isdigit():
            try:
                os.unlink(os.path.join(d, n))
            except OSError:
                pass
    try:
        os.rmdir(d)
    except OSError:
        pass


def _export(cfg, program_pythonpath):
    """Put the bootstrap and the settings in the process environment that executed children
    inherit, leaving os.environ (what the program reads and copies) as it was."""
    data = dict(cfg)
    data["pp"] = program_pythonpath  # PYTHONPATH as the program knows it (None: unset)
    try:
        os.putenv(ENV_KEY, _to_json(data))
        os.putenv("PYTHONPATH", _BOOT_DIR + (os.pathsep + program_pythonpath if program_pythonpath else ""))
    except Exception:
        pass


def _to_json(value):
    """JSON text of the settings (strings, numbers, None, lists, dicts). Not the json package:
    importing it is a few milliseconds of every traced run's start, which a program that never
    uses json would not pay; the children read it with json.loads."""
    from .lines import _jstr
    if value is None:
        return "null"
    if value is True or value is False:
        return "true" if value else "false"
    if isinstance(value, str):
        return _jstr(value)
    if isinstance(value, int):
        return str(int(value))
    if isinstance(value, float):
        if value != value:
            return "NaN"
        if value in (float("inf"), float("-inf")):
            return "Infinity" if value > 0 else "-Infinity"
        return repr(value)
    if isinstance(value, dict):
        return "{%s}" % ",".join("%s:%s" % (_jstr(str(k)), _to_json(v)) for k, v in value.items())
    if isinstance(value, (list, tuple)):
        return "[%s]" % ",".join(_to_json(v) for v in value)
    return _jstr(str(value))


def _follow_forks(rec, on_fork_untraced):
    _watch_reaping(rec)
    if not hasattr(os, "register_at_fork"):
        return

    def child():
        try:
            ok = _after_fork(rec)
        except Exception:
            ok = False
        if not ok:
            on_fork_untraced(rec)

    os.register_at_fork(after_in_child=child)


def _watch_reaping(rec):
    """A child killed by a signal writes no exit line (it runs no code of ours at its end): when
    the program collects such a child's status (os.waitpid and the like: subprocess,
    multiprocessing, asyncio's child watchers all do), this process's stream says so in a
    `reaped` line, which readers take as that child's end. The program sees the same results."""
    if not hasattr(os, "WIFSIGNALED") or getattr(os.waitpid, "_asynctrace", False):
        return
    import signal
    sigterm = getattr(signal, "Signals", None)

    def note(res):
        try:
            pid, status = res[0], res[1]
            if pid > 0 and os.WIFSIGNALED(status) and rec.enabled and os.getpid() == rec.pid:
                sig = os.WTERMSIG(status)
                try:
                    name = sigterm(sig).name
                except Exception:
                    name = "signal %d" % sig
                rec.emit('{"type":"reaped","ts":%d,"pid":%d,"code":%d,"signal":%s}'
                         % (rec.now_us(), pid, 128 + sig, rec.jstr(name)))
        except Exception:
            pass

    for name in ("waitpid", "wait", "wait3", "wait4"):
        real = getattr(os, name, None)
        if real is None:
            continue

        def wait(*args, _real=real, **kwargs):
            res = _real(*args, **kwargs)
            note(res)
            return res

        wait.__wrapped__ = real
        wait.__name__ = real.__name__
        wait.__doc__ = real.__doc__
        wait._asynctrace = True
        setattr(os, name, wait)


# -- outputs ----------------------------------------------------------------------------------
def _open_sinks(cfg):
    from . import recorder as _rec
    sinks = []
    try:
        if cfg.get("out"):
            d = companion_dir(cfg["out"])
            os.makedirs(d, exist_ok=True)
            pid = os.getpid()
            flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0)
            for i in range(1, 100):
                name = _CHILD_NAME % pid if i == 1 else "%d-%d.jsonl" % (pid, i)  # a reused pid
                try:
                    fd = os.open(os.path.join(d, name), flags, 0o644)
                    break
                except FileExistsError:
                    continue
            else:
                raise OSError("no free file name in %s" % d)
            sinks.append(_rec.FileSink(None, fd))
        if cfg.get("connect"):
            import socket
            host, port = cfg["connect"]
            s = socket.create_connection((host, int(port)), timeout=10)
            try:
                s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                s.sendall((cfg.get("token", "") + "\n").encode("utf-8"))
            except Exception:
                s.close()
                raise
            sinks.append(_rec.SocketSink(s))
    except Exception:
        for s in sinks:
            try:
                s.close()
            except Exception:
                pass
        raise
    return sinks


def _header(rec, argv):
    from . import FORMAT_VERSION, __version__
    j = rec.jstr
    now = time.time()
    started = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(now)) + ".%03dZ" % (int(now * 1000) % 1000)
    bm = rec.block_ms
    try:
        cwd = os.getcwd()
    except OSError:
        cwd = ""
    rec.emit('{"type":"run","v":%d,"pid":%d,"python":%s,"argv":[%s],"cwd":%s,"started":%s,"blockMs":%s,'
             '"runtime":%s,"implementation":%s%s}'
             % (FORMAT_VERSION, os.getpid(), j("%d.%d.%d" % sys.version_info[:3]),
                ",".join(j(a) for a in argv), j(cwd), j(started),
                int(bm) if float(bm).is_integer() else repr(float(bm)), j(__version__),
                j(sys.implementation.name), run_fields(rec)))


def _argv():
    argv = list(getattr(sys, "argv", None) or [])
    orig = getattr(sys, "orig_argv", None)
    if orig and len(orig) > 1 and (not argv or argv[0] in ("-c", "")):
        return list(orig[1:])  # `python -c CODE ...`: the whole command line says more
    return argv


# -- forked children --------------------------------------------------------------------------
def _after_fork(rec):
    """In a forked child: new outputs, a new writer on the same buffer (the hooks hold it), this
    process's header, and the sites known so far (the hooks reuse their ids). False: untraced."""
    w = rec._writer
    try:
        w.forget_in_child()  # the parent's outputs and buffered lines are the parent's
    except Exception:
        return False
    if _cfg is None or not rec.enabled:
        return False
    _state["start"] = "forkserver" if _state["forkserver"] else "fork"
    _state["forkserver"] = False
    try:
        sinks = _open_sinks(_cfg)
    except Exception:
        return False
    from . import recorder as _rec
    # Children format on the writer thread: a formatter process would keep the descriptors the
    # child had at the fork (a daemon that closes them right after would still hold them).
    _no_formatter()
    buf, tickers, on_broken, base = w.buf, w._tickers, w.on_broken, w.base
    del buf[:]
    type(w).__init__(w, sinks)
    w.buf, w._tickers, w.on_broken, w.base = buf, tickers, on_broken, base
    rec.pid = os.getpid()
    rec._finished = False
    rec.exit_code = 0
    rec.exit_error = None
    from .writer import _allocate_lock  # (the real one, whatever the program patched)
    rec._lock = _allocate_lock()  # another thread may have held it at the fork
    rec.start()
    _header(rec, _argv())
    _redeclare_sites(rec)
    return True


def _no_formatter():
    from . import recorder as _rec
    _rec._formatter_wanted = lambda: False
    w = sys.modules.get(__package__ + ".writer")
    if w is not None and hasattr(w, "_formatter_wanted"):
        w._formatter_wanted = lambda: False


def _redeclare_sites(rec):
    codes = {}
    for c in list(rec._keep):
        codes[id(c)] = c
    items = sorted(((sid, key) for key, sid in list(rec._site_cache.items())), key=lambda x: x[0])
    j = rec.jstr
    for sid, (cid, lineno) in items:
        code = codes.get(cid)
        if code is None:
            continue
        fn = code.co_filename
        if not fn.startswith("<") and not os.path.isabs(fn):
            fn = os.path.abspath(fn)
        func = getattr(code, "co_qualname", code.co_name)
        rec.emit('{"type":"site","id":%d,"file":%s,"line":%d,"func":%s}' % (sid, j(fn), lineno or 0, j(func)))


def note_forkserver():
    """The multiprocessing forkserver forks its workers: they say `forkserver`, not `fork`."""
    _state["forkserver"] = True


# -- executed children ------------------------------------------------------------------------
def _restore_program_env(cfg):
    """os.environ as the program would see it untraced; the process environment keeps the
    bootstrap so this process's own Python children are followed too."""
    env = os.environ
    data = getattr(env, "_data", None)
    if data is None:
        return
    enc = getattr(env, "encodekey", None) or (lambda k: k)
    encv = getattr(env, "encodevalue", None) or (lambda v: v)
    data.pop(enc(ENV_KEY), None)
    pp = cfg.get("pp") if cfg else None
    if pp is None:
        data.pop(enc("PYTHONPATH"), None)
    else:
        data[enc("PYTHONPATH")] = encv(pp)


def _chain_sitecustomize():
    """Import the sitecustomize this one shadows (Debian ships one), as Python would have."""
    me = sys.modules.get("sitecustomize")
    try:
        import importlib.util
        spec = importlib.util.find_spec("sitecustomize") if me is None else None
        if me is not None:
            del sys.modules["sitecustomize"]
            try:
                import importlib
                importlib.import_module("sitecustomize")
            except ImportError:
                sys.modules["sitecustomize"] = me
        elif spec is not None:
            import importlib
            importlib.import_module("sitecustomize")
    except Exception:
        if me is not None and "sitecustomize" not in sys.modules:
            sys.modules["sitecustomize"] = me


def boot_exec_child(cfg_text, boot_dir):
    """Called by the bootstrap's sitecustomize, before the program's __main__ runs."""
    try:
        _boot_exec_child(cfg_text, boot_dir)
    finally:
        from .rehome import rehome
        rehome(__package__)  # `import asynctrace` is the program's again


def _boot_exec_child(cfg_text, boot_dir):
    cfg = None
    try:
        import json
        cfg = json.loads(cfg_text) if cfg_text else None
        if not isinstance(cfg, dict):
            cfg = None
    except Exception:
        cfg = None
    _restore_program_env(cfg)
    _chain_sitecustomize()
    if cfg is None or not (cfg.get("out") or cfg.get("connect")):
        return
    if sys.version_info < (3, 9):
        return
    try:
        _trace_exec_child(cfg)
    except Exception as e:
        try:
            sys.stderr.write("asynctrace: process %d runs untraced (%s)\n" % (os.getpid(), e))
        except Exception:
            pass


def _start_kind():
    argv = list(getattr(sys, "orig_argv", None) or []) + list(getattr(sys, "argv", None) or [])
    text = " ".join(argv)
    if "--multiprocessing-fork" in argv or "multiprocessing.spawn" in text:
        return "spawn"
    if "multiprocessing.forkserver" in text or "multiprocessing.resource_tracker" in text:
        return "spawn"
    return "exec"


def _trace_exec_child(cfg):
    global _cfg
    import atexit
    from . import recorder as _rec
    from . import cli
    _cfg = cfg
    _state["start"] = _start_kind()
    try:
        block_ms = float(cfg.get("blockMs") or 100.0)
    except (TypeError, ValueError):
        block_ms = 100.0
    sinks = _open_sinks(cfg)
    _no_formatter()  # (see _after_fork)
    writer = _rec._Writer(sinks)
    rec = _rec.Recorder(writer, block_ms=block_ms)
    _rec.install(rec)

    def on_broken(sink, exc, all_gone):
        if all_gone:
            _stop_tracing(rec)

    writer.on_broken = on_broken
    rec.start()
    _header(rec, _argv())
    cli._hook_asyncio(rec)
    cli._hook_greenlet(rec)
    cli._hook_other_libraries(rec)
    atexit.register(rec.finish)
    # (no signal handlers: the program keeps the dispositions it would have untraced)
    cli._patch_os_exit(rec)
    _watch_exit(rec)
    _follow_forks(rec, cli._in_child)
    _watch_forkserver()


def _stop_tracing(rec):
    rec.enabled = False
    for name in ("asyncio_hooks", "executor_hooks", "trio_hooks", "foreign_loops"):
        hooks = sys.modules.get(__package__ + "." + name)
        if hooks is not None:
            try:
                hooks.uninstall()
            except Exception:
                pass
    gh = sys.modules.get(__package__ + ".greenlet_hooks")
    if gh is not None:
        try:
            gh.stop()
        except Exception:
            pass


def _watch_exit(rec):
    """An executed child's exit code and uncaught error (no runner of ours around __main__)."""
    real_exit = sys.exit

    def exit(status=None):
        try:
            if os.getpid() == rec.pid:
                from .cli import _exit_status
                rec.exit_code = _exit_status(status)
        except Exception:
            pass
        real_exit(status)

    exit.__wrapped__ = real_exit
    exit.__doc__ = real_exit.__doc__
    sys.exit = exit
    real_hook = sys.excepthook

    def excepthook(tp, value, tb):
        try:
            if os.getpid() == rec.pid and rec.exit_error is None:
                import signal
                rec.exit_code = 128 + signal.SIGINT if issubclass(tp, KeyboardInterrupt) else 1
                try:
                    msg = str(value)
                except Exception:
                    msg = ""
                rec.exit_error = (tp.__qualname__, msg)
        except Exception:
            pass
        return real_hook(tp, value, tb)

    sys.excepthook = excepthook


def _watch_forkserver():
    """multiprocessing's forkserver forks its workers from forkserver.main: they say `forkserver`."""
    if not hasattr(os, "register_at_fork"):
        return

    def before():
        try:
            f = sys._getframe(1)
            while f is not None:
                c = f.f_code
                if c.co_name == "main" and c.co_filename.endswith(os.path.join("multiprocessing", "forkserver.py")):
                    note_forkserver()
                    return
                f = f.f_back
        except Exception:
            pass

    os.register_at_fork(before=before)
