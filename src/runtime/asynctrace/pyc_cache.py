"""The runtime's own bytecode cache, when Python is told not to write one.

With PYTHONDONTWRITEBYTECODE set (common in container images) or `python -B`, Python never
writes .pyc files, so a runtime that was never imported without it compiles its thirty-odd
modules from source on every traced run: 60-80 ms of CPU before the program starts, more than
everything else the runtime does at start-up. The runtime writes the caches of its own modules,
in its own directory, as Python would have; the program's modules are left as the user asked.
Stdlib only and nothing imported: this runs before the rest of the runtime."""
import os
import sys


def ensure(package_dir=None):
    """Write the missing or outdated .pyc files of the runtime's modules (those under
    `package_dir`) when Python would not. Never raises; when everything is cached it costs a
    stat() and a 16-byte read per module."""
    if not sys.dont_write_bytecode:
        return
    if package_dir is None:
        package_dir = os.path.dirname(os.path.abspath(__file__))
    try:
        bootstrap = sys.modules["_frozen_importlib_external"]
        cache_from_source = bootstrap.cache_from_source
        to_pyc = bootstrap._code_to_timestamp_pyc
        loader_type = bootstrap.SourceFileLoader
        magic = bootstrap.MAGIC_NUMBER
    except (KeyError, AttributeError):
        return
    writable = {}  # cache directory -> whether a cache can be written there
    for source in _sources(package_dir):
        try:
            cache = cache_from_source(source)
            st = os.stat(source)
            mtime = int(st.st_mtime) & 0xFFFFFFFF
            if _valid(cache, magic, mtime, st.st_size & 0xFFFFFFFF):
                continue
            d = os.path.dirname(cache)
            ok = writable.get(d)
            if ok is None:
                # A read-only installation: compiling here would only add to what Python's import
                # compiles anyway (and for modules the program may never import).
                ok = writable[d] = _can_write(d)
            if not ok:
                continue
            with open(source, "rb") as f:
                data = f.read()
            # As importlib compiles a module (SourceLoader.source_to_code, get_code).
            code = compile(data, source, "exec", dont_inherit=True, optimize=-1)
            pyc = to_pyc(code, int(st.st_mtime), len(data))
            loader_type("", source)._cache_bytecode(source, cache, pyc)
        except Exception:
            # A read-only installation, a module that does not compile here: Python's own
            # import does what it always does.
            continue


def _can_write(cache_dir):
    d = cache_dir
    while not os.path.isdir(d):  # made on the first write, with its parents
        parent = os.path.dirname(d)
        if parent == d:
            return False
        d = parent
    return os.access(d, os.W_OK | os.X_OK)


def _valid(cache, magic, mtime, size):
    """Whether Python would load `cache` for a source of this mtime and size (the header check
    of importlib's get_code; a hash-based cache is left to Python)."""
    try:
        fd = os.open(cache, os.O_RDONLY)
    except OSError:
        return False
    try:
        head = os.read(fd, 16)
    except OSError:
        return False
    finally:
        os.close(fd)
    if len(head) < 16 or head[:4] != magic:
        return False
    if int.from_bytes(head[4:8], "little") != 0:
        return True
    return int.from_bytes(head[8:12], "little") == mtime and int.from_bytes(head[12:16], "little") == size


def _sources(package_dir):
    stack = [package_dir]
    while stack:
        d = stack.pop()
        try:
            entries = list(os.scandir(d))
        except OSError:
            continue
        for e in entries:
            name = e.name
            if name.endswith(".py"):
                yield e.path
            elif name != "__pycache__" and not name.startswith(".") and e.is_dir():
                stack.append(e.path)
