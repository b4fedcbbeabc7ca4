"""Run a function right after a module is imported, without importing it.

The hooks for libraries the program may never use (asyncio itself, greenlet/gevent, anyio, trio,
curio...) are installed only when the program imports them, so a program that never uses one pays
nothing, and before any module built on it (uvloop on asyncio) binds its functions. One finder,
first on ``sys.meta_path``, wraps the module's loader so ``then(module)`` runs right after the
module executed, before the program can bind anything of it. A module already imported is handled
at once. A watch lasts until the module really executes: ``importlib.util.find_spec(name)`` alone
builds a spec nobody runs. A module whose loader cannot be wrapped (no ``exec_module``) runs
unwatched."""
import sys

_watched = {}   # module name -> [then, ...]
_finder = []


def when_imported(fullname, then):
    """Call ``then(module)`` once ``fullname`` has executed (now, if it already has)."""
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
    _remove_finder()


def _remove_finder():
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


def _executed(fullname, module):
    thens = _watched.pop(fullname, None)
    if not _watched:
        _remove_finder()
    for then in thens or ():
        _call(then, module)


class _AfterExec:
    """Loader proxy: calls the watchers right after the module executed, and leaves no trace of
    itself on the module."""

    def __init__(self, loader, fullname):
        self._loader = loader
        self._fullname = fullname

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
        _executed(self._fullname, module)


class _Finder:
    def __init__(self):
        self._busy = set()

    def find_spec(self, fullname, path=None, target=None):
        if fullname not in _watched or fullname in self._busy:
            return None
        self._busy.add(fullname)
        try:
            # The spec the rest of the import system would find (with the path it was given, so
            # submodules such as gevent.pool resolve in their package).
            for finder in sys.meta_path:
                if finder is self or not hasattr(finder, "find_spec"):
                    continue
                spec = finder.find_spec(fullname, path, target)
                if spec is not None:
                    break
            else:
                return None
            if spec.loader is None or not hasattr(spec.loader, "exec_module"):
                return spec
            spec.loader = _AfterExec(spec.loader, fullname)
            return spec
        except Exception:
            return None
        finally:
            self._busy.discard(fullname)

    def invalidate_caches(self):
        pass
