"""A seeded fuzzer for the packet parser and the receiver behind it: genuine packets of every cipher and
payload, mutated (bits flipped, bytes overwritten, fields rewritten, cut short, grown) and handed to a
receiver in each mode (AEAD only; the paper's cipher only, as `--insecure`). The only exception allowed to
escape is the project's own (a one-line refusal); anything else is a finding, kept with the case that raised
it. Memory is measured per stream (tracemalloc's peak), since a parser that trusts a length it reads could
allocate what the packet declares rather than what it holds. `tests/test_fuzz.py` runs a few thousand cases;
`python benchmarks/packets.py --fuzz N` runs N per stream."""

from __future__ import annotations

import struct
import tracemalloc
from dataclasses import dataclass, field

import numpy as np

from aecrypt import AecryptError
from aecrypt.link import endpoints, packets

#: Where the fixed header's fields sit (`packets` module docstring): rewriting them reaches each check.
FIELDS = {"version": (4, 1), "cipher": (5, 1), "payload": (6, 1), "ndim": (7, 1), "timestamp": (40, 8)}
STREAMS = [(c, q) for c in ("aes-gcm", "chacha20") for q in packets.QUANTISATIONS] + [
    ("paper", q) for q in packets.LATENT_QUANTISATIONS
]
MODES = {"aead": endpoints.AEAD_CIPHERS, "insecure": ("paper",)}


def mutate(packet: bytes, rng: np.random.Generator) -> bytes:
    """One mutation of a genuine packet, chosen at random among the kinds above; never the packet itself (a
    field rewritten with its own value is drawn again)."""
    while (changed := _mutate_once(packet, rng)) == packet:
        pass
    return changed


def _mutate_once(packet: bytes, rng: np.random.Generator) -> bytes:
    data = bytearray(packet)
    kind = rng.integers(6)
    if kind == 0:  # flip 1-3 bits anywhere
        for at in rng.integers(len(data), size=rng.integers(1, 4)):
            data[at] ^= 1 << int(rng.integers(8))
    elif kind == 1:  # cut short
        return bytes(data[: rng.integers(len(data))])
    elif kind == 2:  # grow: bytes appended or inserted
        at = int(rng.integers(len(data) + 1))
        data[at:at] = rng.bytes(int(rng.integers(1, 64)))
    elif kind == 3:  # a header field rewritten
        offset, size = list(FIELDS.values())[rng.integers(len(FIELDS))]
        data[offset : offset + size] = rng.bytes(size)
    elif kind == 4:  # a shape entry or a length field rewritten with a large or odd value
        ndim = min(data[7], 8)
        spots = [56 + 4 * i for i in range(ndim)] + [56 + 4 * ndim + 8 + 1 + 12]
        at = spots[rng.integers(len(spots))]
        value = int(rng.choice([0, 1, 2**16, 2**31, 2**32 - 1, int(rng.integers(2**32))]))
        data[at : at + 4] = struct.pack(">I", value)
    else:  # a run of bytes overwritten
        at = int(rng.integers(len(data)))
        n = int(rng.integers(1, 16))
        data[at : at + n] = rng.bytes(n)
    return bytes(data)


@dataclass
class FuzzReport:
    cases: int = 0
    refused: int = 0
    accepted: int = 0  # mutations that still opened (the paper's cipher has no integrity to catch them)
    other: list[str] = field(default_factory=list)  # anything but the project's own error: findings
    peak_bytes: int = 0  # the largest tracemalloc peak of one stream


def run(ends, cases_per_stream: int, seed: int = 0) -> dict[str, FuzzReport]:
    """`cases_per_stream` mutations of each stream's two packets, against each receiver mode; per mode, what
    happened."""
    rng = np.random.default_rng(seed)
    key_image = endpoints.paper_key_image(ends.run, ends.key)
    reports = {mode: FuzzReport() for mode in MODES}
    for cipher, payload in STREAMS:
        sender = endpoints.Sender(ends.run, ends.key, cipher, payload, "fuzz", key_image)
        genuine = sender.seal(ends.images[:2])
        for mode, ciphers in MODES.items():
            receiver = endpoints.Receiver(ends.run, ends.key, ciphers, key_image)
            report = reports[mode]
            tracemalloc.start()
            try:
                for i in range(cases_per_stream):
                    case = mutate(genuine[i % 2], rng)
                    report.cases += 1
                    try:
                        header, payload_ = receiver.open(case)
                        receiver.image(header, payload_)
                        report.accepted += 1
                    except AecryptError:
                        report.refused += 1
                    except Exception as exc:  # noqa: BLE001 - the point: anything else is a finding
                        report.other.append(f"{cipher}/{payload}/{mode}: {type(exc).__name__}: {exc}")
                report.peak_bytes = max(report.peak_bytes, tracemalloc.get_traced_memory()[1])
            finally:
                tracemalloc.stop()
    return reports
