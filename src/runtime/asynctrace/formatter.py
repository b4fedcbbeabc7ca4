"""The formatter process: a fresh interpreter, not the program's child, that turns the records the
program hands over (marshalled, through a pipe) into JSON lines and writes them to the sinks, so
the program pays for neither the formatting nor the waiting on a slow reader."""
import marshal
import os
import select
import sys
import time

from .lines import _encode_lines, format_items
from .sinks import FileSink, SocketSink, _check_ours, _identity

_select = select.select
_spawn = getattr(os, "posix_spawn", None)
_waitpid = getattr(os, "waitpid", None)


def _encode_raw(chunk):
    try:
        data = marshal.dumps(chunk)
    except ValueError:
        # An item marshal cannot carry (a bug of ours): hand over the lines formatted here.
        lines = []
        for ln in format_items(chunk, _recorder_base()):
            lines.extend((ln, None, None, None))
        data = marshal.dumps(lines)
    return len(data).to_bytes(8, "little") + data


def _recorder_base():
    from . import recorder  # the package's recorder (imported by then: it made the chunk)
    r = recorder._RECORDER
    return r._t0 if r is not None else 0


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
