"""What a run notebook draws for itself (the Fig. 4 strip), and the project's one style. Kept apart from the
book's figure code (`paper_figures`, `panels`, `ratedistortion`, `training`), so that editing a book figure is outside
every run's identity (see `runs.run_id`): a run imports this module and the package's `__init__` only."""

from __future__ import annotations

from collections.abc import Mapping

import matplotlib.pyplot as plt
import numpy as np

from aecrypt import paths


def use_style() -> None:
    """The project's one matplotlib style, for run notebooks and book figures alike.

    Parameters
    ----------
    None
        It takes no arguments; it applies `paths.STYLE` (aecrypt.mplstyle) to matplotlib's global settings.

    Returns
    -------
    None
        Every figure drawn afterwards in this process uses the style.

    Examples
    --------
    >>> use_style()
    >>> plt.rcParams["image.cmap"], plt.rcParams["axes.grid"], plt.rcParams["figure.dpi"]
    ('gray', True, 110.0)
    """
    plt.style.use(paths.STYLE)


def fig4_pipeline(samples: Mapping[str, np.ndarray], index: int = 0) -> plt.Figure:
    """Fig. 4: A original, B encrypted latent (mean over channels of E = (z + K)²), C retrieved.

    A fourth panel shows C − A on a red-blue scale symmetric about 0. Applies `use_style` first.

    Parameters
    ----------
    samples : mapping of str to ndarray
        A run's `retrieval.Retrieved.samples` (or its samples.npz): at least "original" and "retrieved", each
        (n, H, W) in [0, 1], and "encrypted_mean", (n, h, w) over the latent's positions.
    index : int, optional
        Which of the n images, 0 to n-1.

    Returns
    -------
    matplotlib.figure.Figure
        One row of four image panels, each with a colour bar (eight axes in all); the caller closes it.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> rng = np.random.default_rng(0)
    >>> samples = {"original": rng.random((2, 32, 32)), "encrypted_mean": rng.random((2, 16, 16)),
    ...            "retrieved": rng.random((2, 32, 32))}
    >>> fig = fig4_pipeline(samples, index=1)
    >>> len(fig.axes), [ax.get_title() for ax in fig.axes[:4]]
    (8, ['A  original', 'B  encrypted (channel mean)', 'C  retrieved', 'C − A'])
    >>> plt.close(fig)
    """
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
