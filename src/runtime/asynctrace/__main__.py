# Entry point of ``python -m asynctrace``. Kept to syntax every Python can parse so that an old
# interpreter gets a clear one-line error instead of a SyntaxError from the real code.
import sys

if sys.version_info < (3, 9):
    sys.stderr.write("asynctrace: error: Python 3.9 or newer is required (this is Python %d.%d)\n"
                     % tuple(sys.version_info[:2]))
    sys.exit(2)

from asynctrace.cli import main  # noqa: E402

main()
