"""Async Trace's bootstrap for the Python children of a traced run.

A traced run puts this directory first on its children's PYTHONPATH (in the process environment
only, never in the program's os.environ). Python imports it at startup: it gives the program back
the sys.path, os.environ and sitecustomize it would have untraced, then starts recording this
process into the same run. If anything fails the process runs untraced.
"""


def _asynctrace_boot():
    import os
    import sys
    here = os.path.dirname(os.path.abspath(__file__))
    try:
        sys.path[:] = [p for p in sys.path if os.path.abspath(p or ".") != here]
    except Exception:
        pass
    cfg = os.environ.get("ASYNCTRACE_CHILD")
    pkg_parent = os.path.dirname(os.path.dirname(here))
    try:
        sys.path.insert(0, pkg_parent)
        try:
            from asynctrace import pyc_cache
            pyc_cache.ensure()
            from asynctrace import processes
        finally:
            try:
                sys.path.remove(pkg_parent)
            except ValueError:
                pass
    except Exception:
        return
    processes.boot_exec_child(cfg, here)


_asynctrace_boot()
del _asynctrace_boot
