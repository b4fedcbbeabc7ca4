"""Import hook: run our setup right after the watched modules executed (importing gevent early
would change the program's monkey-patching order)."""
import sys

from .state import _safe


_WATCHED = ("greenlet", "gevent", "gevent.pool")
_applied = set()  # the watched modules our setup ran for


class _LoaderProxy:
    def __init__(self, loader, name, on_import):
        self._loader = loader
        self._name = name
        self._on_import = on_import

    def __getattr__(self, attr):
        return getattr(self._loader, attr)

    def create_module(self, spec):
        return self._loader.create_module(spec)

    def exec_module(self, module):
        orig = self._loader
        # Leave no trace of the proxy on the module.
        try:
            module.__loader__ = orig
            if getattr(module, "__spec__", None) is not None:
                module.__spec__.loader = orig
        except Exception:
            pass
        orig.exec_module(module)
        _safe(self._on_import, self._name, module)


class _Finder:
    """Wraps the loader of a watched module so that `on_import(name, module)` runs right after it
    executed."""

    def __init__(self, on_import):
        self._busy = set()
        self._on_import = on_import

    def find_spec(self, fullname, path=None, target=None):
        # (A find_spec without an import, e.g. importlib.util.find_spec("gevent"), only builds a
        # spec nobody executes: the setup runs once, when a module really executes.)
        if fullname not in _WATCHED or fullname in self._busy or fullname in _applied:
            return None
        self._busy.add(fullname)
        try:
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
            spec.loader = _LoaderProxy(spec.loader, fullname, self._on_import)
            return spec
        except Exception:
            return None
        finally:
            self._busy.discard(fullname)

    def invalidate_caches(self):
        pass
