"""How long each method takes per image on this machine, and whether it keeps up with a link: encode and
decode, one image at a time and in a batch (per image), as the median of repeated timings after warm-up;
the time each payload takes on the wire at the link's speeds; and, per link and image rate, whether the
slowest stage of the pipeline (the sender's encoding and sending, the receiver's decoding) fits in the time
between two images."""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Callable

import numpy as np
import pandas as pd

#: A lock file that the steps running beside a timing step hold shared while they run (`make book` sets it:
#: benchmarks/beside.py); `alone` waits for them to finish. (Here, not in aecrypt.runtime: a statement there that
#: runs at import is part of every run's identity.)
QUIET_LOCK = "AECRYPT_QUIET_LOCK"


@contextlib.contextmanager
def alone():
    """Time something with nothing beside it: where AECRYPT_QUIET_LOCK names a lock file, wait until no process
    holds it shared (the steps `make book` runs beside this one, which time nothing) and hold it while timing;
    elsewhere, time at once. Gives the seconds it waited.

    >>> with alone() as waited:
    ...     print(waited)
    0.0
    """
    path = os.environ.get(QUIET_LOCK)
    if not path:
        yield 0.0
        return
    import fcntl  # POSIX only, as make is

    began = time.perf_counter()
    with open(path, "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        waited = time.perf_counter() - began
        try:
            yield waited
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


#: The link speeds a payload is priced on, in bits per second (and measured on through a shaped network,
#: bench-shaped): IEEE 802.15.4 (Zigbee) radio's 250 kbit/s, and 1 and 10 Mbit/s for faster IoT links.
LINK_BITS_PER_S = {"250 kbit/s": 250e3, "1 Mbit/s": 1e6, "10 Mbit/s": 10e6}
IMAGE_RATES = (1, 10)  # images per second a user asks the link to carry
BATCH = 32
REPEATS, WARMUP = 15, 3


def median_seconds(call: Callable[[], object], repeats: int = REPEATS, warmup: int = WARMUP) -> float:
    """The median wall time of `call` over `repeats` calls, after `warmup` calls that are not timed (first
    calls pay for tracing, caches and allocation)."""
    for _ in range(warmup):
        call()
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        call()
        times.append(time.perf_counter() - started)
    return float(np.median(times))


def per_image(step: Callable[[np.ndarray], object], items: np.ndarray, repeats: int = REPEATS) -> dict[str, float]:
    """Seconds per image of `step` given one item, and given a batch of BATCH items (divided by the batch)."""
    one = median_seconds(lambda: step(items[:1]), repeats)
    batch = items[:BATCH]
    return {"one": one, "batched": median_seconds(lambda: step(batch), repeats) / len(batch)}


def wire_seconds(nbytes: float, bits_per_s: float) -> float:
    """The time `nbytes` take at a link's speed, computed (no protocol overhead: the shaped measurement on the
    link page shows what MQTT and a second hop add)."""
    return 8.0 * nbytes / bits_per_s


def latency_row(method: str, setting: str, nbytes: float, encode: dict, decode: dict) -> dict:
    row = {
        "method": method,
        "setting": setting,
        "bytes": float(nbytes),
        "encode_one_s": encode["one"],
        "encode_batched_s": encode["batched"],
        "decode_one_s": decode["one"],
        "decode_batched_s": decode["batched"],
    }
    for link, bits in LINK_BITS_PER_S.items():
        row[f"wire_s {link}"] = wire_seconds(nbytes, bits)
    return row


def keeps_up(table: pd.DataFrame) -> pd.DataFrame:
    """Per method, link and image rate: whether the slowest stage (encode + send at the sender, one image at a
    time; decode at the receiver) takes no longer than the time between two images."""
    rows = []
    for r in table.to_dict("records"):
        for link in LINK_BITS_PER_S:
            slowest = max(r["encode_one_s"] + r[f"wire_s {link}"], r["decode_one_s"])
            for rate in IMAGE_RATES:
                rows.append(
                    {
                        "method": r["method"],
                        "setting": r["setting"],
                        "link": link,
                        "images_per_s": rate,
                        "slowest_stage_s": slowest,
                        "keeps_up": slowest <= 1.0 / rate,
                    }
                )
    return pd.DataFrame(rows)
