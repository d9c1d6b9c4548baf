"""`python benchmarks/beside.py LOCK -- COMMAND …`: run COMMAND holding the lock file LOCK shared, so that a step
timing something (`aecrypt.compression.latency.alone`, with AECRYPT_QUIET_LOCK=LOCK) waits until COMMAND and
every other step beside it have finished. `make book` runs the steps that time nothing (the calibration, the
link's fault drills, the cipher audit) this way beside the compression step, whose latencies are timed alone.
Exits with COMMAND's status. Standard library only: it must cost nothing."""

from __future__ import annotations

import fcntl
import os
import subprocess
import sys

#: aecrypt.compression.latency.QUIET_LOCK: not passed on, so that a step beside never waits for the lock it holds
QUIET_LOCK = "AECRYPT_QUIET_LOCK"


def main(argv: list[str]) -> int:
    if len(argv) < 3 or argv[1] != "--":
        print("usage: beside.py LOCK -- COMMAND [ARG …]", file=sys.stderr)
        return 2
    with open(argv[0], "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_SH)  # released when this process ends, whatever COMMAND did
        return subprocess.call(argv[2:], env={k: v for k, v in os.environ.items() if k != QUIET_LOCK})


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
