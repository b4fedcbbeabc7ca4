"""Shared state of the trio hooks: the recorder, task ids, the trio internals they read.

The recorder (`_rec`) is set by ``trio_hooks.install``; `T` holds trio's modules and classes once
trio is imported (see ``trio_hooks._hook_trio``)."""
import _thread
import sys
import time
import types

_ns = time.perf_counter_ns
_get_ident = _thread.get_ident
CoroT = types.CoroutineType
GenT = types.GeneratorType
MISS = object()

_rec = None
state = {"on": False}
T = {}             # trio's pieces: "run" (trio._core._run), "ctx" (GLOBAL_RUN_CONTEXT), ...
patches = []       # (owner, name, original, had_own_attr)

# trio.lowlevel.Task -> task id (tasks are hashed by identity; an entry leaves when the task
# exits, so a task object is never kept past its end).
tids = {}
# Task -> [task id, {lasti of its coroutine's frame: (code of what it awaited there, cache entry)},
# cache entry of its last suspension] (see awaits and instrument): the step hook reuses an entry
# when the task suspends at one of its known places again on the same library call.
memo = {}
cancelled_once = set()   # task ids with a cancel line
internal = set()         # ids of trio's own tasks (the init task, system tasks of library code)
info = {}          # id(code) -> True (user code) | a wait kind (library, known) | None
kinds = {}         # id(code) of a library function -> its wait kind (see awaits)
keep_codes = []    # code objects whose ids key `info`, `kinds` and the stop sets
# ids of the codes that run trio's loop (unrolled_run, run, the guest tick): a site search that
# reaches one left the task's own stack without meeting the program's code.
LOOP_CODES = set()
lasti_site = {}    # (id(code), lasti) -> site id


def patch(owner, name, new):
    had = name in getattr(owner, "__dict__", {})
    orig = getattr(owner, name)
    patches.append((owner, name, orig, had))
    setattr(owner, name, new)
    return orig


def remember_code(fn, table, value):
    """table[id(code)] = value for the code a call of fn runs (through decorators that keep
    __wrapped__, such as trio's KI protection)."""
    fn = getattr(fn, "__func__", fn)
    n = 0
    while getattr(fn, "__wrapped__", None) is not None and n < 10:
        fn = fn.__wrapped__
        n += 1
    code = getattr(fn, "__code__", None)
    if code is None:
        return None
    table[id(code)] = value
    keep_codes.append(code)
    return code


def current_task():
    """The trio task running now (None between steps or outside trio)."""
    ctx = T.get("ctx")
    return getattr(ctx, "task", None) if ctx is not None else None


def current_tid():
    t = current_task()
    return tids.get(t) if t is not None else None


def code_info(code):
    """True for the program's code, a wait kind for a known library function, else None."""
    if _rec.is_user_code(code):
        r = True
    else:
        r = kinds.get(id(code))
        if r is None:
            from . import awaits
            r = awaits.late_kind(code)
    info[id(code)] = r  # the recorder keeps user codes alive; `keep_codes` the others
    if r is not True:
        keep_codes.append(code)
    return r


def user_site(frame, stop=LOOP_CODES):
    """The site of the innermost user frame from `frame` outwards, or None when trio's loop
    comes first (library code or the loop itself asked, not the program)."""
    while frame is not None:
        code = frame.f_code
        u = info.get(id(code), MISS)
        if u is MISS:
            u = code_info(code)
        if u is True:
            key = (id(code), frame.f_lasti)
            site = lasti_site.get(key)
            if site is None:
                site = lasti_site[key] = _rec.site_of_code(code, frame.f_lineno)
            return site
        if id(code) in stop:
            return None
        frame = frame.f_back
    return None


def caller_site(depth=2):
    try:
        return user_site(sys._getframe(depth))
    except Exception:
        return None
