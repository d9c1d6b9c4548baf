"""The MQTT link on loopback, measured: end-to-end latency per image (seal → publish → deliver → open →
decode → classify) as median and p99 at 1, 10 and 100 images/s, per cipher and quantisation, and the
throughput at saturation. Bounded in count and time; the embedded broker on 127.0.0.1 only.

    .venv/bin/python benchmarks/link.py --profile tiny [--results DIR]   (writes results/link.json)
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import numpy as np

from aecrypt import endpoints, keys, link, paths, runtime

RATES = (1, 10, 100)
COUNTS = {1: 10, 10: 30, 100: 100}  # images per rate: a few seconds each


def measure(run, key, cipher: str, quantisation: str, rate: float | None, count: int) -> dict:
    images = np.random.default_rng(0).random((count, run.size, run.size), dtype=np.float32)
    with tempfile.TemporaryDirectory() as out, link.EmbeddedBroker() as broker:
        rx = link.LinkReceiver(endpoints.Receiver(run, key), Path(out), "127.0.0.1", broker.port, "bench", "bench-rx")
        rx.start()
        sender = endpoints.Sender(run, key, cipher, quantisation, "bench")
        started = time.perf_counter()
        seal_ms, sizes = [], []

        def device():
            """An image every 1/rate s (or at once), encoded and encrypted when it is taken."""
            for i, img in enumerate(images):
                if rate:
                    time.sleep(max(0.0, started + i / rate - time.perf_counter()))
                t = time.perf_counter()
                [packet] = sender.seal(img[None])
                seal_ms.append((time.perf_counter() - t) * 1e3)
                sizes.append(len(packet))
                yield packet

        report = link.send(device(), "127.0.0.1", broker.port, "bench", timeout_s=60)
        rx.wait(count, 30)
        rx.stop()
        wall = time.perf_counter() - started
    rows = rx.log.accepted
    # sealed → arrival (publish, broker, delivery) + open + decode + classify at the receiver, + encode and
    # encrypt at the sender (the median of its per-image times: the packet's timestamp is taken after them)
    end_to_end = np.array([r["sealed_to_arrival_ms"] + r["open_ms"] + r["decode_ms"] + r["classify_ms"] for r in rows])
    end_to_end = end_to_end + np.median(seal_ms)
    interval_ms = 1e3 / rate if rate else None
    return {
        "cipher": cipher,
        "quantisation": quantisation,
        "rate": rate or "saturation",
        "images": count,
        "received": len(rows),
        "packet_bytes": sizes[0],
        "median_ms": float(np.median(end_to_end)) if len(rows) else None,
        "p99_ms": float(np.percentile(end_to_end, 99)) if len(rows) else None,
        "throughput_per_s": len(rows) / wall,
        "real_time": bool(interval_ms and len(rows) == count and np.percentile(end_to_end, 99) < interval_ms),
        "resends": report.resends,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--profile", default="default")
    parser.add_argument("--results", help="results folder (default: results/)")
    args = parser.parse_args()
    root = Path(args.results) if args.results else None
    runs = endpoints.list_runs(args.profile, root)
    runs = runs[runs["models"] & runs["with_cipher"]]
    if runs.empty:
        raise SystemExit(
            f"no run with saved models in profile {args.profile!r}: run `make book PROFILE={args.profile}` first"
        )
    run = endpoints.TrainedRun.load(paths.runs_dir(args.profile, root) / runs["run_id"].iloc[0])
    with tempfile.TemporaryDirectory() as tmp:
        key = keys.generate(Path(tmp) / "bench.key")
    rows = []
    for cipher, quantisation in (("aes-gcm", "float32"), ("aes-gcm", "uint8"), ("chacha20", "float16")):
        for rate in RATES:
            rows.append(measure(run, key, cipher, quantisation, rate, COUNTS[rate]))
            print(rows[-1], flush=True)
        rows.append(measure(run, key, cipher, quantisation, None, 100))
        print(rows[-1], flush=True)
    record = {"profile": args.profile, "run": run.run_id, "size": run.size, "cpu": runtime.cpu_info(), "rows": rows}
    out = (root or paths.results_root()) / "link.json"
    out.write_text(json.dumps(record, indent=2))
    print(f"link: {out}")


if __name__ == "__main__":
    main()
