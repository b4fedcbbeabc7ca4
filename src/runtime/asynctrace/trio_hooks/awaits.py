"""What a suspended trio task awaits: its await stack (the program's lines) and what it waits on.

A task's coroutine chain (``task.coro.cr_await`` ...) is walked from the outside in: the
program's frames give the stack; the first library function with a known wait kind ends the walk
(nothing below it is the program's: the other side of a channel, lock or nursery is another
task). A kind is either constant text or a function of that library coroutine (a sleep's delay, a
nursery's children, a socket call's name). Library modules are looked up when they are imported
(anyio's are imported long after trio)."""
import sys

from . import state
from .state import CoroT, GenT, MISS, info, kinds, tids

_rec = None  # the recorder (set by trio_hooks.install)

YIELD = '{"kind":"yield"}'
FUTURE = '{"kind":"future"}'
SLEEP0 = '{"kind":"sleep","delay":0}'
_CODES = {}    # name -> code object of trio functions the resolvers compare against


def _io(op):
    return '{"kind":"io","op":"%s"}' % op


def _sleep_on(c):
    """trio.sleep(seconds): sleep(0) is a checkpoint."""
    n = c.cr_await
    if type(n) is CoroT and n.cr_code is _CODES.get("checkpoint"):
        return SLEEP0
    try:
        return '{"kind":"sleep","delay":%s}' % repr(float(c.cr_frame.f_locals["seconds"]))
    except Exception:
        return '{"kind":"sleep","delay":null}'


def _sleep_until_on(c):
    try:
        deadline = float(c.cr_frame.f_locals["deadline"])
        now = state.T["ctx"].runner.clock.current_time()
        return '{"kind":"sleep","delay":%s}' % repr(round(max(0.0, deadline - now), 6))
    except Exception:
        return '{"kind":"sleep","delay":null}'


def _children_on(c):
    """A nursery's `async with` waiting for its children (also Nursery.start's own nursery)."""
    try:
        nursery = c.cr_frame.f_locals["self"]
        ids = [tids[t] for t in list(nursery._children) if t in tids]
    except Exception:
        return FUTURE
    if not ids:
        return YIELD  # all done already: the nursery only checkpoints
    if len(ids) == 1:
        return '{"kind":"task","task":%d}' % ids[0]
    return '{"kind":"gather","tasks":[%s]}' % ",".join(map(str, sorted(ids)))


_SOCK_OPS = {"recv": "recv", "recv_into": "recv", "recvfrom": "recv", "recvfrom_into": "recv",
             "recvmsg": "recv", "recvmsg_into": "recv", "send": "send", "sendto": "send",
             "sendmsg": "send", "sendall": "send", "accept": "accept", "connect": "connect"}


def _socket_on(c):
    """trio's socket calls share one helper: its `fn` is the socket method."""
    try:
        name = getattr(c.cr_frame.f_locals["fn"], "__name__", "")
        return _io(_SOCK_OPS.get(name, "recv" if name.startswith("recv") else "send"))
    except Exception:
        return _io("recv")


# module -> [(qualified name in the module, wait kind)]: every library function named here is a
# leaf of the walk (what it waits for is not the program's code).
_TABLE = {
    "trio._timeouts": [("sleep", _sleep_on), ("sleep_until", _sleep_until_on),
                       ("sleep_forever", '{"kind":"sleep","delay":null}')],
    "trio._core._run": [("checkpoint", YIELD), ("checkpoint_if_cancelled", YIELD),
                        ("Nursery._nested_child_finished", _children_on)],
    "trio._core._traps": [("cancel_shielded_checkpoint", YIELD), ("wait_task_rescheduled", FUTURE),
                          ("temporarily_detach_coroutine_object", FUTURE),
                          ("permanently_detach_coroutine_object", FUTURE)],
    "trio._core._parking_lot": [("ParkingLot.park", FUTURE)],
    "trio._core._unbounded_queue": [("UnboundedQueue.get_batch", '{"kind":"queue","op":"get"}')],
    "trio._core": [("wait_readable", _io("read")), ("wait_writable", _io("write"))],
    "trio._sync": [("Event.wait", '{"kind":"event"}'), ("_LockImpl.acquire", '{"kind":"lock"}'),
                   ("Semaphore.acquire", '{"kind":"semaphore"}'),
                   ("CapacityLimiter.acquire", '{"kind":"semaphore"}'),
                   ("CapacityLimiter.acquire_on_behalf_of", '{"kind":"semaphore"}'),
                   ("Condition.acquire", '{"kind":"lock"}'), ("Condition.wait", '{"kind":"condition"}')],
    "trio._channel": [("MemorySendChannel.send", '{"kind":"queue","op":"put"}'),
                      ("MemoryReceiveChannel.receive", '{"kind":"queue","op":"get"}')],
    "trio._socket": [("_SocketType._nonblocking_helper", _socket_on), ("_SocketType.accept", _io("accept")),
                     ("_SocketType.connect", _io("connect")), ("getaddrinfo", _io("resolve")),
                     ("getnameinfo", _io("resolve"))],
    "trio._highlevel_socket": [("SocketStream.receive_some", _io("read")), ("SocketStream.send_all", _io("write")),
                               ("SocketStream.wait_send_all_might_not_block", _io("write")),
                               ("SocketListener.accept", _io("accept"))],
    "trio._highlevel_open_tcp_stream": [("open_tcp_stream", _io("connect"))],
    "trio._highlevel_open_unix_stream": [("open_unix_socket", _io("connect"))],
    "trio._ssl": [("SSLStream.receive_some", _io("read")), ("SSLStream.send_all", _io("write")),
                  ("SSLStream.do_handshake", _io("connect")), ("SSLListener.accept", _io("accept"))],
    "trio._unix_pipes": [("FdStream.receive_some", _io("read")), ("FdStream.send_all", _io("write"))],
    "trio._subprocess": [("Process.wait", '{"kind":"process"}'), ("run_process", '{"kind":"process"}')],
    "trio._threads": [("to_thread_run_sync", '{"kind":"thread"}')],
    # anyio on its trio backend (its asyncio backend is the asyncio hooks' business)
    "anyio._core._synchronization": [
        ("Event.wait", '{"kind":"event"}'), ("Lock.acquire", '{"kind":"lock"}'),
        ("Condition.acquire", '{"kind":"lock"}'), ("Condition.wait", '{"kind":"condition"}'),
        ("Semaphore.acquire", '{"kind":"semaphore"}'), ("CapacityLimiter.acquire", '{"kind":"semaphore"}'),
        ("CapacityLimiter.acquire_on_behalf_of", '{"kind":"semaphore"}')],
    "anyio.streams.memory": [("MemoryObjectReceiveStream.receive", '{"kind":"queue","op":"get"}'),
                             ("MemoryObjectSendStream.send", '{"kind":"queue","op":"put"}')],
    "anyio._core._sockets": [("connect_tcp", _io("connect")), ("connect_unix", _io("connect")),
                             ("getaddrinfo", _io("resolve"))],
    "anyio._backends._trio": [
        ("SocketStream.receive", _io("read")), ("SocketStream.send", _io("write")),
        ("TCPSocketListener.accept", _io("accept")), ("UNIXSocketListener.accept", _io("accept")),
        ("UDPSocket.receive", _io("recv")), ("UDPSocket.send", _io("send")),
        ("ConnectedUDPSocket.receive", _io("recv")), ("ConnectedUDPSocket.send", _io("send")),
        ("ReceiveStreamWrapper.receive", _io("read")), ("SendStreamWrapper.send", _io("write")),
        ("Process.wait", '{"kind":"process"}'), ("run_sync_in_worker_thread", '{"kind":"thread"}')],
    "anyio.to_thread": [("run_sync", '{"kind":"thread"}')],
}
_pending = set(_TABLE)


def _lookup(mod, qual):
    obj = mod
    for part in qual.split("."):
        obj = getattr(obj, part, None)
        if obj is None:
            return None
    return obj


def build_loaded():
    """Learn the wait kinds of the table's modules imported so far."""
    mods = sys.modules
    for name in list(_pending):
        mod = mods.get(name)
        if mod is None or getattr(getattr(mod, "__spec__", None), "_initializing", False):
            continue  # (a module still running its body, e.g. anyio's trio backend importing trio)
        _pending.discard(name)
        for qual, kind in _TABLE[name]:
            fn = _lookup(mod, qual)
            if fn is None:
                continue
            code = state.remember_code(fn, kinds, kind)
            if code is not None:
                info.pop(id(code), None)  # seen before its module was built: look again
    tr = mods.get("trio._core._run")
    if tr is not None and "checkpoint" not in _CODES:
        c = getattr(getattr(tr, "checkpoint", None), "__code__", None)
        if c is not None:
            _CODES["checkpoint"] = c


def late_kind(code):
    """The kind of a library code first seen now (its module may have been imported late)."""
    if _pending:
        build_loaded()
    return kinds.get(id(code))


# -- the walk -----------------------------------------------------------------------------------
_cache = {}   # key of a suspension shape -> entry (see _entry)


def describe(task):
    """(entry, leaf coroutine) of a suspended task: entry = (stack text, innermost user site,
    constant `await` suffix or None, kind). The key of the cache is the chain's user frames
    (code, instruction) and the leaf's code: the same place gives the same stack text."""
    c = task.coro
    keys = []
    frames = []
    kind = None
    leaf = None
    get = info.get
    while c is not None:
        tc = type(c)
        if tc is CoroT:
            code = c.cr_code
            nxt = c.cr_await
        elif tc is GenT:
            code = c.gi_code
            nxt = c.gi_yieldfrom
        else:
            break
        u = get(id(code), MISS)
        if u is MISS:
            u = state.code_info(code)
        if u is True:
            fr = c.cr_frame if tc is CoroT else c.gi_frame
            if fr is None:
                break
            keys.append(id(code))
            keys.append(fr.f_lasti)
            frames.append(fr)
        elif u is not None:
            kind = u
            leaf = c
            keys.append(id(code))
            break
        c = nxt
    key = tuple(keys)
    hit = _cache.get(key)
    if hit is None:
        hit = _entry(key, frames, kind)
    return hit, leaf


def _entry(key, frames, kind):
    sites = []
    for fr in frames:
        s = _rec.site_of_code(fr.f_code, fr.f_lineno)
        if s is not None:
            sites.append(s)
    stack = ",".join(map(str, sites))
    if kind is None:
        kind = FUTURE
    if type(kind) is str:
        const = ',"await":{"stack":[%s],"on":%s}}' % (stack, kind)
        make = None
    else:
        const = None
        make = _suffixer(stack, kind)
    hit = (stack, sites[-1] if sites else None, const, kind, make)
    if len(_cache) > 100000:
        _cache.clear()
    _cache[key] = hit
    return hit


def _suffixer(stack, resolve):
    """The `await` part of a step line for a kind that depends on the call (a sleep's delay):
    the texts made are kept (a program sleeps for the same few delays over and over)."""
    made = {}
    fmt = ',"await":{"stack":[%s],"on":%%s}}' % stack

    def make(leaf):
        try:
            on = resolve(leaf)
        except Exception:
            on = FUTURE
        s = made.get(on)
        if s is None:
            s = fmt % on
            if len(made) < 64:
                made[on] = s
        return s
    if resolve is _sleep_on:
        sleep0 = fmt % SLEEP0

        def make_sleep(leaf):
            n = leaf.cr_await
            if type(n) is CoroT and n.cr_code is _CODES.get("checkpoint"):
                return sleep0  # sleep(0), the commonest of all
            return make(leaf)
        return make_sleep
    return make


def suffix_of(hit, leaf):
    """The `await` part of a step line (after "dur")."""
    s = hit[2]
    return s if s is not None else hit[4](leaf)
