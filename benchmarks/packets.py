"""Packets and their ciphers, measured side by side in one run: 1000 single-bit flips per AEAD cipher (every
one must be refused), packet sizes per quantisation, and seal + open throughput. No Keras, no network.

    .venv/bin/python benchmarks/packets.py [--flips 1000] [--shape 16,16,128]
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
    args = parser.parse_args()
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
        for quant in packets.QUANTISATIONS:
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


if __name__ == "__main__":
    main()
