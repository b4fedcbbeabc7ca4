"""Command line of ``python -m asynctrace``: run a script or module as Python would, traced."""
import atexit
import os
import signal
import sys
import time

from . import FORMAT_VERSION, __version__
from . import processes
from . import recorder as _rec

USAGE = """usage: python -m asynctrace [-o TRACE.jsonl] [--connect HOST:PORT] [--block-ms N] SCRIPT [ARGS...]
       python -m asynctrace [options] -m MODULE [ARGS...]"""

HELP = USAGE + """

Run a Python program exactly as `python SCRIPT ARGS` (or `python -m MODULE ARGS`) would - same
sys.argv, __main__, sys.path[0], standard streams and exit code - while recording the life of
every asyncio task and greenlet (creation, steps, awaits, timeouts, cancellations, ends, steps
that block the event loop) as a JSON Lines trace (format version %d).

options:
  -o, --output FILE     write the trace to FILE (default when --connect is not given:
                        asynctrace-<timestamp>.jsonl in the working directory)
  --connect HOST:PORT   stream the trace to a TCP listener on HOST:PORT; the first line sent is
                        the token from the environment variable ASYNCTRACE_TOKEN (which is
                        removed from the environment before the program runs). May be combined
                        with -o: both receive the same lines.
  --block-ms N          a step that holds the event loop longer than N milliseconds is reported
                        as blocking (default 100)
  -m MODULE             run a library module as a script (ends the options)
  --version             print the runtime and trace format versions
  -h, --help            show this help

Requires Python 3.9 or newer. Tracing never changes what the program prints or returns; if the
trace output breaks the program keeps running untraced and says so once on stderr.""" % FORMAT_VERSION


class UsageError(Exception):
    pass


def _die(msg):
    sys.stderr.write("asynctrace: error: %s\n" % msg)
    sys.exit(2)


def parse_args(argv):
    opts = {"output": None, "connect": None, "block_ms": 100.0, "module": None,
            "script": None, "args": []}
    i = 0
    n = len(argv)

    def value(name):
        nonlocal i
        if i + 1 >= n:
            raise UsageError("option %s needs a value" % name)
        i += 1
        return argv[i]

    while i < n:
        a = argv[i]
        if a in ("-h", "--help"):
            opts["help"] = True
            return opts
        if a == "--version":
            opts["version"] = True
            return opts
        if a == "--":
            i += 1
            break
        if a in ("-o", "--output"):
            opts["output"] = value(a)
        elif a.startswith("--output="):
            opts["output"] = a.split("=", 1)[1]
        elif a.startswith("-o") and len(a) > 2:
            opts["output"] = a[2:]
        elif a == "--connect":
            opts["connect"] = value(a)
        elif a.startswith("--connect="):
            opts["connect"] = a.split("=", 1)[1]
        elif a == "--block-ms":
            opts["block_ms"] = value(a)
        elif a.startswith("--block-ms="):
            opts["block_ms"] = a.split("=", 1)[1]
        elif a == "-m":
            opts["module"] = value(a)
            opts["args"] = argv[i + 1:]
            break
        elif a.startswith("-m") and len(a) > 2:
            opts["module"] = a[2:]
            opts["args"] = argv[i + 1:]
            break
        elif a.startswith("-") and a != "-":
            raise UsageError("unknown option %s (see --help)" % a)
        else:
            break
        i += 1
    if opts["module"] is None:
        if i >= n:
            raise UsageError("no script given (see --help)")
        opts["script"] = argv[i]
        opts["args"] = argv[i + 1:]
    try:
        bm = float(opts["block_ms"])
        if not bm > 0:
            raise ValueError
        opts["block_ms"] = bm
    except ValueError:
        raise UsageError("--block-ms needs a positive number of milliseconds, not %r" % opts["block_ms"])
    if opts["connect"] is not None:
        host, sep, port = opts["connect"].rpartition(":")
        if not sep or not host or not port.isdigit():
            raise UsageError("--connect needs HOST:PORT, not %r" % opts["connect"])
        opts["connect"] = (host.strip("[]"), int(port))
    return opts


def _open_sinks(opts):
    sinks = []
    out = opts["output"]
    if out is None and opts["connect"] is None:
        sinks.append(_default_file_sink())
    elif out is not None:
        try:
            sinks.append(_rec.FileSink(out))
        except OSError as e:
            _die("cannot write the trace to %s: %s" % (out, e.strerror or e))
    if opts["connect"] is not None:
        host, port = opts["connect"]
        import socket
        token = os.environ.pop("ASYNCTRACE_TOKEN", "")
        try:
            s = socket.create_connection((host, port), timeout=10)
            s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            s.sendall((token + "\n").encode("utf-8"))
        except OSError as e:
            for sk in sinks:
                sk.close()
            _die("cannot connect to %s:%d: %s" % (host, port, e.strerror or e))
        sinks.append(_rec.SocketSink(s))
    return sinks


def _default_file_sink():
    """asynctrace-<time>.jsonl in the working directory, created exclusively: two runs started
    in the same second get two files (-2, -3, ...), never one interleaved file."""
    stamp = time.strftime("%Y%m%d-%H%M%S")
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0)
    for n in range(1, 1000):
        name = "asynctrace-%s%s.jsonl" % (stamp, "" if n == 1 else "-%d" % n)
        try:
            return _rec.FileSink(name, os.open(name, flags, 0o644))
        except FileExistsError:
            continue
        except OSError as e:
            _die("cannot write the trace to %s: %s" % (name, e.strerror or e))
    _die("cannot find a free name for the trace in %s; give one with -o" % os.getcwd())


def _header(opts, argv0):
    rec = _rec.get_recorder()
    j = rec.jstr
    now = time.time()
    started = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(now)) + ".%03dZ" % (int(now * 1000) % 1000)
    bm = opts["block_ms"]
    fields = ['"type":"run"', '"v":%d' % FORMAT_VERSION, '"pid":%d' % os.getpid(),
              '"python":%s' % j("%d.%d.%d" % sys.version_info[:3]),
              '"argv":[%s]' % ",".join(j(a) for a in [argv0] + list(opts["args"])),
              '"cwd":%s' % j(os.getcwd()),
              '"started":%s' % j(started),
              '"blockMs":%s' % (int(bm) if float(bm).is_integer() else repr(float(bm))),
              '"runtime":%s' % j(__version__),
              '"implementation":%s' % j(sys.implementation.name)]
    if opts["module"]:
        fields.append('"module":%s' % j(opts["module"]))
    rec.emit("{" + ",".join(fields) + processes.run_fields(rec) + "}")


_PKG_DIR = os.path.dirname(os.path.abspath(__file__))


def _strip_tb(tb):
    """Drop the runtime's own frames (and runpy's for scripts) from the top of a traceback."""
    while tb is not None:
        fn = tb.tb_frame.f_code.co_filename
        if fn.startswith("<") or os.path.dirname(os.path.abspath(fn)) != _PKG_DIR:
            break
        tb = tb.tb_next
    return tb


def _exit_status(code):
    if code is None:
        return 0
    if isinstance(code, int):
        return code
    return 1


def _kill_self(signum):
    """Die of `signum` after the trace is written, as the untraced program would have."""
    try:
        sys.stdout.flush()
    except Exception:
        pass
    try:
        sys.stderr.flush()
    except Exception:
        pass
    signal.signal(signum, signal.SIG_DFL)
    os.kill(os.getpid(), signum)


def _patch_os_exit(rec):
    real = os._exit

    def _exit(status):
        try:
            if os.getpid() == rec.pid:
                rec.finish(status)
        except BaseException:
            pass
        real(status)

    _exit.__wrapped__ = real
    os._exit = _exit


def _patch_exec(rec):
    """os.exec* replaces the program: the trace ends there, with its exit line (every exec
    function of os goes through execv or execve, looked up on the module)."""
    for name in ("execv", "execve"):
        real = getattr(os, name, None)
        if real is None:
            continue

        def exec_(*args, _real=real):
            try:
                if os.getpid() == rec.pid and not rec._finished:
                    rec.exit_exec = True
                    rec.finish(0)
                    _stop_hooks()  # if the exec fails, the program goes on untraced
            except BaseException:
                pass
            return _real(*args)

        exec_.__wrapped__ = real
        exec_.__name__ = real.__name__
        exec_.__doc__ = real.__doc__
        setattr(os, name, exec_)


def _os_thread_count():
    try:
        with open("/proc/self/stat", "rb") as f:
            return int(f.read().rsplit(b")", 1)[1].split()[17])
    except Exception:
        return None


def _patch_fork_warning():
    """3.12+ warns on fork() in a process with threads. The runtime's writer thread must not
    make a program that is single-threaded untraced see that warning: fork() without it when
    the only other thread is ours (a program with threads of its own is still warned)."""
    if sys.version_info < (3, 12) or not hasattr(os, "fork"):
        return
    import warnings
    real = os.fork

    def fork():
        n = _os_thread_count()
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", DeprecationWarning)
            pid = real()
        if pid != 0 and (n is None or n > 2):
            # The program has threads of its own: warned as untraced, at the caller's line.
            for w in caught:
                warnings.warn(w.message, w.category, stacklevel=2)
        return pid

    fork.__wrapped__ = real
    fork.__doc__ = real.__doc__
    os.fork = fork


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    try:
        opts = parse_args(argv)
    except UsageError as e:
        _die(str(e))
    if opts.get("help"):
        sys.stdout.write(HELP + "\n")
        return
    if opts.get("version"):
        sys.stdout.write("asynctrace %s (trace format version %d)\n" % (__version__, FORMAT_VERSION))
        return

    # Everything that can fail because of bad use is checked before the program starts.
    target = None
    if opts["script"] is not None:
        try:
            target = _Target.of_script(opts["script"])
        except OSError as e:
            _die("cannot open %s: %s" % (opts["script"], e.strerror or e))
        _check_output(opts, target)
    else:
        import importlib.util
        try:
            spec = importlib.util.find_spec(opts["module"])
        except Exception:
            spec = None
        if spec is None:
            # As `python -m` says it, with its exit code.
            sys.stderr.write("%s: No module named %s\n" % (_python_name(), opts["module"]))
            sys.exit(1)

    token = os.environ.get("ASYNCTRACE_TOKEN", "")  # for the children (see processes)
    sinks = _open_sinks(opts)
    writer = _rec._Writer(sinks)
    rec = _rec.Recorder(writer, block_ms=opts["block_ms"])
    _rec.install(rec)
    said = []

    def on_broken(sink, exc, all_gone):
        if not said and not getattr(exc, "reported", False):
            said.append(1)
            try:
                sys.stderr.write("asynctrace: the trace output failed (%s); the program continues untraced\n"
                                 % (getattr(exc, "strerror", None) or exc))
            except Exception:
                pass
        if all_gone:
            rec.enabled = False
            _stop_hooks()

    writer.on_broken = on_broken
    writer.defer_reap = True  # the formatter's shell exits while the runtime gets ready
    rec.start()
    processes.start_main(rec, opts, token, _in_child, sinks)
    argv0 = opts["script"] if target is not None else opts["module"]
    _header(opts, argv0)
    if writer.child is not None:
        # Handed over at once: a program that is killed, or closes the runtime's descriptors,
        # right at its start still leaves a trace that begins with its run line.
        try:
            writer.flush_inline()
        except Exception:
            pass

    _hook_asyncio(rec)
    _hook_greenlet(rec)
    _hook_other_libraries(rec)

    # Registered first so it runs last: re-raise Ctrl-C as the signal, like Python does.
    died_of = []
    atexit.register(lambda: died_of and _kill_self(died_of[0]))
    # After the user's own atexit handlers (LIFO) and after non-daemon threads finished.
    atexit.register(rec.finish)
    # No signal handlers: the program sees the dispositions it would untraced (a handler could
    # interrupt the runtime holding its writer's lock, and waits for a long C call to return).
    # A program dying of a signal leaves its exit line to the formatter process, which writes
    # everything handed over to it and then how the program ended (recorder._exit_of_dead_program).
    _patch_os_exit(rec)
    _patch_exec(rec)
    _patch_fork_warning()

    if target is not None:
        target.prepare(opts["args"])
    else:
        sys.argv[:] = [opts["module"]] + list(opts["args"])
        # `python -m` puts the working directory first, which is what we were started with.
    from .rehome import rehome
    rehome(__package__)  # `import asynctrace` is the program's from now on
    writer.reap_spawned()

    try:
        if target is not None:
            target.run()
        else:
            import runpy
            runpy._run_module_as_main(opts["module"], alter_argv=True)
    except SystemExit as e:
        rec.exit_code = _exit_status(e.code)
        raise
    except KeyboardInterrupt as e:
        rec.exit_code = 128 + signal.SIGINT
        rec.exit_error = ("KeyboardInterrupt", str(e))
        _report(e)
        # Python itself dies of SIGINT after an unhandled KeyboardInterrupt, whatever the
        # program's SIGINT handler: so does the traced program (the trace says 130).
        died_of.append(signal.SIGINT)
        sys.exit(1)
    except BaseException as e:
        rec.exit_code = 1
        try:
            msg = str(e)
        except Exception:
            msg = ""
        rec.exit_error = (type(e).__qualname__, msg)
        _report(e)
        sys.exit(1)


def _python_name():
    orig = getattr(sys, "orig_argv", None)
    return orig[0] if orig else (sys.executable or "python")


class _Target:
    """What `python SCRIPT` would run, prepared as Python prepares it: a source file, a compiled
    .pyc, a directory or zip file with a __main__.py, or `-` (the script read from stdin)."""

    def __init__(self, arg, kind, code=None, source=None, filename=None):
        self.arg = arg
        self.kind = kind  # "source", "pyc", "package" (directory or zip), "stdin"
        self.code = code
        self.source = source
        self.filename = filename
        self.module = None

    @classmethod
    def of_script(cls, arg):
        if arg == "-":
            src = sys.stdin.buffer.read()
            return cls(arg, "stdin", source=src, filename="<stdin>")
        path = os.path.abspath(arg)
        if os.path.isdir(arg):
            if not os.path.exists(os.path.join(arg, "__main__.py")):
                raise OSError(2, "no __main__.py in the directory")
            return cls(arg, "package", filename=path)
        import io
        with io.open_code(arg) as f:
            data = f.read()
        if _is_zip(arg, data):  # also a zipapp with a shebang line before the archive
            return cls(arg, "package", filename=path)
        if arg.endswith((".pyc", ".pyo")) or data[:4] == _magic():
            import marshal
            try:
                code = marshal.loads(data[16:])
            except Exception as e:
                raise OSError(0, "not a valid .pyc file (%s)" % e)
            return cls(arg, "pyc", code=code, filename=path)
        try:
            code = compile(data, path, "exec", dont_inherit=True)
        except SyntaxError:
            code = None  # reported by the program run below, as Python would
        return cls(arg, "source", code=code, source=data, filename=path)

    def prepare(self, args):
        """The __main__ module, sys.argv and sys.path[0] as Python sets them."""
        sys.argv[:] = [self.arg] + list(args)
        if self.kind == "package":
            sys.path[0] = self.arg  # its __main__ runs from there, found by the import system
            return
        import builtins
        import types
        mod = types.ModuleType("__main__")
        d = mod.__dict__
        d.update({"__builtins__": builtins, "__cached__": None, "__spec__": None, "__package__": None})
        if sys.version_info < (3, 14):
            d["__annotations__"] = {}
        if self.kind == "stdin":
            sys.path[0] = ""
        else:
            d["__file__"] = self.filename
            sys.path[0] = os.path.dirname(os.path.realpath(self.arg))
            try:
                from importlib.machinery import SourceFileLoader, SourcelessFileLoader
                loader = SourcelessFileLoader if self.kind == "pyc" else SourceFileLoader
                d["__loader__"] = loader("__main__", self.filename)
            except Exception:
                pass
        sys.modules["__main__"] = mod
        self.module = mod

    def run(self):
        if self.kind == "package":
            import runpy
            runpy._run_module_as_main("__main__", alter_argv=False)
            return
        code = self.code
        if code is None:
            code = compile(self.source, self.filename, "exec", dont_inherit=True)
        exec(code, self.module.__dict__)


def _is_zip(path, data):
    # A zip ends with its end-of-central-directory record (a comment of up to 64 KiB may follow):
    # without its signature, no need to import zipfile (a fifth of the runtime's start-up).
    if b"PK\x05\x06" not in data[-65557:]:
        return False
    import zipfile
    try:
        return zipfile.is_zipfile(path)
    except Exception:
        return False


def _magic():
    import importlib.util
    return importlib.util.MAGIC_NUMBER


def _check_output(opts, target):
    """Refuse an output that would overwrite the program itself."""
    out = opts["output"]
    if out is None or target.kind == "stdin":
        return
    try:
        same = os.path.exists(out) and os.path.samefile(out, target.arg)
    except OSError:
        same = False
    if same or os.path.realpath(out) == os.path.realpath(target.arg):
        _die("the trace output %s is the program itself; choose another file with -o" % out)


def _hook_asyncio(rec):
    def install():
        from . import asyncio_hooks
        asyncio_hooks.install(rec)
        try:
            from . import executor_hooks
            executor_hooks.install(rec)
        except Exception:
            pass

    # (Hooked only when the program imports asyncio: programs that never use it pay nothing,
    # and modules that build on it, such as uvloop, bind the hooked functions.)
    from . import import_watch
    import_watch.when_imported("asyncio", lambda _module: install())


def _hook_greenlet(rec):
    """greenlet/gevent: the hook modules are imported when the program imports one of them (a
    program that never does pays nothing for them)."""
    from . import import_watch
    from .glet.imports import _WATCHED

    def seen(module, name):
        from . import greenlet_hooks
        greenlet_hooks.on_imported(rec, name, module)

    for name in _WATCHED:  # (greenlet first: gevent's setup needs it)
        import_watch.when_imported(name, lambda module, name=name: seen(module, name))


def _hook_other_libraries(rec):
    """trio (and anyio on trio) and the event loops the runtime does not record: hooked when
    the program imports them (trio's hook modules are imported only then)."""
    from . import import_watch

    def trio_seen(_module):
        from . import trio_hooks
        trio_hooks.install(rec)  # (trio has executed: hooked at once)

    import_watch.when_imported("trio", trio_seen)
    try:
        from . import foreign_loops
        foreign_loops.install(rec)
    except Exception:
        pass


def _report(e):
    tb = _strip_tb(e.__traceback__)
    try:
        e.__traceback__ = tb  # the default hook prints the exception's own traceback
        sys.excepthook(type(e), e, tb)
    except Exception:
        pass
    sys.last_type, sys.last_value, sys.last_traceback = type(e), e, tb


def _stop_hooks():
    """Takes every hook out. May run on the writer thread while a hook module is still being
    imported by the program's thread (an early output failure): a module without its function
    yet is skipped, never an error."""
    for name, fn in (("asyncio_hooks", "uninstall"), ("executor_hooks", "uninstall"),
                     ("greenlet_hooks", "stop"),  # greenlet's trace function holds the buffer
                     ("trio_hooks", "uninstall"), ("foreign_loops", "uninstall"),
                     ("import_watch", "stop")):
        mod = sys.modules.get(__package__ + "." + name)
        stop = getattr(mod, fn, None) if mod is not None else None
        if stop is not None:
            try:
                stop()
            except Exception:
                pass


def _in_child(rec):
    # A forked child runs untraced and writes nothing: the parent's trace stays whole.
    _stop_hooks()
    rec.enabled = False
    rec._finished = True
    rec.emit_line = lambda line: None
    rec.emit_step = lambda record: None
    try:
        rec._writer.forget_in_child()
    except Exception:
        pass
    _rec.uninstall()
