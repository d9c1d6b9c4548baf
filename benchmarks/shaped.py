"""The link through a shaped network, measured: a network namespace of its own whose loopback is limited by
`tc` (a token bucket, tbf) to 250 kbit/s, 1 Mbit/s and 10 Mbit/s, with the embedded broker, the receiver and
the sender inside it; per rate, each stream's measured seconds per image and images per second beside the
ones computed from its bytes on the wire. Where the kernel has netem, each rate also gets a stated delay and
loss; where it has not (or namespaces or tc are not allowed), the record says so and keeps the computed
column. Bounded in images per rate and in time (about 3 minutes); the namespace is removed at the end.

    sudo .venv/bin/python benchmarks/shaped.py --profile default     # make bench-shaped

Writes results/<profile>/shaped.json; the book's "The link" page shows it. Every byte crosses the shaped
loopback twice (sender → broker → receiver, both on it), so a measured image takes at least twice its
computed one-hop time; the page says so."""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from aecrypt import paths, runtime
from aecrypt.link import addresses

RATES_KBIT = (250, 1000, 10000)
#: images per stream and rate: enough for a mean, few enough that 250 kbit/s stays within a minute
COUNTS = {250: 3, 1000: 6, 10000: 20}
STREAMS = (("aes-gcm", "float32"), ("aes-gcm", "png"))
DELAY_MS, LOSS_PERCENT = 20, 0.5  # netem's, where the kernel has it: a radio link's order of magnitude
MTU = 1500  # a real link's, not loopback's 64 KiB: the token bucket then shapes packet by packet
TOPIC = "aecrypt/xray"


def _ip(*args: str, ns: str | None = None, check: bool = True) -> subprocess.CompletedProcess:
    command = (["ip", "netns", "exec", ns] if ns else []) + list(args)
    return subprocess.run(command, capture_output=True, text=True, check=check)


def _why_not() -> str | None:
    """None where this machine can shape a namespace's loopback; else why not, in one line."""
    if sys.platform != "linux":
        return "network namespaces and tc are Linux's"
    if os.geteuid() != 0:
        return "creating a network namespace needs root (run it with sudo)"
    for tool in ("ip", "tc"):
        if shutil.which(tool) is None:
            return f"`{tool}` is not installed (iproute2)"
    return None


def _shape(ns: str, kbit: int, netem: bool) -> str:
    """The namespace's loopback limited to `kbit`; returns what was applied, in words."""
    _ip("tc", "qdisc", "del", "dev", "lo", "root", ns=ns, check=False)
    burst = max(2 * MTU, kbit * 1000 // 8 // 100)  # at least two packets, or 10 ms at the rate
    bucket = ["tbf", "rate", f"{kbit}kbit", "burst", str(burst), "latency", "400ms"]
    if netem:
        delay = ["netem", "delay", f"{DELAY_MS}ms", "loss", f"{LOSS_PERCENT}%"]
        _ip("tc", "qdisc", "add", "dev", "lo", "root", "handle", "1:", *delay, ns=ns)
        _ip("tc", "qdisc", "add", "dev", "lo", "parent", "1:1", "handle", "10:", *bucket, ns=ns)
        return f"tbf {kbit} kbit/s, netem delay {DELAY_MS} ms and loss {LOSS_PERCENT} %"
    _ip("tc", "qdisc", "add", "dev", "lo", "root", *bucket, ns=ns)
    return f"tbf {kbit} kbit/s (no netem in this kernel: no added delay or loss)"


def _has_netem(ns: str) -> bool:
    probe = _ip("tc", "qdisc", "add", "dev", "lo", "root", "netem", "delay", "1ms", ns=ns, check=False)
    _ip("tc", "qdisc", "del", "dev", "lo", "root", ns=ns, check=False)
    return probe.returncode == 0


def inside(args) -> None:
    """In the namespace: every stream at one rate through a fresh broker; one JSON line on stdout."""
    sys.path.insert(0, str(Path(__file__).parent))
    import link as bench  # benchmarks/link.py: the same stream as the loopback record

    from aecrypt.link import keys
    from aecrypt.runs import trained

    run = trained.TrainedRun.load(Path(args.run))
    images = np.random.default_rng(0).random((args.count, run.size, run.size), dtype=np.float32)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        key = keys.generate(Path(tmp) / "shaped.key")
        bench.stream(run, key, images[:1], "aes-gcm", "png", None)  # warm: the first call's start-up
        for cipher, payload in STREAMS:
            s = bench.stream(run, key, images, cipher, payload, None)
            rows.append({k: s[k] for k in ("cipher", "payload", "images", "received", "packet_bytes", "seconds")})
    print(json.dumps(rows))


def measure(args) -> dict:
    from aecrypt.runs import trained
    from aecrypt.runs.results import Results

    results = Results(args.profile, Path(args.results) if args.results else paths.results_root())
    best = results.best_autoencoder  # the run a user would deploy, as benchmarks/link.py picks it
    chosen = results.runs_of(best["label"])
    table = trained.list_runs(args.profile, results.root)
    table = table[table["models"] & table["with_cipher"] & table["run_id"].isin(chosen["run_id"])]
    if table.empty:
        raise SystemExit(f"no run of {best['label']} with saved models: run `make book PROFILE={args.profile}` first")
    run_id = chosen[chosen["run_id"].isin(table["run_id"])].sort_values("seed")["run_id"].iloc[0]
    run_dir = paths.runs_dir(args.profile, results.root) / run_id
    record = {
        "version": 1,
        "profile": args.profile,
        "run": run_dir.name,
        "run_label": best["label"],
        "when": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "cpu": runtime.cpu_info(),
        "rates": [],
        "measured": False,
        "why_not": _why_not(),
    }
    began = time.perf_counter()
    ns = f"aecrypt-shaped-{os.getpid()}"
    if record["why_not"] is None:
        made = _ip("ip", "netns", "add", ns, check=False)
        if made.returncode:
            record["why_not"] = f"`ip netns add` was refused ({made.stderr.strip()})"
    if record["why_not"] is None:
        try:
            _ip("ip", "link", "set", "lo", "mtu", str(MTU), ns=ns)
            _ip("ip", "link", "set", "lo", "up", ns=ns)
            netem = _has_netem(ns)
            for kbit in RATES_KBIT:
                shaping = _shape(ns, kbit, netem)
                command = [sys.executable, __file__, "--inside", "--run", str(run_dir), "--count", str(COUNTS[kbit])]
                done = _ip(*command, ns=ns, check=False)
                if done.returncode:
                    raise SystemExit(f"the stream at {kbit} kbit/s failed: {done.stderr.strip()[-500:]}")
                streams = json.loads(done.stdout.strip().splitlines()[-1])
                for s in streams:
                    wire = addresses.publish_bytes(s["packet_bytes"], TOPIC)
                    s["computed_s_per_image"] = round(wire * 8 / (kbit * 1000), 4)  # one hop, no overhead
                    s["measured_s_per_image"] = round(s["seconds"] / s["images"], 4)
                    s["measured_images_per_s"] = round(s["received"] / s["seconds"], 3)
                record["rates"].append({"kbit_per_s": kbit, "shaping": shaping, "streams": streams})
                print(
                    f"{shaping}: "
                    + "; ".join(
                        f"{s['payload']} {s['measured_s_per_image']} s/image measured, {s['computed_s_per_image']} "
                        "computed"
                        for s in streams
                    ),
                    flush=True,
                )
            record["measured"] = True
        finally:
            _ip("ip", "netns", "del", ns, check=False)
    record["seconds"] = round(time.perf_counter() - began, 1)
    return record


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--profile", default="default")
    parser.add_argument("--results", help="results folder (default: results/ or $AECRYPT_RESULTS)")
    parser.add_argument("--inside", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--run", help=argparse.SUPPRESS)
    parser.add_argument("--count", type=int, default=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.inside:
        inside(args)
        return
    record = measure(args)
    target = paths.shaped_json(args.profile, Path(args.results) if args.results else None)
    target.write_text(json.dumps(record))
    if not record["measured"]:
        print(f"shaped: not measured here ({record['why_not']}); the book keeps the computed column")
    print(f"shaped: {target} ({record['seconds']:.0f} s)")


if __name__ == "__main__":
    main()
