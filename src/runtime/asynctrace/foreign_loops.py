"""Event loops the runtime does not record (curio...): the trace says they ran, never stays empty.

When the program imports such a library, its run entry points are wrapped: each run writes a
`loop` line with the library's name, ``"partial":true`` and ``"unsupported":true`` when it
starts, and a closed line when it returns. Readers say that what ran there is not in the trace.
A library whose entry points are not found is reported when it is imported."""
import sys

from . import import_watch

_rec = None
_on = [False]
_patches = []

# library -> (module, attribute path) of the functions that run its loop
FOREIGN = {
    "curio": [("curio.kernel", "Kernel.run"), ("curio", "run")],
}


def install(rec):
    global _rec
    _rec = rec
    _on[0] = True
    for name in FOREIGN:
        import_watch.when_imported(name, _hook)


def uninstall():
    _on[0] = False
    while _patches:
        owner, attr, orig = _patches.pop()
        try:
            setattr(owner, attr, orig)
        except Exception:
            pass


def _hook(module):
    if not _on[0]:
        return
    name = module.__name__
    wrapped = 0
    for mod_name, path in FOREIGN.get(name, ()):
        try:
            mod = sys.modules.get(mod_name)
            if mod is None:
                __import__(mod_name)
                mod = sys.modules[mod_name]
            owner_path, _, attr = path.rpartition(".")
            owner = mod
            for part in owner_path.split(".") if owner_path else ():
                owner = getattr(owner, part)
            orig = getattr(owner, attr)
            if getattr(orig, "_asynctrace_foreign", False):
                wrapped += 1
                continue
            new = _wrap(orig, name)
            setattr(owner, attr, new)
            _patches.append((owner, attr, orig))
            wrapped += 1
        except Exception:
            pass
    if not wrapped:
        _loop_line(name, "running")


_depth = {}  # thread ident -> nesting of wrapped entry points (curio.run calls Kernel.run)


def _wrap(orig, library):
    import _thread

    def run(*args, **kwargs):
        if not _on[0]:
            return orig(*args, **kwargs)
        ident = _thread.get_ident()
        outer = not _depth.get(ident)
        _depth[ident] = _depth.get(ident, 0) + 1
        lid = _loop_line(library, "running") if outer else None
        try:
            return orig(*args, **kwargs)
        finally:
            _depth[ident] -= 1
            if lid is not None:
                try:
                    _rec.emit('{"type":"loop","id":%d,"ts":%d,"state":"closed","pending":[]}'
                              % (lid, _rec.now_us()))
                except Exception:
                    pass
    run._asynctrace_foreign = True
    run.__wrapped__ = orig
    for a in ("__name__", "__qualname__", "__doc__", "__module__"):
        try:
            setattr(run, a, getattr(orig, a))
        except Exception:
            pass
    return run


def _loop_line(library, what):
    import _thread
    try:
        lid = _rec.new_loop_id()
        _rec.emit('{"type":"loop","id":%d,"ts":%d,"state":"%s","thread":%d,"class":%s,"partial":true,'
                  '"unsupported":true}' % (lid, _rec.now_us(), what, _thread.get_ident(), _rec.jstr(library)))
        return lid
    except Exception:
        return None
