"""Pictures beside the paper's figures: phantoms and X-rays as a grid, the two readings of the decryption,
what the ciphertext gives away, the audit's attacks, and the link's latencies. One style (aecrypt.mplstyle)."""

from __future__ import annotations

from collections.abc import Mapping

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns

from aecrypt.figures.runstrip import use_style
from aecrypt.paper.cipher import recover_key


def phantom_grid(images: np.ndarray, labels: np.ndarray, per_class: int = 8, title: str = "") -> plt.Figure:
    """Sample images: a row of negatives over a row of positives."""
    use_style()
    fig, axes = plt.subplots(2, per_class, figsize=(1.5 * per_class, 3.6), layout="constrained")
    for row, cls in enumerate((0, 1)):
        picks = np.flatnonzero(labels == cls)[:per_class]
        for ax, i in zip(axes[row], picks, strict=False):
            ax.imshow(images[i], vmin=0, vmax=1)
        for ax in axes[row]:
            ax.set_xticks([])
            ax.set_yticks([])
            ax.grid(False)
        axes[row, 0].set_ylabel("negative" if cls == 0 else "positive")
    if title:
        fig.suptitle(title)
    return fig


def decryption_readings(samples: Mapping[str, np.ndarray], index: int = 0) -> plt.Figure:
    """The same test image decoded three ways: without the cipher, after the exact inverse √E − K, and
    after the paper text's other order, √(E − K)."""
    use_style()
    panels = [
        ("original", samples["original"][index]),
        ("decoded, no cipher", samples["without_cipher"][index]),
        ("decrypted √E − K, decoded", samples["retrieved"][index]),
        ("decrypted √(E − K), decoded", samples["decrypted_as_written"][index]),
    ]
    fig, axes = plt.subplots(1, 4, figsize=(11, 3.2), layout="constrained")
    for ax, (title, img) in zip(axes, panels, strict=True):
        ax.imshow(img, vmin=0, vmax=1)
        ax.set_title(title, fontsize=10)
        ax.set_xticks([])
        ax.set_yticks([])
        ax.grid(False)
    return fig


def ciphertext_leak(samples: Mapping[str, np.ndarray]) -> plt.Figure:
    """What an eavesdropper learns: from one known pair (z₁, E₁) the key, √E₁ − z₁ = K; from two
    ciphertexts alone, the difference of their latents, √E₁ − √E₂ = z₁ − z₂ (the key cancels)."""
    use_style()
    z, e = samples["latent_channel0"], samples["encrypted_channel0"]
    panels = [
        ("latent z₁ (channel 0)", z[0]),
        ("ciphertext E₁ = (z₁ + K)²", e[0]),
        ("key K", samples["key"]),
        ("√E₁ − z₁: the key, from one pair", recover_key(z[0][..., None], e[0][..., None])),
        ("z₁ − z₂ (secret)", z[0] - z[1]),
        ("√E₁ − √E₂: no key needed", np.sqrt(e[0]) - np.sqrt(e[1])),
    ]
    fig, axes = plt.subplots(2, 3, figsize=(11, 6.6), layout="constrained")
    for ax, (title, img) in zip(axes.ravel(), panels, strict=True):
        im = ax.imshow(img)
        ax.set_title(title, fontsize=10)
        ax.set_xticks([])
        ax.set_yticks([])
        ax.grid(False)
        fig.colorbar(im, ax=ax, shrink=0.75)
    return fig


def attack_panels(samples: Mapping[str, np.ndarray]) -> plt.Figure:
    """The audit's pictures of one test image: the original, one channel of the paper's ciphertext as the
    8-bit image the statistics see, what an eavesdropper's decoder makes of √E = z + K, and the image decoded
    with a key taken from ciphertexts alone."""
    use_style()
    panels = [
        ("original", samples["original"], (0, 1)),
        ("ciphertext E, channel 0 (8-bit view)", samples["ciphertext"], (0, 255)),
        ("eavesdropper: decoder(√E)", samples["eavesdropper"], (0, 1)),
        ("key from ciphertexts alone, decoded", samples["recovered"], (0, 1)),
    ]
    fig, axes = plt.subplots(1, 4, figsize=(11, 3.2), layout="constrained")
    for ax, (title, img, (low, high)) in zip(axes, panels, strict=True):
        ax.imshow(img, vmin=low, vmax=high)
        ax.set_title(title, fontsize=10)
        ax.set_xticks([])
        ax.set_yticks([])
        ax.grid(False)
    return fig


def link_latency(latencies: pd.DataFrame, intervals_ms: Mapping[str, float]) -> plt.Figure:
    """End-to-end latency per image on the link (log scale), one box per stream at each rate, each rate's
    interval between images drawn across it: a box that stays below its line kept up."""
    use_style()
    rates = list(dict.fromkeys(latencies["rate"]))
    streams = list(dict.fromkeys(latencies["stream"]))
    fig, ax = plt.subplots(figsize=(9, 6), layout="constrained")
    sns.boxplot(
        latencies,
        x="rate",
        y="latency_ms",
        hue="stream",
        order=rates,
        hue_order=streams,
        ax=ax,
        whis=(1, 99),
        fliersize=1.5,
        linewidth=0.8,
    )
    for i, rate in enumerate(rates):
        if rate in intervals_ms:
            ax.hlines(intervals_ms[rate], i - 0.45, i + 0.45, colors="black", linestyles="--", linewidth=1.2)
            ax.annotate(
                f"interval {intervals_ms[rate]:g} ms",
                (i, intervals_ms[rate]),
                xytext=(0, 4),
                textcoords="offset points",
                ha="center",
                fontsize=8,
            )
    ax.set_yscale("log")
    ax.set_xlabel("images per second sent (max: as fast as the link takes them)")
    ax.set_ylabel("end-to-end latency per image (ms, log)")
    ax.set_title("Latency on the link: box = quartiles, whiskers = 1st–99th percentile")
    ax.legend(title=None, loc="upper center", bbox_to_anchor=(0.5, -0.13), ncol=3, fontsize=9, frameon=False)
    return fig
