"""The rate–distortion figure of the chapter "Is it compressed?": bits per pixel (log scale) against PSNR
and SSIM, one line per codec over its settings, one marker per autoencoder quantisation (mean over the
combination's seeds), drawn in the project's one style."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.ticker import NullFormatter

from aecrypt.figures import colours
from aecrypt.figures.runstrip import use_style
from aecrypt.paper.metrics import PSNR_CAP_DB

MARKERS = {"float32": "s", "float16": "D", "uint8": "o"}


def _lossy(points: pd.DataFrame) -> pd.DataFrame:
    """Lossless points (PSNR at its cap) sit off the PSNR axis; they are drawn on the SSIM panel only."""
    return points[points["psnr"] < PSNR_CAP_DB]


LABELS = {"psnr": ("PSNR", "dB"), "ssim": ("SSIM", "Gaussian window, σ = 1.5"), "ms_ssim": ("MS-SSIM", "5 scales")}


def _model_colours(means: pd.DataFrame) -> dict[str, object]:
    """The paper's autoencoders in greys (darkest: shallowest), the bottlenecks along one sequential map (by k):
    apart from the codecs' palette, however many there are."""
    out = {}
    maps = (("autoencoder", "Greys", (0.95, 0.45)), ("bottleneck", colours.SEQUENTIAL, (0.4, 1.0)))
    for kind, cmap, span in maps:
        names = list(dict.fromkeys(means.loc[means["kind"] == kind, "method"]))
        shade = plt.get_cmap(cmap)
        out |= {n: shade(v) for n, v in zip(names, np.linspace(*span, max(len(names), 1)), strict=False)}
    return out


def rate_distortion(
    rd: pd.DataFrame, size: int, metrics: tuple[str, ...] = ("psnr", "ssim"), title: str = ""
) -> plt.Figure:
    """Image quality against bpp at one image size, one panel per metric: codecs as lines, autoencoders (and
    bottlenecks) as points at their uint8 / float16 / float32 rates, with lossless coding (zstd) as open
    markers."""
    use_style()
    at = rd[rd["size"] == size]
    fig, axes = plt.subplots(1, len(metrics), figsize=(5 * len(metrics), 4.4))
    palette = colours.categorical()
    codecs = at[at["kind"] == "codec"]
    for i, (method, line) in enumerate(codecs.groupby("method", sort=False)):
        line = line.sort_values("bpp")
        for ax, metric in zip(axes, metrics, strict=True):
            shown = _lossy(line) if metric == "psnr" else line
            ax.plot(shown["bpp"], shown[metric], "-", marker=".", color=palette[i % len(palette)], label=method)
    models = at[at["kind"] != "codec"]
    if len(models):
        means = models.groupby(["kind", "method", "setting"], sort=False)[["bpp", "psnr", "ssim"]].mean().reset_index()
        shades = _model_colours(means)
        for method, group in means.groupby("method", sort=False):
            colour = shades[method]
            for row in group.to_dict("records"):
                quant, _, coder = row["setting"].partition(" + ")
                for ax, metric in zip(axes, metrics, strict=True):
                    ax.plot(
                        row["bpp"],
                        row[metric],
                        MARKERS.get(quant, "o"),
                        color=colour,
                        mfc="none" if coder else colour,
                        ms=6,
                    )
            axes[0].plot([], [], "o", color=colour, label=method)
        axes[0].plot([], [], "o", color="0.4", mfc="none", label="+ zstd (same image, fewer bytes)")
    for ax, metric in zip(axes, metrics, strict=True):
        name, unit = LABELS[metric]
        ax.set_xscale("log")
        ax.xaxis.set_minor_formatter(NullFormatter())  # decades only: minor labels collide at these widths
        ax.set_xlabel("bits per pixel (log scale)")
        ax.set_ylabel(f"{name} ({unit})")
        ax.axvline(8, color="0.5", lw=0.8, ls=":")
        ax.text(8, ax.get_ylim()[0], " 8 bpp:\n raw image", fontsize=7.5, color="0.4", va="bottom")
    axes[0].set_title(title or f"{size}×{size}: image quality against rate")
    if len(models):
        axes[1].set_title("■ float32  ◆ float16  ● uint8 latent")
    fig.legend(*axes[0].get_legend_handles_labels(), loc="lower center", ncol=4, bbox_to_anchor=(0.5, -0.16))
    fig.tight_layout()
    return fig


def rates_table(rd: pd.DataFrame, size: int) -> pd.DataFrame:
    """One row per autoencoder at `size` (means over seeds): its uint8 latent's PSNR and SSIM (the other
    quantisations' differ by hundredths of a dB), and its bpp at every quantisation and lossless coder."""
    at = rd[(rd["size"] == size) & (rd["kind"] != "codec")]
    if at.empty:
        return pd.DataFrame()
    means = at.groupby(["method", "setting"], sort=False)[["bpp", "psnr", "ssim"]].mean().reset_index()
    rates = means.pivot_table(index="method", columns="setting", values="bpp", sort=False).round(2)
    rates.columns = [f"bpp {c}" for c in rates.columns]
    quality = means[means["setting"] == "uint8"].set_index("method")[["psnr", "ssim"]]
    quality = quality.assign(psnr=quality["psnr"].round(2), ssim=quality["ssim"].round(3))
    return quality.join(rates).reset_index()
