"""`make bench-cold`: the README's `make book` as a new user meets it — a fresh clone of a commit, no results, no
machine records — timed step by step (set-up, sweep, the calibration, the link's drills and the audit beside
the compression step, the quick performance and link records, the pages). The clone's set-up uses this user's package
caches, as a second project on the same laptop would. Writes results/coldbook.json (one entry per commit, profile
and CPU line, the last kept) and prints the steps; the Performance page shows it beside the default's sizing
(`make bench-size`).

    make bench-cold                          # HEAD
    python benchmarks/coldbook.py --rev REV  # another commit, e.g. a larger default on a scratch branch
    make bench-cold ISA=AVX2                 # as on a CPU without AVX-512

Nothing else should run on the machine meanwhile: every number is a wall time. Exits 1, saying which step failed.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import math
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import stages

HERE = Path(__file__).resolve().parent
#: How the cold build's runs are named in its stage rows (`aecrypt.runs.sizing` reads them under this name).
VARIANT = "cold build"
#: The clone's own definition of the profile's design (a --rev may define it otherwise than this checkout).
DESIGN = (
    "import json; from aecrypt.profiles import get_profile; print(json.dumps(get_profile({profile!r}).run_settings()))"
)
REPO = HERE.parent


def design_of(checkout: Path, profile: str, python: Path) -> dict:
    """The profile's design as `checkout` defines it: its run settings, read by `python` in that folder (where
    `python -c` puts it first on the path: from any other folder, that folder's aecrypt would answer)."""
    command = [str(python), "-c", DESIGN.format(profile=profile)]
    return json.loads(subprocess.run(command, cwd=checkout, capture_output=True, text=True, check=True).stdout)


def _commit(rev: str) -> str:
    out = subprocess.run(["git", "-C", str(REPO), "rev-parse", rev], capture_output=True, text=True, check=True)
    return out.stdout.strip()


def _timed(command: list[str], cwd: Path, env: dict, log) -> tuple[float, int]:
    started = time.perf_counter()
    status = subprocess.call(command, cwd=cwd, env=env, stdout=log, stderr=subprocess.STDOUT)
    return time.perf_counter() - started, status


def _nan(value) -> bool:
    return isinstance(value, float) and math.isnan(value)


def around_sweep(steps: dict[str, float], total: float) -> float:
    """Wall seconds of the steps after the sweep, however `make book` overlaps them: the build's own, less its
    set-up and its sweep."""
    return total - steps.get("setup", 0.0) - steps.get("sweep", 0.0)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rev", default="HEAD", help="the commit to clone (default HEAD)")
    parser.add_argument("--profile", default="default")
    parser.add_argument("--keep", action="store_true", help="keep the clone (its folder is printed)")
    args = parser.parse_args()
    sys.path.insert(0, str(REPO))
    from aecrypt import paths, runtime

    commit = _commit(args.rev)
    scratch = Path(tempfile.mkdtemp(prefix="aecrypt-cold-"))
    clone = scratch / "aecrypt"
    subprocess.run(["git", "clone", "--quiet", str(REPO), str(clone)], check=True)
    subprocess.run(["git", "-C", str(clone), "checkout", "--quiet", commit], check=True)
    # a new user's shell: none of this checkout's settings, and none of make's own (variables given to `make
    # bench-cold`, such as DATA=, would otherwise reach the clone's make book through MAKEFLAGS)
    inherited = ("VIRTUAL_ENV", "MAKEFLAGS", "MFLAGS", "MAKELEVEL", "MAKEOVERRIDES")
    env = {k: v for k, v in os.environ.items() if not k.startswith("AECRYPT_") and k not in inherited}
    env["AECRYPT_MACHINE_RECORDS"] = str(scratch / "machine-records")  # a machine that has measured nothing
    steps_file = scratch / "steps.jsonl"
    clock = f"{sys.executable} {HERE / 'clock.py'} {steps_file}"
    log_path = scratch / "make.log"
    with log_path.open("w") as log:
        setup_s, status = _timed(["make", "setup"], clone, env, log)
        if status:
            print(f"bench-cold: make setup failed in the clone (see {log_path})", file=sys.stderr)
            return 1
        book_s, status = _timed(["make", "book", f"PROFILE={args.profile}", f"CLOCK={clock}"], clone, env, log)
    steps, cpu = {"setup": round(setup_s, 1)}, {}
    failed = []
    for line in steps_file.read_text().splitlines() if steps_file.is_file() else []:
        entry = json.loads(line)
        steps[entry["step"]] = entry["seconds"]
        cpu[entry["step"]] = entry.get("cpu_s")
        if entry["status"]:
            failed.append(entry["step"])
    total = setup_s + book_s
    entry = {
        "commit": commit,
        "profile": args.profile,
        "when": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "cpu": runtime.cpu_line(runtime.cpu_info()),
        "steps": steps,
        "steps_cpu_s": cpu,  # each step's processes' CPU seconds: how much of the 2 cores its wall time used
        "around_sweep_s": round(around_sweep(steps, total), 1),
        "total_s": round(total, 1),
        "status": status or int(bool(failed)),
    }
    if not status:  # the sweep's own runs, per depth, as `make bench-stages` reads its six: what bench-size scales
        entry["design"] = design_of(clone, args.profile, clone / ".venv" / "bin" / "python")
        rows = stages.stage_rows(VARIANT, stages.runs_table(clone / "results", args.profile), math.nan)
        entry["stages"] = [{k: None if _nan(v) else v for k, v in r.items()} for r in rows]
    out = paths.coldbook_json()
    out.parent.mkdir(parents=True, exist_ok=True)
    record = json.loads(out.read_text()) if out.is_file() else {"builds": []}
    if not status:  # a failed build is kept beside the last good one of the same commit, never instead of it;
        # one build per commit, profile and CPU line (a build with ISA=AVX2 is kept beside the native one)
        same = (commit, args.profile, entry["cpu"])
        record["builds"] = [b for b in record["builds"] if (b["commit"], b["profile"], b.get("cpu")) != same]
    record["builds"].append(entry)
    out.write_text(json.dumps(record, indent=1, allow_nan=False))
    print(f"cold make book of {commit[:10]} (PROFILE={args.profile}) on {entry['cpu']}:")
    for name, seconds in steps.items():
        print(f"  {name:20} {seconds:7.1f} s")
    print(f"  {'around the sweep':20} {entry['around_sweep_s']:7.1f} s")
    print(f"  {'total':20} {total:7.1f} s ({total / 60:.1f} min)")
    broken = bool(status or failed)
    print(f"record: {out}" + (f"; clone kept in {clone}" if args.keep or broken else ""))
    if broken:
        print(
            f"bench-cold: make book exited {status}; failed steps: {', '.join(failed) or 'none'} (log: {log_path})",
            file=sys.stderr,
        )
        return 1
    if not args.keep:
        subprocess.run(["rm", "-rf", str(scratch)], check=False)
    return 0


if __name__ == "__main__":
    sys.exit(main())
