"""The compression claim's verdict: does the paper's autoencoder compress an image, as a codec would?

The criterion, fixed before any build: the latent *compresses* if it needs fewer bytes on the wire than a standard
codec needs for the same image at equal or better quality. The codec is the one of the build's rate–distortion
record (PNG, JPEG, WebP, JPEG 2000, JPEG XL, JPEG-LS at every setting of their sweeps) with the fewest mean bytes
among those whose mean PSNR is at least the latent's (PNG, lossless, always qualifies). The latent travels as the
link would send it at its smallest: uint8 with its offset and scale, then zstd. The codec is chosen on the test
images that are not paired, then bytes are compared image by image on the paired ones
(`compression.curves.PAIRED`), so the images that pick the codec do not also judge it: the geometric mean of the
per-image ratio latent / codec, with a 95 % t interval on the log scale (scipy). Where the latent's bytes are a
mean over several runs (the training seeds of the depth's best combination), each image's bytes are the mean over
them.

The verdict is about the paper's proposed system, the three-layer encoder of its Sec. 3
(`paper.reported.PROPOSED_DEPTH`); every other depth gets its own outcome beside it, by the same rule.

Example
-------
>>> import numpy as np
>>> ratio = paired_ratio(np.array([90.0, 110, 95, 105]), np.array([100.0, 100, 100, 100]))
>>> ratio.outcome, round(ratio.estimate, 3)
('inconclusive', 0.997)
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from aecrypt.stats.findings import ALPHA, INCONCLUSIVE, NOT_REPRODUCED, REPRODUCED, Finding

LATENT_WAY = "uint8 + zstd"  # the latent at its smallest on the wire (the rate–distortion record's setting)
LOSSLESS = "PNG"  # the standard lossless codec: equal quality whatever the latent's
CLAIM, PAPER = "the autoencoder compresses the image before encryption", "abstract; Sec. 1"


@dataclass(frozen=True)
class Ratio:
    """The geometric mean of per-image byte ratios (a / b) with its interval, over `n` paired images."""

    estimate: float
    low: float
    high: float
    n: int

    @property
    def outcome(self) -> str:
        """Fewer bytes where the whole interval is below 1, more where it is above; a near-tie otherwise."""
        if self.high < 1:
            return REPRODUCED
        if self.low > 1:
            return NOT_REPRODUCED
        return INCONCLUSIVE

    def text(self) -> str:
        return f"{self.estimate:.3g}× [{self.low:.3g}, {self.high:.3g}]"


def paired_ratio(a: np.ndarray, b: np.ndarray, level: float = 1 - ALPHA) -> Ratio:
    """The geometric mean of a / b over paired images, with a t interval of the mean log ratio.

    Parameters
    ----------
    a, b : ndarray
        Bytes per image, the same images in the same order (positive).
    level : float, optional
        The interval's coverage, in (0, 1); 1 − `ALPHA` (95 %) by default.

    Returns
    -------
    Ratio
        The estimate and its interval, back on the ratio scale, over the images both have bytes for; every
        image at the same ratio gives [r, r]; fewer than two pairs give [0, inf] (no decision).

    Examples
    --------
    >>> ratio = paired_ratio(np.array([50.0, 60, 55]), np.array([100.0, 100, 100]))
    >>> ratio.text(), ratio.outcome
    ('0.548× [0.437, 0.688]', 'reproduced')
    >>> one = paired_ratio(np.array([50.0, np.nan]), np.array([100.0, 100]))  # one pair: no decision
    >>> round(one.estimate, 3), one.low, one.high, one.n, one.outcome
    (0.5, 0.0, inf, 1, 'inconclusive')
    """
    logs = np.log(np.asarray(a, float)) - np.log(np.asarray(b, float))
    logs = logs[np.isfinite(logs)]  # an image one method has no bytes for is not a pair
    if len(logs) < 2:  # no spread to judge noise by: no decision
        return Ratio(math.nan if not len(logs) else math.exp(logs[0]), 0.0, math.inf, len(logs))
    mean = float(logs.mean())
    if np.ptp(logs) == 0:
        return Ratio(math.exp(mean), math.exp(mean), math.exp(mean), len(logs))
    low, high = stats.ttest_1samp(logs, 0.0).confidence_interval(level)
    return Ratio(math.exp(mean), math.exp(low), math.exp(high), len(logs))


@dataclass(frozen=True)
class Comparison:
    """One depth's latent against the cheapest codec at equal or better quality, and against PNG."""

    depth: int
    latent_bytes: float
    latent_psnr: float
    latent_ssim: float
    runs: int  # the runs (seeds) each image's bytes are a mean over
    codec: str  # e.g. "WebP at 80", or "PNG"
    codec_bytes: float
    codec_psnr: float  # inf for PNG
    ratio: Ratio  # latent / that codec, per image
    png_ratio: Ratio  # latent / PNG, per image
    held_out: bool = True  # the codec was chosen on test images other than the paired ones

    @property
    def outcome(self) -> str:
        return self.ratio.outcome


def compare(per_image: pd.DataFrame, depth: int) -> Comparison | None:
    """The comparison at one depth from a build's per-image record (`paths.CompressionFiles.per_image`); None where
    the record has no latent of that depth. The codec is chosen on the test images that are *not* paired (where the
    latent's quality is known but its coded bytes are not), and the bytes are compared on the paired ones, so the
    images that choose the codec are not those that judge it; with too few test images to hold any out (fewer
    than two), it is chosen on the paired ones.

    Parameters
    ----------
    per_image : pandas.DataFrame
        One row per image and method: kind ("autoencoder" or "codec"), image, method, setting, bytes (NaN where
        not coded), psnr, ssim; for the latent rows also depth, bottleneck and, where saved, run_id. The latent
        rows read are those at `depth` without a bottleneck, sent as `LATENT_WAY`; a codec's PNG rows must be there.
    depth : int
        The encoder depth compared.

    Returns
    -------
    Comparison or None
        The latent against the codec with the fewest mean bytes among those whose mean PSNR is at least the
        latent's (PNG always qualifies), and against PNG, each as a per-image `Ratio` on the paired images.

    Examples
    --------
    Images i0 and i1 choose the codec (the latent has no bytes there); i2 to i4 judge it:

    >>> images = ["i0", "i1", "i2", "i3", "i4"]
    >>> latent = pd.DataFrame({"kind": "autoencoder", "depth": 3, "bottleneck": 0, "setting": LATENT_WAY,
    ...                        "image": images, "bytes": [None, None, 300, 320, 310], "psnr": 30.0, "ssim": 0.9})
    >>> png = pd.DataFrame({"kind": "codec", "method": "PNG", "setting": "9", "image": images, "bytes": 2000.0,
    ...                     "psnr": math.inf})
    >>> jpeg = png.assign(method="JPEG", setting="80", bytes=[400.0, 410, 420, 430, 440], psnr=31.0)
    >>> found = compare(pd.concat([latent, png, jpeg]), depth=3)
    >>> found.codec, found.latent_bytes, found.codec_bytes, found.held_out
    ('JPEG at 80', 310.0, 430.0, True)
    >>> found.ratio.text(), found.outcome
    ('0.721× [0.672, 0.774]', 'reproduced')
    >>> compare(pd.concat([latent, png, jpeg]), depth=5) is None
    True
    """
    ae = per_image[
        (per_image["kind"] == "autoencoder")
        & (per_image["depth"] == depth)
        & (per_image["bottleneck"] == 0)
        & (per_image["setting"] == LATENT_WAY)
    ]
    if ae.empty:
        return None
    latent = ae.groupby("image")[["bytes", "psnr", "ssim"]].mean()
    paired_images = latent.index[latent["bytes"].notna()]
    held_out = latent.index[latent["bytes"].isna()]
    choosing = held_out if len(held_out) >= 2 else paired_images
    codecs = per_image[per_image["kind"] == "codec"]
    at = codecs[codecs["image"].isin(choosing)].groupby(["method", "setting"], sort=False)[["bytes", "psnr"]].mean()
    lossless = at.index.get_level_values("method") == LOSSLESS
    qualifying = at[lossless | (at["psnr"] >= latent.loc[choosing, "psnr"].mean())]
    method, setting = qualifying["bytes"].idxmin()
    png_setting = at[lossless].index[0][1]
    latent = latent.loc[paired_images]

    def on_paired(m: str, s: str) -> pd.DataFrame:
        rows = codecs[(codecs["method"] == m) & (codecs["setting"] == s)].set_index("image")
        return rows.reindex(latent.index)

    chosen = on_paired(method, setting)
    return Comparison(
        depth,
        float(latent["bytes"].mean()),
        float(latent["psnr"].mean()),
        float(latent["ssim"].mean()),
        int(ae["run_id"].nunique()) if "run_id" in ae else 1,
        method if method == LOSSLESS else f"{method} at {setting}",
        float(chosen["bytes"].mean()),
        math.inf if method == LOSSLESS else float(chosen["psnr"].mean()),
        paired_ratio(latent["bytes"].to_numpy(), chosen["bytes"].to_numpy()),
        paired_ratio(latent["bytes"].to_numpy(), on_paired(LOSSLESS, png_setting)["bytes"].to_numpy()),
        len(held_out) >= 2,
    )


#: What would decide, for each outcome of the rule: a decided outcome says the interval settled it, a near-tie
#: names what would narrow it. The one place these sentences live, so a row's verdict and its "to decide" agree.
DECIDE = {
    REPRODUCED: "settled: the whole interval of the per-image ratio is below 1, so the gap is not noise",
    NOT_REPRODUCED: "settled: the whole interval of the per-image ratio is above 1, so the gap is not noise",
    INCONCLUSIVE: "a near-tie: the interval includes equal bytes; more paired test images "
    "(`compression.wire.LOSSLESS_SAMPLE`) or more training seeds would narrow it",
}


def _describe(c: Comparison) -> str:
    quality = f"{c.latent_psnr:.1f} dB PSNR, SSIM {c.latent_ssim:.3f}"
    against = "PNG (lossless)" if c.codec == LOSSLESS else f"{c.codec} ({c.codec_psnr:.1f} dB)"
    return (
        f"depth {c.depth}: {c.latent_bytes:,.0f} B at {quality}; {against} {c.codec_bytes:,.0f} B; ratio "
        f"{c.ratio.text()}: {c.outcome}"
    )


def finding(comparisons: dict[int, Comparison], proposed: int) -> Finding | None:
    """The claim's Finding: the proposed depth's outcome, with every other depth's beside it. None where the
    record has no latent of the proposed depth.

    Parameters
    ----------
    comparisons : dict of int to Comparison
        Per depth, its `compare` result.
    proposed : int
        The paper's proposed depth (`paper.reported.PROPOSED_DEPTH`).

    Returns
    -------
    Finding or None
        The proposed depth's outcome (by its per-image ratio's interval against 1), what it measured, and what
        would decide (`DECIDE`).

    Examples
    --------
    >>> ratio, png = Ratio(0.72, 0.67, 0.77, 3), Ratio(0.15, 0.14, 0.17, 3)
    >>> depth3 = Comparison(3, 310.0, 30.0, 0.9, 1, "JPEG at 80", 430.0, 31.0, ratio, png)
    >>> found = finding({3: depth3}, proposed=3)
    >>> found.outcome, found.effect
    ('reproduced', 'depth 3: latent / JPEG at 80 0.72× [0.67, 0.77] per image, at 30.0 dB (PNG: 0.15× [0.14, 0.17])')
    >>> finding({3: depth3}, proposed=2) is None
    True
    """
    main = comparisons.get(proposed)
    if main is None:
        return None
    n = main.ratio.n
    test = (
        f"bytes per image, paired on {n} test images: the depth-{proposed} latent ({LATENT_WAY}) against the "
        "standard codec with the fewest bytes at equal or better PSNR (PNG always qualifies), 95 % interval"
    )
    others = [c for d, c in sorted(comparisons.items()) if d != proposed]
    beside = (" Other depths, by the same rule: " + "; ".join(_describe(c) for c in others) + ".") if others else ""
    chosen = "" if main.held_out else " The codec was chosen on the paired images: too few test images to hold any out."
    measured = (
        f"The paper's proposed autoencoder, {_describe(main)} (each image's bytes the mean over {main.runs} "
        f"run(s)); against PNG alone the ratio is {main.png_ratio.text()}.{beside}{chosen}"
    )
    effect = (
        f"depth {proposed}: latent / {main.codec} {main.ratio.text()} per image, at {main.latent_psnr:.1f} dB "
        f"(PNG: {main.png_ratio.text()})"
    )
    return Finding(CLAIM, PAPER, test, measured, main.outcome, effect=effect, decide=DECIDE[main.outcome])


def from_shapes(latent_bytes: dict[int, float], image_bytes: float, proposed: int) -> Finding:
    """Without the compression step's record: each depth's uint8 latent from its layer shapes (exact, no images
    involved) against the raw 8-bit image. Larger than the raw image compresses nothing, whatever a codec does;
    smaller, the codecs at equal quality are still to be measured.

    Parameters
    ----------
    latent_bytes : dict of int to float
        Per depth, the bytes of its uint8 latent; must hold `proposed`.
    image_bytes : float
        The bytes of the raw 8-bit image.
    proposed : int
        The paper's proposed depth.

    Returns
    -------
    Finding
        *not reproduced* where the proposed depth's latent is larger than the image; else *inconclusive (no codec
        measured)*.

    Examples
    --------
    >>> from_shapes({2: 2048.0, 3: 512.0}, 1024.0, proposed=2).outcome
    'not reproduced'
    >>> found = from_shapes({2: 2048.0, 3: 512.0}, 1024.0, proposed=3)
    >>> found.outcome, found.effect
    ('inconclusive (no codec measured)', 'depth 3: latent 0.5× the raw image (from the shapes)')
    """
    test = f"bytes per image from the layer shapes: the depth-{proposed} uint8 latent against the raw 8-bit image"
    mine = latent_bytes[proposed]
    others = "; ".join(f"depth {d} {b / image_bytes:.3g}×" for d, b in sorted(latent_bytes.items()) if d != proposed)
    measured = (
        f"The paper's proposed autoencoder's latent is {mine:,.0f} B, {mine / image_bytes:.3g}× the raw image's "
        f"{image_bytes:,.0f} B (from the shapes: exact)." + (f" Other depths: {others}." if others else "")
    )
    effect = f"depth {proposed}: latent {mine / image_bytes:.3g}× the raw image (from the shapes)"
    if mine > image_bytes:
        decide = "settled by the layer shapes: the latent is larger than the raw image itself"
        return Finding(CLAIM, PAPER, test, measured, NOT_REPRODUCED, effect=effect, decide=decide)
    decide = "the compression step (`make book-compression`): codecs at equal quality, per image"
    return Finding(CLAIM, PAPER, test, measured, f"{INCONCLUSIVE} (no codec measured)", effect=effect, decide=decide)
