"""Trace lines from the buffer's records: the formatting shared by the writer thread (in-process
mode) and the formatter process. %-formatting and the C string encoder only: this runs for every
line of a trace."""
try:
    from _json import encode_basestring as _encode_str  # C, no import of the json package
except ImportError:  # pragma: no cover
    from json.encoder import py_encode_basestring as _encode_str

# A step line, from a step record of the buffer (see format_items).
STEP_FMT = '{"type":"step","task":%d,"ts":%d,"dur":%d%s'


def _woke_rest(d, base):
    """The rest of a step line whose record carries its wake link unformatted (the asyncio step
    hook's): ((ns when it became ready, origin), rest); origin is the waking task's id or a
    wokeBy text (see aio/wakes.py)."""
    (wns, o), rest = d
    return ',"woke":%d,"wokeBy":%s%s' % (
        (wns - base) // 1000, '{"kind":"task","task":%d}' % o if type(o) is int else o, rest)


def _jstr(s):
    try:
        return _encode_str(s if type(s) is str else str(s))
    except Exception:
        return '""'


def _null(x):
    return "null" if x is None else x


def _fmt_task(ts_ns, tid, f, base):
    # f: (kind, name, coro, parent, site, thread, loop, eager, internal)
    return ('{"type":"task","id":%d,"ts":%d,"kind":"%s","name":%s,"coro":%s,"parent":%s,"site":%s,'
            '"thread":%d,"loop":%s%s%s}'
            % (tid, (ts_ns - base) // 1000, f[0], _jstr(f[1]), _jstr(f[2]), _null(f[3]), _null(f[4]),
               f[5], _null(f[6]), ',"eager":true' if f[7] else "", ',"internal":true' if f[8] else ""))


def _fmt_done(ts_us, tid, _d, base):
    return '{"type":"end","task":%d,"ts":%d,"state":"done"}' % (tid, ts_us)


def _fmt_timeout_armed(ts_ns, ids, secs, base):
    # ids: (timeout id, task id, site id or None); secs: float or None
    return ('{"type":"timeout","id":%d,"task":%d,"ts":%d,"site":%s,"delay":%s,"state":"armed"}'
            % (ids[0], ids[1], (ts_ns - base) // 1000, _null(ids[2]), "null" if secs is None else repr(secs)))


def _fmt_timeout_cleared(ts_ns, tid, task, base):
    return ('{"type":"timeout","id":%d,"task":%d,"ts":%d,"state":"cleared"}'
            % (tid, task, (ts_ns - base) // 1000))


# Records other than steps and lines: (name, a, b, c) -> formatter(a, b, c, base).
_SPECIAL = {"task": _fmt_task, "done": _fmt_done, "tarm": _fmt_timeout_armed, "tclr": _fmt_timeout_cleared}


def format_items(items, base):
    """The lines of a chunk of the buffer. The buffer holds records of four items: a whole line
    is (text, None, None, None); a step is (task id, start ns, end ns, the rest of the line
    after "dur", or that rest with the step's wake link: see _woke_rest); a few frequent lines
    have records of their own (see _SPECIAL). The hooks
    append records instead of lines so the formatting happens elsewhere: in the formatter
    process when there is one. Only ints, str, None and tuples of them: marshal carries them."""
    out = []
    app = out.append
    it = iter(items)
    fmt = STEP_FMT
    special = _SPECIAL
    for a, b, c, d in zip(it, it, it, it):
        if b is None:
            app(a)
        elif type(a) is int:
            app(fmt % (a, (b - base) // 1000, (c - b) // 1000, d if type(d) is str else _woke_rest(d, base)))
        else:
            try:
                app(special[a](b, c, d, base))
            except Exception:
                pass
    return out


def _encode_lines(lines):
    # backslashreplace turns a lone surrogate into its JSON escape: the output stays UTF-8.
    # (The last newline from an empty last item: `text + "\n"` would copy megabytes again.)
    lines.append("")
    try:
        return "\n".join(lines).encode("utf-8", "backslashreplace")
    finally:
        lines.pop()
