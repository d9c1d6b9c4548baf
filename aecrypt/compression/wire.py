"""Bytes on the wire, per image: the raw 8-bit image, its PNG, the latent as float32 / float16 / uint8 (its
offset and scale travel in the packet header), each also after a general-purpose lossless coder (zlib,
zstd), and the sealed packet (AES-256-GCM: header, nonce and tag around the payload). Bits per pixel are
8 · bytes / pixels. Where no run exists (the paper's 200²) the latent's bytes follow from its shape; what a
lossless coder makes of them cannot, and is left empty."""

from __future__ import annotations

import math
import os
import zlib
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pandas as pd

from aecrypt.data import codecs
from aecrypt.link import packets
from aecrypt.paper import choices

QUANTISATIONS = packets.LATENT_QUANTISATIONS  # float32, float16, uint8
ITEM_BYTES = {"float32": 4, "float16": 2, "uint8": 1}
#: The uint8 latent's offset and scale, two float32 in the packet header: part of its rate.
UINT8_SIDE_BYTES = 8


#: General-purpose lossless coders at their strongest standard levels.
LOSSLESS_LEVELS = {"zlib": 9, "zstd": 19}


def _zstd(data: bytes) -> bytes:
    import zstandard

    return zstandard.ZstdCompressor(level=LOSSLESS_LEVELS["zstd"]).compress(data)


LOSSLESS_CODERS: dict[str, Callable[[bytes], bytes]] = {
    "zlib": lambda b: zlib.compress(b, LOSSLESS_LEVELS["zlib"]),
    "zstd": _zstd,
}
#: The coder of the rate–distortion points and of the compression verdict (the latent at its smallest on the wire);
#: the bytes table shows every coder, once per depth (zlib takes twice zstd's time on these latents, to more bytes).
RD_CODER = "zstd"


def bpp(nbytes: float, size: int) -> float:
    """Bits per pixel of `nbytes` for one size × size image."""
    return 8.0 * nbytes / (size * size)


def packet_overhead(ndim: int = 4) -> int:
    """Bytes an AES-256-GCM packet adds to its payload for a latent of `ndim` dimensions (fixed header, shape,
    offset and scale, nonce, tag): measured by sealing one, so it follows the packet format."""
    z = np.zeros((1,) * ndim, np.float32)
    sealed = packets.seal(z, "aes-gcm", bytes(32), bytes(8), bytes(8), bytes(8), 0, "float32")
    return len(sealed) - 4


def sealed_latent_bytes(shape: tuple[int, ...], quantisation: str) -> int:
    """One latent of `shape` (one image's) as the link sends it: sealed in an AES-256-GCM packet, quantised."""
    z = np.zeros((1, *shape), np.float32)
    return len(packets.seal(z, "aes-gcm", bytes(32), bytes(8), bytes(8), bytes(8), 0, quantisation))


def sealed_png_bytes(image: np.ndarray) -> int:
    """One image (H × W in [0, 1]) as `aecrypt send --payload png` sends it: its PNG in an AES-256-GCM packet."""
    return len(packets.seal(image[None], "aes-gcm", bytes(32), bytes(8), bytes(8), bytes(8), 0, "png"))


def latent_payload_bytes(shape: tuple[int, ...], quantisation: str) -> int:
    """The payload of one latent of `shape` (one image's), as the link quantises it; uint8 with its offset and
    scale."""
    side = UINT8_SIDE_BYTES if quantisation == "uint8" else 0
    return math.prod(shape) * ITEM_BYTES[quantisation] + side


#: The lossless coders' sizes are means over this many latents (zstd at level 19 takes seconds per megabyte;
#: the sizes of one run's latents vary by a few per cent, so a hundred give the mean to well under one).
LOSSLESS_SAMPLE = 100


def coded_sizes(
    latents: np.ndarray, quantisation: str, coders: tuple[str, ...] = tuple(LOSSLESS_CODERS)
) -> dict[str, np.ndarray]:
    """Per latent (N × h × w × c), its payload bytes as quantised ("none") and after each of `coders` (names in
    LOSSLESS_CODERS; the first LOSSLESS_SAMPLE latents). The coders release the interpreter's lock, so latents
    are coded on every core (twice as fast on 2 cores).

    >>> sizes = coded_sizes(np.zeros((3, 2, 2, 8), np.float32), "float32", ("zstd",))
    >>> sorted(sizes), sizes["none"].tolist()
    (['none', 'zstd'], [128, 128, 128])
    """
    unknown = sorted(set(coders) - set(LOSSLESS_CODERS))
    if unknown:
        raise ValueError(f"unknown lossless coder(s) {unknown}; valid: {sorted(LOSSLESS_CODERS)}")
    side = UINT8_SIDE_BYTES if quantisation == "uint8" else 0
    chosen = [LOSSLESS_CODERS[name] for name in coders]

    def sizes(z: np.ndarray) -> list[int]:
        plain, _, _ = packets.quantise(z, quantisation)
        return [len(plain) + side] + [len(coder(plain)) + side for coder in chosen]

    with ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
        rows = np.array(list(pool.map(sizes, latents[:LOSSLESS_SAMPLE])), dtype=np.int64).reshape(-1, 1 + len(chosen))
    return {name: rows[:, i] for i, name in enumerate(["none", *coders])}


def image_rows(images: np.ndarray, size: int) -> list[dict]:
    """The raw 8-bit image and its PNG (as the link's png payload makes it), measured on `images` (N × H × W in
    [0, 1]); the raw image from its size alone where `images` is None."""
    rows = [_row("raw 8-bit image", "image", 0, 0, size, size * size, "from the size")]
    if images is not None:
        png = codecs.get_codec("png")
        sizes = np.array([png.round_trip(im, None)[1] for im in codecs.to_uint8(images)])
        rows.append(_row("PNG", "image", 0, 0, size, sizes.mean(), f"mean of {len(sizes)} test images"))
        rows.append(_row("sealed packet (PNG)", "image", 0, 0, size, sizes.mean() + packet_overhead(3), "PNG + packet"))
    return rows


def latent_rows(size: int, depth: int, bottleneck: int = 0, latents: np.ndarray | None = None) -> list[dict]:
    """Every quantisation of one depth's latent, with the lossless coders and the sealed packet: measured on
    `latents` (a run's, N × h × w × c) where given, else from the shape."""
    shape = choices.latent_shape(size, depth, bottleneck)
    rows = []
    for q in QUANTISATIONS:
        method = f"latent {q}"
        if latents is None:
            payload = latent_payload_bytes(shape, q)
            rows.append(_row(method, "latent", depth, bottleneck, size, payload, "from the shape"))
            coded = {}
        else:
            sizes = coded_sizes(latents, q)
            payload = float(sizes["none"].mean())
            rows.append(_row(method, "latent", depth, bottleneck, size, payload, "from the shape (every latent's)"))
            coded = {name: float(sizes[name].mean()) for name in LOSSLESS_CODERS}
        for name in LOSSLESS_CODERS:
            where = f"mean of {len(sizes['none'])} latents" if coded else "needs a run at this size"
            rows.append(_row(f"{method} + {name}", "latent", depth, bottleneck, size, coded.get(name, np.nan), where))
        sealed = sealed_latent_bytes(shape, q)
        rows.append(_row(f"sealed packet ({q})", "latent", depth, bottleneck, size, sealed, "payload + packet"))
    return rows


def _row(method: str, kind: str, depth: int, bottleneck: int, size: int, nbytes: float, source: str) -> dict:
    return {
        "method": method,
        "kind": kind,
        "depth": depth,
        "bottleneck": bottleneck,
        "size": size,
        "bytes": float(nbytes),
        "bpp": bpp(nbytes, size),
        "ratio_to_raw": float(nbytes) / (size * size),
        "source": source,
    }


def bytes_table(rows: list[dict]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=list(_row("", "", 0, 0, 1, 0, "")))
