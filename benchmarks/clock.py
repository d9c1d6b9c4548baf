"""`python benchmarks/clock.py FILE STEP -- COMMAND …`: run COMMAND, append one line to FILE (JSON: the step's
name, its wall seconds, the CPU seconds of the processes it waited for, its exit status) and exit with COMMAND's
status. The Makefile wraps each step of `make book` in it when CLOCK is set
(`make book CLOCK="python benchmarks/clock.py steps.jsonl"`), which is how `benchmarks/coldbook.py` times each
step of a cold build. Standard library only: it must cost nothing."""

from __future__ import annotations

import json
import resource
import subprocess
import sys
import time


def main(argv: list[str]) -> int:
    if len(argv) < 4 or argv[2] != "--":
        print("usage: clock.py FILE STEP -- COMMAND [ARG …]", file=sys.stderr)
        return 2
    path, step, command = argv[0], argv[1], argv[3:]
    started = time.perf_counter()
    status = subprocess.call(command)
    seconds = time.perf_counter() - started
    # this process waits only for COMMAND, so its children's usage is COMMAND's and all it waited for
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = round(usage.ru_utime + usage.ru_stime, 1)
    record = {"step": step, "seconds": round(seconds, 2), "cpu_s": cpu, "status": status}
    with open(path, "a") as out:
        out.write(json.dumps(record))
        out.write("\n")
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
