"""Rate–distortion points, as learned-compression papers draw them: for each method and setting, every test image's
bits per pixel, PSNR and SSIM (`paper.metrics.per_image_quality`, the same code for every method), then their means
with standard errors over images; and each image's bytes and quality (`Curves.per_image`: what the compression
verdict compares, paired on the first `PAIRED`, where every method's bytes are measured). A codec's points come
from its settings; an autoencoder's from its latent at each quantisation (decoded as the link's receiver decodes
it: AEAD, no paper cipher), with the rate of the quantised latent alone and after a lossless coder.
`matched_setting` finds the setting of a codec whose mean rate sits at or just below a target."""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np
import pandas as pd

from aecrypt import UsageError
from aecrypt.compression import wire
from aecrypt.data import codecs
from aecrypt.link import packets
from aecrypt.paper.metrics import per_image_quality

log = logging.getLogger(__name__)

#: MS-SSIM's five scales with an 11-pixel window need the coarsest scale (side / 16) at least 11 pixels wide:
#: more than 160 pixels a side (as CompressAI's and pytorch-msssim's checks say). Never with fewer scales.
MS_SSIM_MIN_SIDE = 161


#: Images whose bytes and quality are kept one by one, the same for every method: the latents a lossless coder's
#: size is measured on (`wire.LOSSLESS_SAMPLE`), so that every method's bytes pair up on them.
PAIRED = wire.LOSSLESS_SAMPLE


@dataclass(frozen=True)
class Curves:
    """Rate–distortion points (one row per method and setting: means and standard errors over images) and, per
    image, its PSNR and SSIM under each method and setting, with its bytes where measured (a latent's lossless
    coding: the first `PAIRED` images)."""

    points: pd.DataFrame
    per_image: pd.DataFrame


def _per_image(method: str, kind: str, setting, size: int, nbytes: np.ndarray, quality: dict) -> pd.DataFrame:
    """Every image's quality, and its bytes where measured (a lossless coder's, on the first PAIRED only: NaN
    beyond)."""
    n = len(quality["psnr"])
    measured = np.full(n, np.nan)
    measured[: min(n, len(nbytes))] = np.asarray(nbytes, float)[:n]
    return pd.DataFrame(
        {
            "method": method,
            "kind": kind,
            "setting": "" if setting is None else str(setting),
            "size": size,
            "image": np.arange(n),
            "bytes": measured,
            "psnr": quality["psnr"],
            "ssim": quality["ssim"],
        }
    )


def ms_ssim(reference: np.ndarray, decoded: np.ndarray) -> np.ndarray:
    """Each image's MS-SSIM (Wang, Simoncelli and Bovik 2003: five scales, their published weights, an 11 × 11
    Gaussian window of σ = 1.5), by TensorFlow's implementation; images N × H × W in [0, 1]."""
    side = min(reference.shape[1:3])
    if side < MS_SSIM_MIN_SIDE:
        raise UsageError(
            f"MS-SSIM needs images at least {MS_SSIM_MIN_SIDE} pixels a side for its five scales, got {side}; "
            "use PSNR and SSIM at this size"
        )
    import tensorflow as tf

    a, b = (np.asarray(x, np.float32)[..., None] for x in (reference, decoded))
    return tf.image.ssim_multiscale(a, b, max_val=1.0, filter_size=11, filter_sigma=1.5).numpy().astype(float)


def _point(method: str, kind: str, setting, size: int, rates: np.ndarray, quality: dict) -> dict:
    """One method at one setting: means and standard errors over images (a lossless coder's rate may rest on
    fewer images than the quality: `wire.LOSSLESS_SAMPLE`)."""
    n = len(quality["psnr"])

    def se(x: np.ndarray) -> float:
        return float(np.std(x, ddof=1) / np.sqrt(len(x))) if len(x) > 1 else float("nan")

    return {
        "method": method,
        "kind": kind,
        "setting": "" if setting is None else str(setting),
        "size": size,
        "n_images": n,
        "bpp": float(rates.mean()),
        "bpp_se": se(rates),
        "psnr": float(quality["psnr"].mean()),
        "psnr_se": se(quality["psnr"]),
        "ssim": float(quality["ssim"].mean()),
        "ssim_se": se(quality["ssim"]),
    }


def codec_rates(codec: codecs.Codec, images8: np.ndarray, knob) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(decoded images in [0, 1], bytes per file, payload bytes per file or NaN) of uint8 images at one setting."""
    decoded = np.empty(images8.shape, np.float32)
    sizes = np.empty(len(images8))
    payload = np.full(len(images8), np.nan)
    for i, image in enumerate(images8):
        data = codec.encode(np.ascontiguousarray(image), knob)
        decoded[i] = codec.decode(data) / np.float32(255)
        sizes[i] = len(data)
        if codec.payload is not None:
            payload[i] = codec.payload(data)
    return decoded, sizes, payload


def _codec_rows(name: str, images: np.ndarray, with_ms_ssim: bool) -> tuple[list[dict], list[pd.DataFrame]]:
    """One codec's points at every setting of its sweep, and its per-image rows."""
    codec = codecs.get_codec(name)
    size = images.shape[1]
    images8 = codecs.to_uint8(images)
    reference = images8 / np.float32(255)  # what every codec was given
    rows, per_image = [], []
    for knob in codec.sweep:
        decoded, sizes, payload = codec_rates(codec, images8, knob)
        quality = per_image_quality(reference, decoded)
        row = _point(codec.title, "codec", knob, size, wire.bpp(sizes, size), quality)
        per_image.append(_per_image(codec.title, "codec", knob, size, sizes, quality))
        row["header_share"] = float(np.mean(1 - payload / sizes)) if codec.payload else float("nan")
        row["bytes"] = float(sizes.mean())
        if with_ms_ssim:
            values = ms_ssim(reference, decoded)
            row["ms_ssim"] = float(values.mean())
            row["ms_ssim_se"] = float(np.std(values, ddof=1) / np.sqrt(len(values))) if len(values) > 1 else np.nan
        rows.append(row)
    return rows, per_image


def codec_points(images: np.ndarray, names: list[str] | None = None, with_ms_ssim: bool = False) -> Curves:
    """Every available codec (or `names`) at every setting of its sweep, over `images` (N × H × W in [0, 1]):
    one row per setting, with the share of the file that is header (and MS-SSIM where asked: ≥ 161 px). One
    process, one codec after another: neither worker processes (their start-up) nor threads (the
    interpreter's lock) made it faster on 2 cores."""
    names = names or [c.name for c in codecs.available_codecs()]
    rows, per_image = [], []
    for name in names:
        points, images_of = _codec_rows(name, images, with_ms_ssim)
        rows += points
        per_image += images_of
    log.debug(f"rate–distortion: {len(names)} codecs at {images.shape[1]}² done")
    return Curves(pd.DataFrame(rows), pd.concat(per_image, ignore_index=True) if per_image else pd.DataFrame())


def autoencoder_points(method: str, encode, decode, images: np.ndarray, kind: str = "autoencoder") -> Curves:
    """An autoencoder's points: its latents of `images` at each quantisation, decoded back; the rate of the
    quantised latent alone, and after the lossless coder `wire.RD_CODER` (the same distortion at a lower rate)."""
    size = images.shape[1]
    reference = codecs.to_uint8(images) / np.float32(255)
    latents = encode(reference)
    rows, per_image = [], []
    for q in wire.QUANTISATIONS:
        restored = np.empty_like(latents)
        for i, z in enumerate(latents):
            plain, low, scale = packets.quantise(z, q)
            restored[i] = packets.from_quantised(plain, q, z.shape, low, scale)
        quality = per_image_quality(reference, np.clip(decode(restored), 0, 1))
        sizes = wire.coded_sizes(latents, q, (wire.RD_CODER,))
        for coder, nbytes in sizes.items():
            label = f"{q}" if coder == "none" else f"{q} + {coder}"
            row = _point(method, kind, label, size, wire.bpp(nbytes, size), quality)
            rows.append(row | {"header_share": 0.0, "bytes": float(nbytes.mean())})
            per_image.append(_per_image(method, kind, label, size, nbytes, quality))
    return Curves(pd.DataFrame(rows), pd.concat(per_image, ignore_index=True))


@dataclass(frozen=True)
class Match:
    """A codec's setting whose mean rate over the images is the highest at or below `target` bpp, and the next
    setting's rate above it (the bracket); `setting` None where even the lowest rate is above the target."""

    codec: str
    target: float
    setting: object
    bpp: float
    bpp_above: float

    @property
    def reached(self) -> bool:
        return self.setting is not None

    @property
    def spec(self) -> str:
        return f"{self.codec}:{self.setting}"


def matched_setting(codec_name: str, images: np.ndarray, target_bpp: float) -> Match:
    """Bisection over the codec's settings (its rate grows with them) for the one whose mean bpp over `images` is
    the highest not above `target_bpp`: about log2(number of settings) encodings of the set."""
    codec = codecs.get_codec(codec_name)
    images8 = codecs.to_uint8(images)
    size = images.shape[1]
    cache: dict[int, float] = {}

    def rate(i: int) -> float:  # encoding alone: a rate needs no decoded image
        if i not in cache:
            nbytes = [len(codec.encode(np.ascontiguousarray(im), codec.search[i])) for im in images8]
            cache[i] = float(wire.bpp(np.array(nbytes), size).mean())
        return cache[i]

    lo, hi = 0, len(codec.search) - 1
    if rate(lo) > target_bpp:
        return Match(codec.name, target_bpp, None, float("nan"), rate(lo))
    if rate(hi) <= target_bpp:
        return Match(codec.name, target_bpp, codec.search[hi], rate(hi), float("inf"))
    while hi - lo > 1:  # invariant: rate(lo) <= target < rate(hi)
        mid = (lo + hi) // 2
        lo, hi = (mid, hi) if rate(mid) <= target_bpp else (lo, mid)
    return Match(codec.name, target_bpp, codec.search[lo], rate(lo), rate(hi))
