"""Where the trace goes: a file, a socket, or the pipe to the formatter process. Every sink keeps
the identity of its descriptor and checks it before each write: the runtime never writes into a
descriptor the program took over."""
import os
import select
import sys
import time

# Bound now: gevent's monkey-patching may replace them later with cooperative versions.
_select = select.select
_write = os.write
_sleep = time.sleep  # (read before the program can monkey-patch it)


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


def _close_ours(sink):
    """Close a sink's descriptor if it is still ours: never the program's own file."""
    if sink.fd is not None:
        try:
            _check_ours(sink.fd, sink.ident)
            os.close(sink.fd)
        except OSError:
            pass
        sink.fd = None


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
        _close_ours(self)

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
        _close_ours(self)

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


# Linux 4.6+: getsockopt(SOL_SOCKET, SO_MEMINFO) gives the socket's memory counters, nine u32
# (sndbuf is [3], wmem_queued [5]). Constants and parsing inline: no socket/struct import here.
_SOL_SOCKET, _SO_MEMINFO = 1, 55
_GRACE = 1.0      # how long past the close deadline a line already begun may take to finish


def _meminfo(sock):
    """(send buffer size, bytes it holds) of a socket, or None where the kernel does not say."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        raw = sock.getsockopt(_SOL_SOCKET, _SO_MEMINFO, 36)
    except (OSError, ValueError):
        return None
    if len(raw) < 24:
        return None
    bo = sys.byteorder
    return int.from_bytes(raw[12:16], bo), int.from_bytes(raw[20:24], bo)


def _sure_room(sock):
    """Bytes a send surely accepts whole now. The kernel charges more than the data (buffer
    overhead, up to a third more when a reader stalls, measured): half the free space is safe."""
    mi = _meminfo(sock)
    if mi is None:
        return 0, 0
    return max(0, (mi[0] - mi[1]) // 2 - 16384), mi[0] // 2 - 16384


def _send_whole_lines(data, sock, writer):
    """Send `data` (whole lines) so that the kernel never holds a line's beginning without its
    end: only as many whole lines as surely fit are sent at a time, waiting for room in between.
    Past the writer's deadline (closing) a stuck reader is given up between two lines; a line
    begun anyway (larger than the socket can ever hold whole) gets a short grace to finish."""
    view = memoryview(data)
    pos, end = 0, len(data)
    while pos < end:
        room, most = _sure_room(sock)
        begun = pos > 0 and data[pos - 1] != 10  # a line partly sent: its rest goes first
        if begun:
            nl = data.find(b"\n", pos)
            stop = end if nl < 0 else nl + 1
        elif end - pos <= room:
            stop = end
        else:
            stop = data.rfind(b"\n", pos, pos + room) + 1
            if stop <= pos:
                nl = data.find(b"\n", pos)
                line_end = end if nl < 0 else nl + 1
                if line_end - pos > most:
                    stop = line_end  # never fits whole: let it go as it fits
        n = 0
        if stop > pos:
            try:
                n = sock.send(view[pos:stop])
            except (BlockingIOError, InterruptedError):
                n = 0
        if n:
            pos += n
            writer.stalled = False
            continue
        # No room for the next line (or the socket took nothing): wait for the reader.
        writer.stalled = True
        writer.trim()
        if writer.deadline is not None:
            late = time.monotonic() - writer.deadline
            begun = pos > 0 and data[pos - 1] != 10
            if late > 0 and (not begun or late > _GRACE):
                raise TimeoutError("the trace reader stopped reading")
        _, w, _ = _select([], [sock], [], 0.1)
        if w and stop <= pos:
            # Writable (free space above a fraction of what is queued) but not enough for the
            # line: poll until the reader makes room.
            _sleep(0.005)


class SocketSink:
    """A live reader's connection. The reader sees whole lines only: a line is handed to the
    kernel only when the socket surely has room for all of it (Linux: SO_MEMINFO), so a reader
    that stops reading for good leaves the stream at a line's end when the runtime gives up at
    its close deadline. (Elsewhere, and for a single line larger than half the socket's buffer,
    bytes go as they fit; such a line can be cut by a reader that stops in its middle.)"""
    kind = "socket"

    def fileno(self):
        return self.sock.fileno()

    def __init__(self, sock):
        self.sock = sock
        self.ident = _identity(sock.fileno())
        sock.setblocking(False)
        self.meminfo = _meminfo(sock) is not None

    def write(self, data, writer):
        _check_ours(self.sock.fileno(), self.ident)
        if self.meminfo:
            _send_whole_lines(data, self.sock, writer)
        else:
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
