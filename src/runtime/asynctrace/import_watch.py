"""Run a function right after a module is imported, without importing it.

The hooks for libraries the program may never use (trio, curio...) are installed only when the
program imports them: a finder first on ``sys.meta_path`` wraps the module's loader so
``then(module)`` runs right after the module executed (before the program can bind anything of
it). A module already imported is handled at once."""
import sys

_watched = {}   # module name -> [then, ...]
_finder = []


def when_imported(fullname, then):
    """Call ``then(module)`` once ``fullname`` is imported (now, if it already is)."""
    mod = sys.modules.get(fullname)
    if mod is not None:
        _call(then, mod)
        return
    _watched.setdefault(fullname, []).append(then)
    if not _finder:
        f = _Finder()
        _finder.append(f)
        sys.meta_path.insert(0, f)


def stop():
    """Forget every watch (tracing stopped)."""
    _watched.clear()
    while _finder:
        try:
            sys.meta_path.remove(_finder.pop())
        except ValueError:
            pass


def _call(then, module):
    try:
        then(module)
    except Exception:
        pass


class _AfterExec:
    """Loader proxy: calls the watchers right after the module executed."""

    def __init__(self, loader, thens):
        self._loader = loader
        self._thens = thens

    def __getattr__(self, attr):
        return getattr(self._loader, attr)

    def create_module(self, spec):
        return self._loader.create_module(spec)

    def exec_module(self, module):
        try:
            module.__loader__ = self._loader
            if getattr(module, "__spec__", None) is not None:
                module.__spec__.loader = self._loader
        except Exception:
            pass
        self._loader.exec_module(module)
        for then in self._thens:
            _call(then, module)


class _Finder:
    def __init__(self):
        self._busy = set()

    def find_spec(self, fullname, path=None, target=None):
        if fullname not in _watched or fullname in self._busy:
            return None
        self._busy.add(fullname)
        try:
            import importlib.util
            spec = importlib.util.find_spec(fullname)
            if spec is None or spec.loader is None or not hasattr(spec.loader, "exec_module"):
                return None
            thens = _watched.pop(fullname)
            spec.loader = _AfterExec(spec.loader, thens)
            if not _watched:
                try:
                    sys.meta_path.remove(self)
                except ValueError:
                    pass
                if self in _finder:
                    _finder.remove(self)
            return spec
        except Exception:
            return None
        finally:
            self._busy.discard(fullname)

    def invalidate_caches(self):
        pass
