"""Run one command and write its wall time, CPU time and peak RSS as JSON.

    python -I -S bench/measure.py RESULT.json COMMAND [ARG...]

Why a separate, tiny process: Linux folds the resident set a process had *before* exec into
the ``ru_maxrss`` that ``wait4`` reports for it. A command spawned straight from the
benchmark (which has rich, SQLAlchemy and a walk of 50,000 names in memory) would report at
least the benchmark's own size. Spawned from this stdlib-only helper, the floor is the
helper's few megabytes, far below anything Svidok can use.

The command inherits this process's standard streams and environment.
"""

from __future__ import annotations

import json
import os
import signal
import sys
import time


def main(argv: list[str]) -> int:
    if len(argv) < 3:
        print(__doc__, file=sys.stderr)
        return 2
    result_path, cmd = argv[1], argv[2:]
    # Ctrl-C reaches the whole process group; the command decides how to stop, and this
    # helper must outlive it to reap it and report.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    started = time.perf_counter()
    pid = os.posix_spawnp(cmd[0], cmd, os.environ, setsigdef=(signal.SIGINT,))
    _pid, status, usage = os.wait4(pid, 0)
    wall = time.perf_counter() - started
    with open(result_path, "w", encoding="utf-8") as fh:
        json.dump({"wall_s": wall, "user_s": usage.ru_utime, "sys_s": usage.ru_stime,
                   "peak_rss_kb": usage.ru_maxrss,
                   "returncode": os.waitstatus_to_exitcode(status)}, fh)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
