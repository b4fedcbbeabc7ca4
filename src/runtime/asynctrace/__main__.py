# Entry point of ``python -m asynctrace`` and of ``python PATH/TO/asynctrace`` (how the extension
# starts it: a module named asynctrace in the working directory cannot shadow the runtime then).
# Kept to syntax every Python can parse so that an old interpreter gets a clear one-line error
# instead of a SyntaxError from the real code.
import sys

if sys.version_info < (3, 9):
    sys.stderr.write("asynctrace: error: Python 3.9 or newer is required (this is Python %d.%d)\n"
                     % tuple(sys.version_info[:2]))
    sys.exit(2)

if not __package__:
    # Run by path: sys.path[0] is this directory. Import the runtime beside it, then give the
    # program the sys.path[0] that `python -m` gives (the working directory).
    import os
    sys.path[0] = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    from asynctrace import pyc_cache  # noqa: E402
    pyc_cache.ensure()
    from asynctrace.cli import main  # noqa: E402
    sys.path[0] = os.getcwd()
else:
    from asynctrace import pyc_cache  # noqa: E402
    pyc_cache.ensure()
    from asynctrace.cli import main  # noqa: E402

main()
