"""Async Trace runtime: records the life of asyncio tasks and greenlets as a JSON Lines trace.

Run a program under it with ``python -m asynctrace [options] SCRIPT [ARGS...]``.
This file must stay importable by any Python (the version check lives in ``__main__``).
"""
__version__ = "0.1.0"
FORMAT_VERSION = 1
