"""Other processes' CPU time, read from /proc (Linux), for the benchmarks.

The trace's formatter process is not the traced program's child (see formatter.py), so no rusage
the benchmark gets includes it: it is found by its command line, which names formatter_process
and the pid of the program that started it.
"""
import os

_TICK = float(os.sysconf("SC_CLK_TCK")) if hasattr(os, "sysconf") else 100.0


def formatter_pids(program_pids):
    """The pids of the formatter processes the processes `program_pids` started."""
    marks = [b",%d," % p for p in program_pids]
    found = []
    for q in os.listdir("/proc") if os.path.isdir("/proc") else ():
        if not q.isdigit():
            continue
        try:
            with open("/proc/%s/cmdline" % q, "rb") as f:
                cmd = f.read()
        except OSError:
            continue
        if b"formatter_process(" in cmd and any(m in cmd for m in marks):
            found.append(int(q))
    return found


def cpu_and_state(pid):
    """(user + system CPU seconds so far, state letter: "Z" once it ended) of process `pid`.
    Raises OSError when it is gone, ValueError/IndexError on an unreadable stat line."""
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / _TICK, fields[0]
