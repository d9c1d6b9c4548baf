"""What a run notebook draws for itself (the Fig. 4 strip). Kept apart from `figures`, the book's
figure code, so that editing a book figure is outside every run's identity (see `runs.run_id`)."""

from __future__ import annotations

from collections.abc import Mapping

import matplotlib.pyplot as plt
import numpy as np

from aecrypt import paths


def use_style() -> None:
    """The project's one matplotlib style, for run notebooks and book figures alike."""
    plt.style.use(paths.STYLE)


def fig4_pipeline(samples: Mapping[str, np.ndarray], index: int = 0) -> plt.Figure:
    """Fig. 4: A original, B encrypted latent (mean over channels of E = (z + K)²), C retrieved."""
    use_style()
    panels = [
        ("A  original", samples["original"][index], "image intensity"),
        ("B  encrypted (channel mean)", samples["encrypted_mean"][index], "E = (z + K)²"),
        ("C  retrieved", samples["retrieved"][index], "image intensity"),
        ("C − A", samples["retrieved"][index] - samples["original"][index], "difference"),
    ]
    fig, axes = plt.subplots(1, 4, figsize=(13, 3.4), layout="constrained")
    for ax, (title, img, unit) in zip(axes, panels, strict=True):
        diff = title.startswith("C −")
        lim = float(np.abs(img).max()) or 1.0
        im = ax.imshow(img, cmap="RdBu_r" if diff else "gray", vmin=-lim if diff else None, vmax=lim if diff else None)
        ax.set_title(title)
        ax.set_xticks([])
        ax.set_yticks([])
        ax.grid(False)
        fig.colorbar(im, ax=ax, shrink=0.8, label=unit)
    return fig
