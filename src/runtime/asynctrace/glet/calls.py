"""Decoding the call a user frame made into gevent's compiled code (``join``, ``joinall``,
``Event.wait``...): the method name and simple receiver/argument expressions, read from the
bytecode once per code location and evaluated in the frame without running program code."""


def _resolve(f, path):
    """Evaluate a decoded simple expression in frame f (see _simple_path), or None."""
    obj = _eval(f, path, 0)
    return None if obj is _MISSING else obj


def _eval(f, path, depth):
    if path is None or depth > 8:
        return _MISSING
    kind = path[0]
    if kind == "list":
        return [_resolve(f, p) if p is not None else None for p in path[1]]
    if kind == "const":
        return path[1]
    if kind == "var":
        scope, name, attrs = path[1], path[2], path[3]
        if scope == "fast":
            obj = f.f_locals.get(name, _MISSING)
        elif scope == "global":
            obj = f.f_globals.get(name, _MISSING)
            if obj is _MISSING:
                obj = f.f_builtins.get(name, _MISSING)
        else:
            obj = f.f_locals.get(name, _MISSING)
            if obj is _MISSING:
                obj = f.f_globals.get(name, _MISSING)
        return _attrs(obj, attrs)
    if kind == "sub":
        # `base[key]`, only on the exact built-in containers with a key whose hash and
        # comparison are the built-in ones: no program code runs.
        base = _eval(f, path[1], depth + 1)
        key = _eval(f, path[2], depth + 1)
        tb, tk = type(base), type(key)
        if tb is dict and tk in (str, int, bytes, bool, float) or tb is dict and key is None:
            obj = base.get(key, _MISSING)
        elif tb in (list, tuple) and tk is int:
            obj = base[key] if -len(base) <= key < len(base) else _MISSING
        else:
            obj = _MISSING
        return _attrs(obj, path[3])
    return _MISSING


def _attrs(obj, attrs):
    for a in attrs:
        if obj is _MISSING:
            break
        # Only plain attribute storage: never run properties/descriptors of the program.
        d = getattr(obj, "__dict__", None)
        if type(obj).__name__ == "module" or isinstance(d, dict):
            obj = d.get(a, _MISSING) if isinstance(d, dict) else _MISSING
        else:
            obj = _MISSING
    return obj


_MISSING = object()


def _decode_call(code, lasti):
    """(method name, receiver path, first-argument path) of the call at `lasti`, or None."""
    import dis
    instrs = []
    for i in dis.get_instructions(code):
        if i.opname in ("CACHE", "EXTENDED_ARG"):
            continue
        if i.opname == "LOAD_FAST_LOAD_FAST" and isinstance(i.argval, tuple) and len(i.argval) == 2:
            # 3.13 superinstruction: two loads in one; split so each value has its producer.
            for name in i.argval:
                instrs.append(_Ins("LOAD_FAST", dis.opmap["LOAD_FAST"], 0, name, i.offset))
            continue
        instrs.append(i)
    # A caller of Python code (3.11+) reports an offset inside the CALL's inline cache: take
    # the last real instruction at or before it.
    idx = None
    for j, ins in enumerate(instrs):
        if ins.offset > lasti:
            break
        idx = j
    if idx is None:
        return None
    ins = instrs[idx]
    op = ins.opname
    if op in ("BEFORE_WITH", "SETUP_WITH", "BEFORE_ASYNC_WITH"):
        recv = _expr_before(instrs, idx - 1)
        return ("__enter__", recv[0] if recv else None, None)
    if op == "FOR_ITER":
        return ("__next__", None, None)  # (`for g in gevent.iwait(gs)`: the iterator is not named)
    if not op.startswith("CALL") or op == "CALL_FUNCTION_EX" or op == "CALL_INTRINSIC_1":
        return None
    argc = ins.arg or 0
    j = idx - 1
    while j >= 0 and instrs[j].opname in ("PRECALL", "KW_NAMES"):
        j -= 1
    if op in ("CALL_FUNCTION_KW", "CALL_KW"):
        j -= 1  # the kw-names tuple constant
    # Walk back over the arguments (each a balanced expression).
    args = []
    for _ in range(argc):
        e = _expr_before(instrs, j)
        if e is None:
            return None
        args.append(e[0])
        j = e[1] - 1
    args.reverse()
    while j >= 0 and instrs[j].opname == "PUSH_NULL":
        j -= 1  # 3.13 pushes the NULL after the callable
    if j < 0:
        return None
    callee = instrs[j]
    first = args[0] if args else None
    if callee.opname in ("LOAD_METHOD", "LOAD_ATTR"):
        recv = _expr_before(instrs, j - 1)
        return (callee.argval, recv[0] if recv else None, first)
    if callee.opname in ("LOAD_GLOBAL", "LOAD_NAME", "LOAD_FAST", "LOAD_DEREF"):
        return (callee.argval, None, first)
    return None


class _Ins:
    __slots__ = ("opname", "opcode", "arg", "argval", "offset")

    def __init__(self, opname, opcode, arg, argval, offset):
        self.opname, self.opcode, self.arg, self.argval, self.offset = opname, opcode, arg, argval, offset


_LOADS = {"LOAD_FAST": "fast", "LOAD_NAME": "name", "LOAD_GLOBAL": "global", "LOAD_DEREF": "name",
          "LOAD_FAST_CHECK": "fast", "LOAD_CLASSDEREF": "name"}
_NEUTRAL = ("PUSH_NULL", "PRECALL", "KW_NAMES", "COPY_FREE_VARS", "NOP")


def _effect(ins):
    import dis
    return dis.stack_effect(ins.opcode, ins.arg if ins.opcode >= dis.HAVE_ARGUMENT else None, jump=False)


def _expr_before(instrs, j):
    """The expression whose value instrs[j] leaves on the stack: (path or None, start index).

    The start is found by summing stack effects backwards; the path is only built for what we
    evaluate without running program code: `name`, `name.attr...`, `[a, b, ...]`."""
    if j < 0:
        return None
    total = 0
    k = j
    while k >= 0:
        total += _effect(instrs[k])
        if total >= 1:
            break
        k -= 1
    if k < 0 or total != 1:
        return None  # an instruction that produces several values at once: do not guess
    return (_simple_path(instrs, k, j), k)


_CONSTS = (str, int, bytes, bool, float, type(None))


def _simple_path(instrs, k, j):
    """The decoded expression of instrs[k..j] (one value), for what _resolve evaluates without
    running program code: `name`, `name.attr...`, constants, `base[key]` (then `.attr...`),
    `[a, b, ...]` / tuples / sets of those. None otherwise."""
    while j >= k and instrs[j].opname in _NEUTRAL:
        j -= 1
    while k < j and instrs[k].opname in _NEUTRAL:
        k += 1
    if j < k:
        return None
    last = instrs[j]
    op = last.opname
    if op in ("BUILD_LIST", "BUILD_TUPLE", "BUILD_SET"):
        items = []
        m = j - 1
        for _ in range(last.arg or 0):
            e = _expr_before(instrs, m)
            if e is None or e[1] < k:
                return None
            items.append(e[0])
            m = e[1] - 1
        items.reverse()
        return ("list", items)
    if op == "LOAD_CONST":
        return ("const", last.argval) if j == k and type(last.argval) in _CONSTS else None
    if op in _LOADS:
        return ("var", _LOADS[op], last.argval, ()) if j == k else None
    if op == "LOAD_ATTR":
        base = _simple_path(instrs, k, j - 1)
        if base is None or base[0] not in ("var", "sub"):
            return None
        return base[:3] + (base[3] + (last.argval,),)
    if op == "BINARY_SUBSCR" or (op == "BINARY_OP" and "[" in str(getattr(last, "argrepr", ""))):
        key = _expr_before(instrs, j - 1)
        if key is None or key[0] is None or key[1] <= k:
            return None
        base = _simple_path(instrs, k, key[1] - 1)
        if base is None:
            return None
        return ("sub", base, key[0], ())
    return None
