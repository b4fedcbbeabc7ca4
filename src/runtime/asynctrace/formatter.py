"""The formatter process: a fresh interpreter, not the program's child, that turns the records the
program hands over (marshalled, through a pipe) into JSON lines and writes them to the sinks, so
the program pays for neither the formatting nor the waiting on a slow reader."""
import marshal
import os
import select
import sys
import time

from .lines import _encode_lines, _jstr, format_items
from .sinks import FileSink, SocketSink, _check_ours, _identity

_select = select.select
_spawn = getattr(os, "posix_spawn", None)
_waitpid = getattr(os, "waitpid", None)
_SHELL = "/bin/sh"
_ns = time.perf_counter_ns


def _encode_raw(chunk):
    # marshal's current format, with references: a step-heavy program repeats the same few await
    # texts in every record, and each is written (and read back by the formatter) once per batch.
    # Format 2 (no references) spares the lookup table, cheaper for an aiohttp server's varied
    # records (3.0 -> 0.6 us per request on the program's thread), but writes and reads every
    # repeat in full: 1,000 tasks x 200 sleep(0) took 20% more CPU with it (684 -> 841 ms).
    try:
        data = marshal.dumps(chunk)
    except ValueError:
        # An item marshal cannot carry (a bug of ours): hand over the lines formatted here.
        lines = []
        for ln in format_items(chunk, _recorder_base()):
            lines.extend((ln, None, None, None))
        data = marshal.dumps(lines)
    return data


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
    the process spawned for it (a shell, or an interpreter) starts it and exits at once (reaped
    here before the program runs), so a program that waits for all its children, or execs,
    never meets it. Its end is known from a pipe it holds: its pid, then its exit status, then
    end of file when it exits."""

    def __init__(self, pid, done_fd):
        self.pid = pid            # None until read from the pipe (when it is needed)
        self.fd = done_fd
        self.ident = _identity(done_fd)
        self.status = None
        self.spawned = None       # the process that starts it, until reaped (reap_spawned)

    @classmethod
    def detach(cls, spawned, done_fd, timeout=10.0, wait_pid=True):
        """Reap the spawned process. With `wait_pid`, also wait for the formatter to say its pid
        (the interpreter that forks it says nothing else); otherwise the pid is read when it is
        needed, the spawned process (a shell, a few ms) is reaped later by reap_spawned, and the
        program's start-up goes on meanwhile."""
        if not wait_pid:
            handle = cls(None, done_fd)
            handle.spawned = spawned
            return handle
        _reap(spawned)
        data = cls._read(done_fd, 8, timeout)
        if len(data) < 8:
            return None
        return cls(int.from_bytes(data[:8], "little"), done_fd)

    def reap_spawned(self):
        """Collect the spawned process's status: it must be gone before the program runs (a
        program that waits for any child must never meet it)."""
        pid, self.spawned = self.spawned, None
        if pid is not None:
            _reap(pid)

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
        # Its status is its last word, written once every output is closed: the trace is whole
        # then, and the program need not wait for the formatter's process to be torn down.
        want = 1 if self.pid is not None else 9
        while len(got) < want:
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
        if self.pid is None:
            if len(got) >= 8:
                self.pid = int.from_bytes(got[:8], "little")
            got = got[8:]
        if got:
            self.status = got[-1]
        if not eof and self.status is None and self.pid is not None:
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


def _reap(pid):
    while True:
        try:
            _waitpid(pid, 0)  # exits right after starting the formatter
            return
        except InterruptedError:
            continue
        except ChildProcessError:
            return


class _ChildSide:
    """What a sink asks of its writer, in the formatter process (the parent bounds the buffer)."""
    stalled = False
    deadline = None

    def trim(self):
        pass


def formatter_process(base, spec, done=None, program=None, rfd=0, detached=False):
    """Entry point of the formatter process (see _Writer._spawn_formatter): the pipe is `rfd`;
    spec lists the sinks as (kind, descriptor); `done` is the pipe on which it says its pid,
    then its exit status (see _Formatter). `detached`: started by a shell that exited, already
    not the program's child."""
    if done is not None:
        if not detached:
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
    try:
        # Out of the program's process group: a Stop that kills the group once the program
        # ended (as the extension does) must not cut the lines still being written.
        os.setsid()
    except (AttributeError, OSError):
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
        status = _formatter_main(rfd, sinks, base, program)
    finally:
        if done is not None:
            try:
                os.write(done, bytes([status & 0xFF]))
            except OSError:
                pass
        os._exit(status)


def _formatter_main(rfd, sinks, base, program=None):
    """The formatter process: read marshalled chunks from the pipe, write the lines to the
    sinks, until the parent closes the pipe (also when it was killed: everything it handed
    over is still written, then an exit line saying how it ended, see _exit_of_dead_program).
    Returns the exit status: 0, or 3 when every output failed (it said so on stderr; the
    parent then stops tracing)."""
    try:
        import gc
        gc.disable()  # strings and lists only: nothing to collect
    except Exception:
        pass
    side = _ChildSide()
    live = list(sinks)
    said = False
    watch = _ProgramWatch(program) if program is not None else None
    src = os.fdopen(rfd, "rb", 1 << 16)
    exited = False   # the program wrote its exit line
    dropped = 0
    while True:
        hdr = src.read(16)
        if len(hdr) < 16:
            break
        n = int.from_bytes(hdr[:8], "little")
        dropped = int.from_bytes(hdr[8:], "little")
        payload = src.read(n)
        if len(payload) < n:
            break
        if not live:
            continue
        try:
            items = marshal.loads(payload)
            payload = None
            if len(items) == 4 and items[1] is None and items[0].startswith('{"type":"exit"'):
                exited = True  # always a chunk of its own (see _Writer.close)
            data = _encode_lines(format_items(items, base))
            items = None
        except Exception:
            continue
        live, said = _write_all_sinks(live, data, side, said)
        if not live:
            return 3
    if not exited and watch is not None and live:
        # The program died without finishing its trace (a signal with its default action, which
        # the runtime leaves alone: see docs/trace-format.md, exit): say how, as the last line.
        try:
            line = _exit_of_dead_program(watch, base, dropped)
            live, said = _write_all_sinks(live, _encode_lines([line]), side, said)
        except Exception:
            pass
    for s in live:
        try:
            s.close()
        except Exception:
            pass
    return 0


def _write_all_sinks(live, data, side, said):
    """Write `data` to every live sink; a failing sink is closed and left out (the first failure
    is said on stderr unless `said`). Returns the sinks still live and whether it was said."""
    live = list(live)
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
    return live, said


class _ProgramWatch:
    """How the program ended, learned by a process that is not its parent. Opened when the
    formatter starts: a pidfd (Linux 5.3+), whose PIDFD_GET_INFO (Linux 6.15+) still gives the
    exit status after the parent reaped the program, and /proc/PID/stat, whose exit_code
    (Linux 3.5+) says it from the moment the program's descriptors close (which is how the
    formatter learns it died) until it is reaped."""

    PIDFD_GET_INFO = 0xC040FF0B  # _IOWR(0xFF, 11, struct pidfd_info), 64 bytes (version 0)
    PIDFD_INFO_EXIT = 1 << 3

    def __init__(self, pid):
        self.pid = pid
        self.pidfd = None
        self.stat = None
        try:
            self.pidfd = os.pidfd_open(pid)
        except Exception:
            pass
        try:
            self.stat = os.open("/proc/%d/stat" % pid, os.O_RDONLY)
        except Exception:
            pass

    def _from_proc(self):
        """(status or None, gone)."""
        if self.stat is None:
            return None, True
        try:
            fields = os.pread(self.stat, 4096, 0).rsplit(b")", 1)[1].split()
            if fields[0] in (b"Z", b"X") or int(fields[49]) != 0:
                return int(fields[49]), False
            return None, False
        except (IndexError, ValueError):
            return None, True
        except OSError:
            return None, True  # reaped

    def _from_pidfd(self):
        if self.pidfd is None:
            return None
        try:
            import fcntl
            buf = bytearray(64)
            buf[0:8] = self.PIDFD_INFO_EXIT.to_bytes(8, "little")
            fcntl.ioctl(self.pidfd, self.PIDFD_GET_INFO, buf, True)
            if int.from_bytes(buf[0:8], "little") & self.PIDFD_INFO_EXIT:
                return int.from_bytes(buf[60:64], "little", signed=True)
        except Exception:
            self.pidfd = None  # no such ioctl here
        return None

    def status(self, timeout=2.0):
        """The program's wait status, or None if it cannot be known within `timeout` s."""
        end = time.monotonic() + timeout
        while True:
            st, gone = self._from_proc()
            if st is not None:
                return st
            st = self._from_pidfd()
            if st is not None:
                return st
            if (gone and self.pidfd is None) or time.monotonic() > end:
                return None
            time.sleep(0.005)  # still tearing down, or reaped a moment from now


_SIGNAL_NAMES = {1: "SIGHUP", 2: "SIGINT", 3: "SIGQUIT", 6: "SIGABRT", 9: "SIGKILL", 11: "SIGSEGV",
                 13: "SIGPIPE", 14: "SIGALRM", 15: "SIGTERM", 10: "SIGUSR1", 12: "SIGUSR2"}


def _exit_of_dead_program(watch, base, dropped):
    """The exit line for a program that ended without writing one (see _ProgramWatch); when
    its status cannot be known the code is -1 and the error says so."""
    ts = max(0, (_ns() - base) // 1000)
    status = watch.status()
    if status is None:
        code, err = -1, ("Killed", "the program ended without finishing its trace; its exit status is unknown")
    elif status & 0x7F:
        sig = status & 0x7F
        name = _SIGNAL_NAMES.get(sig)
        if name is None:
            try:
                import signal
                name = signal.Signals(sig).name
            except Exception:
                name = "signal %d" % sig
        code, err = 128 + sig, (name, "terminated by signal %d" % sig)
    else:
        code, err = (status >> 8) & 0xFF, None
    more = ""
    if err is not None:
        more = ',"error":{"type":%s,"message":%s}' % (_jstr(err[0]), _jstr(err[1]))
    return '{"type":"exit","ts":%d,"code":%d,"dropped":%d,"abrupt":true%s}' % (ts, code, dropped, more)
