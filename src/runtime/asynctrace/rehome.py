"""The name `asynctrace` belongs to the program: before it runs, the runtime's modules move to a
private name in sys.modules, so the program's own `import asynctrace` (a module of that name beside
the script, say) finds what it would find untraced, and the runtime's later relative imports
(hooks installed when the program imports asyncio) still find the runtime."""
import sys

PRIVATE = "_asynctrace_runtime"


def rehome(package):
    """Move `package` (the runtime's top-level name as imported) and its submodules to PRIVATE.
    Idempotent; never raises."""
    if package == PRIVATE or not package:
        return
    try:
        prefix = package + "."
        for name in [n for n in list(sys.modules) if n == package or n.startswith(prefix)]:
            mod = sys.modules[name]
            new = PRIVATE + name[len(package):]
            is_pkg = hasattr(mod, "__path__")
            # The spec first: a relative import reads __package__ and compares it with the
            # spec's parent (an ImportWarning when they differ).
            spec = getattr(mod, "__spec__", None)
            if spec is not None:
                spec.name = new
            mod.__name__ = new
            mod.__package__ = new if is_pkg else new.rpartition(".")[0]
            sys.modules[new] = mod
            if sys.modules.get(name) is mod:
                del sys.modules[name]
    except Exception:
        pass
