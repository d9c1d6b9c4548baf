"""Packets and their ciphers, measured side by side in one run: 1000 single-bit flips per AEAD cipher (every
one must be refused), packet sizes per quantisation, and seal + open throughput. No Keras, no network.
With --fuzz N: instead, N seeded mutations per stream (every cipher and payload) against the receiver of a
trained run of the profile, in both receiver modes (`aecrypt.link.fuzz`; tests/test_fuzz.py runs 300).

    .venv/bin/python benchmarks/packets.py [--flips 1000] [--shape 16,16,128]
    .venv/bin/python benchmarks/packets.py --fuzz 20000 [--profile default]
"""

from __future__ import annotations

import argparse
import os
import time

import numpy as np

from aecrypt import runtime
from aecrypt.link import packets


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--flips", type=int, default=1000)
    parser.add_argument("--shape", default="16,16,128", help="latent height,width,channels (default: 64², depth 3)")
    parser.add_argument("--fuzz", type=int, help="mutations per stream against a trained run's receiver")
    parser.add_argument("--profile", default="default", help="with --fuzz: whose trained run")
    args = parser.parse_args()
    if args.fuzz:
        fuzz(args.fuzz, args.profile)
        return
    shape = (1, *map(int, args.shape.split(",")))
    z = np.random.default_rng(0).random(shape, dtype=np.float32)
    key, key_id, run, sender = os.urandom(32), packets.new_id(), packets.new_id(), packets.sender_id("bench")
    key_image = np.random.default_rng(1).random(shape[1:3], dtype=np.float32)
    print(f"{runtime.cpu_line(runtime.cpu_info())} · latent {shape[1:]}")

    rng = np.random.default_rng(2)
    for cipher in packets.AEAD:
        data = packets.seal(z, cipher, key, key_id, run, sender, 0)
        refused = 0
        for bit in rng.choice(len(data) * 8, size=min(args.flips, len(data) * 8), replace=False):
            flipped = bytearray(data)
            flipped[bit // 8] ^= 1 << (bit % 8)
            try:
                packets.open_packet(bytes(flipped), key, key_id, run)
            except packets.PacketError:
                refused += 1
        print(f"{cipher}: {refused} of {min(args.flips, len(data) * 8)} single-bit flips refused")

    print("\ncipher    quantisation   packet bytes   seal+open MB/s (latent)")
    for cipher in packets.CIPHERS:
        for quant in packets.LATENT_QUANTISATIONS:  # png carries an image, not this latent
            kw = {"key_image": key_image} if cipher == "paper" else {}
            data = packets.seal(z, cipher, key, key_id, run, sender, 0, quant, **kw)
            n, started = 200, time.perf_counter()
            for _ in range(n):
                packets.open_packet(
                    packets.seal(z, cipher, key, key_id, run, sender, 0, quant, **kw),
                    key,
                    key_id,
                    run,
                    kw.get("key_image"),
                    tuple(packets.CIPHERS),
                )
            rate = z.nbytes * n / 1e6 / (time.perf_counter() - started)
            print(f"{cipher:<9} {quant:<14} {len(data):>12}   {rate:>10.0f}")


def fuzz(cases: int, profile: str) -> None:
    import tempfile
    from pathlib import Path

    from aecrypt.link import faults, keys
    from aecrypt.link import fuzz as fuzzer
    from aecrypt.runs import trained

    table = trained.list_runs(profile)
    table = table[table["models"]]
    if table.empty:
        raise SystemExit(f"no run with saved models in profile {profile!r}: run `make book PROFILE={profile}` first")
    run = trained.TrainedRun.load(trained.find_run(table["run_id"].iloc[0], profile))
    images = np.random.default_rng(0).random((2, run.size, run.size), dtype=np.float32)
    with tempfile.TemporaryDirectory() as tmp:
        ends = faults.Ends(run, keys.generate(Path(tmp) / "fuzz.key"), images)
        started = time.perf_counter()
        reports = fuzzer.run(ends, cases)
    print(f"{runtime.cpu_line(runtime.cpu_info())} · run {run.run_id} · {time.perf_counter() - started:.0f} s")
    for mode, r in reports.items():
        print(
            f"{mode}: {r.cases} cases, {r.refused} refused, {r.accepted} opened, {len(r.other)} other exceptions, "
            f"peak {r.peak_bytes / 1e6:.1f} MB"
        )
        for line in r.other[:10]:
            print(f"  {line}")
    if any(r.other for r in reports.values()):
        raise SystemExit(1)


if __name__ == "__main__":
    main()
