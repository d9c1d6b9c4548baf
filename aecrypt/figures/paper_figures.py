"""One function per paper figure. Each takes the results table (and run files), never trains,
and returns a matplotlib Figure drawn in the project's one style (aecrypt.mplstyle)."""

from __future__ import annotations

from collections.abc import Mapping

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.ticker import MaxNLocator

from aecrypt.figures import colours
from aecrypt.figures.runstrip import use_style
from aecrypt.paper.reported import PAPER_COUNTS
from aecrypt.stats import training
from aecrypt.stats.intervals import SCORE_RANGE, t_interval

#: How a combination with runs that did not train is named in every figure (and its bars are hatched).
NOT_TRAINED = "not trained"


def ok_runs(summary: pd.DataFrame) -> pd.DataFrame:
    """The finished runs, each combination with runs that did not train renamed by `training_labels`.

    Parameters
    ----------
    summary : pandas.DataFrame
        The results table: a status column ("ok" for a finished run), a label column (the combination) and the
        columns `training.not_trained` reads (mse, mse_mean_image, ...).

    Returns
    -------
    pandas.DataFrame
        The rows whose status is "ok", their labels as the figures name them: 'NAME (not trained k/n)' where k of
        the combination's n finished runs did not train.

    Examples
    --------
    >>> summary = pd.DataFrame({"label": ["A", "A", "B", "B"], "status": ["ok", "ok", "ok", "failed"],
    ...                         "mse": [0.01, 0.05, 0.02, None], "mse_mean_image": [0.03] * 4})
    >>> ok_runs(summary)["label"].tolist()
    ['A (not trained 1/2)', 'A (not trained 1/2)', 'B']
    """
    ok = summary[summary["status"] == "ok"]
    return ok.assign(label=ok["label"].map(training_labels(ok)))


def training_labels(frame: pd.DataFrame) -> dict[str, str]:
    """{combination: its name in a figure}: 'NAME (not trained k/n)' where k of its n runs did not train."""
    counts = training.collapsed(frame)
    return {g: f"{g} ({NOT_TRAINED} {counts[g][0]}/{counts[g][1]})" if g in counts else g for g in frame["label"]}


def _hatch_untrained(bars, labels: list[str]) -> None:
    """Bars of combinations with runs that did not train: hatched and pale, so they read as no result."""
    for bar, label in zip(bars, labels, strict=True):
        if NOT_TRAINED in label:
            bar.set_hatch("////")
            bar.set_alpha(0.45)


REFERENCE_LABEL = "original images (reference)"
#: Columns whose values are scores in [0, 1]: their intervals are clipped to that range.
SCORES = {"recall", "precision", "f1", "auc", "accuracy", "train_accuracy", "test_accuracy"}


def _means(frame: pd.DataFrame, columns: Mapping[str, str]) -> pd.DataFrame:
    """Per combination (table order) and column: the mean over seeds and its 95 % t-interval."""
    rows = []
    for label, group in frame.groupby("label", sort=False):
        for col in columns:
            ci = t_interval(group[col], bounds=SCORE_RANGE if col in SCORES else None)
            rows.append({"label": label, "metric": col, "mean": ci.estimate, "low": ci.low, "high": ci.high})
    return pd.DataFrame(rows)


def _bars(ax, frame: pd.DataFrame, columns: Mapping[str, str], xlabel: str, title: str) -> None:
    """Grouped horizontal bars: one row per combination (in table order), one bar per column, each the mean
    over the combination's seeds with its 95 % t-interval as an error bar (none where one seed ran).
    Horizontal, so that combination names stay readable at the page width."""
    stats = _means(frame, columns)
    labels = list(dict.fromkeys(frame["label"]))
    palette = colours.categorical()
    for j, (col, name) in enumerate(columns.items()):
        part = stats[stats["metric"] == col].set_index("label").reindex(labels)
        y, height = _bar_rows(len(labels), len(columns), j)
        err = np.nan_to_num(np.vstack([part["mean"] - part["low"], part["high"] - part["mean"]]))
        bars = ax.barh(y, part["mean"], height=height, color=palette[j], label=name)
        _hatch_untrained(bars, labels)
        ax.errorbar(part["mean"], y, xerr=err, fmt="none", ecolor="0.15", elinewidth=0.8, capsize=1.5)
    _label_rows(ax, labels, len(columns), xlabel, "combination (loss + optimizer + activation + depth)", title)


def _bar_rows(n_rows: int, n_bars: int, j: int) -> tuple[np.ndarray, float]:
    """Positions and height of the j-th of `n_bars` bars in each of `n_rows` rows."""
    height = 0.8 / n_bars
    return np.arange(n_rows) + (j - (n_bars - 1) / 2) * height, height


def _label_rows(ax, labels: list[str], n_bars: int, xlabel: str, ylabel: str, title: str) -> None:
    """The row names top to bottom, axis labels, title, and the legend above the axes."""
    ax.set_yticks(np.arange(len(labels)), labels)
    ax.set_ylim(len(labels) - 0.5, -0.5)
    ax.set_ylabel(ylabel)
    ax.set_xlabel(xlabel)
    ax.set_title(title, pad=22)
    ax.grid(axis="y", visible=False)
    ax.legend(title=None, ncols=n_bars, loc="lower left", bbox_to_anchor=(0, 1.0), borderaxespad=0.2)


def _with_reference(ok: pd.DataFrame, columns: Mapping[str, str]) -> pd.DataFrame:
    """The runs, under one extra row: the classifier on the original images (the shared baseline of each
    seed, from the original_* columns)."""
    ref_cols = {f"original_{c}": c for c in columns if f"original_{c}" in ok}
    if not ref_cols or ok[list(ref_cols)].isna().all().all():
        return ok
    ref = ok.drop_duplicates("seed")[list(ref_cols)].rename(columns=ref_cols).assign(label=REFERENCE_LABEL)
    return pd.concat([ref, ok], ignore_index=True)


def _height(n_rows: int, n_bars: int) -> float:
    return 1.6 + n_rows * (0.16 + 0.07 * n_bars)


def _wide(frame: pd.DataFrame, n_bars: int) -> tuple[plt.Figure, plt.Axes]:
    use_style()
    return plt.subplots(figsize=(8.5, _height(frame["label"].nunique(), n_bars)), layout="constrained")


INTERVAL_NOTE = (
    "bars: mean over training seeds; error bars: 95 % t-interval over seeds; hatched: runs that did not train"
)


def fig5_class_counts(counts: Mapping[str, int], data_label: str) -> plt.Figure:
    """Fig. 5: negative and positive counts of the data used, beside the paper's 5800 / 3200."""
    use_style()
    frame = pd.DataFrame(
        [{"source": "paper (NIH, 9000)", "class": k, "images": v} for k, v in PAPER_COUNTS.items()]
        + [{"source": f"this build ({data_label})", "class": k, "images": v} for k, v in counts.items()]
    )
    frame["share"] = frame["images"] / frame.groupby("source")["images"].transform("sum")
    fig, axes = plt.subplots(1, 2, figsize=(10, 4), layout="constrained")
    for ax, col, label in ((axes[0], "images", "images"), (axes[1], "share", "share of images")):
        sns.barplot(frame, x="class", y=col, hue="source", palette=colours.categorical()[:2], ax=ax)
        ax.set_ylabel(label)
        ax.set_xlabel("class (positive = finding)")
        for container in ax.containers:
            ax.bar_label(container, fmt="%.0f" if col == "images" else "%.2f", fontsize=8)
    axes[0].set_yscale("log")
    axes[0].set_title("Image counts (log scale)")
    axes[1].set_title("Class shares")
    axes[0].get_legend().remove()  # one legend, outside the bars: inside, the paper's swatch sat on its own bar
    sns.move_legend(axes[1], "upper left", bbox_to_anchor=(1.02, 1), title=None, frameon=False)
    return fig


def fig6_reconstruction(summary: pd.DataFrame) -> plt.Figure:
    """Fig. 6: MSE and MAE of the retrieved test images per combination."""
    ok = ok_runs(summary)
    fig, ax = _wide(ok, 2)
    _bars(
        ax,
        ok,
        {"mse": "MSE", "mae": "MAE"},
        "error (image intensity in [0, 1])",
        f"Reconstruction error after encoder → cipher → decoder (test split)\n{INTERVAL_NOTE}",
    )
    return fig


def fig7_loss_checkpoints(summary: pd.DataFrame, checkpoints: list[int]) -> plt.Figure:
    """Fig. 7: training loss at the three epoch checkpoints, one panel per loss function (MSE and MSLE
    values are on different scales and are not comparable). Bars are means over seeds; dots are the seeds,
    so the spread across seeds shows at each checkpoint."""
    ok = ok_runs(summary)
    losses = list(dict.fromkeys(ok["loss"]))
    cols = {f"loss_at_{c}": f"epoch {c}" for c in checkpoints}
    use_style()
    heights = [_height(ok.loc[ok["loss"] == loss, "label"].nunique(), len(cols)) for loss in losses]
    fig, axes = plt.subplots(
        len(losses), 1, figsize=(8.5, sum(heights)), layout="constrained", squeeze=False, height_ratios=heights
    )
    palette = colours.categorical()
    for ax, loss in zip(axes[:, 0], losses, strict=True):
        part = ok[ok["loss"] == loss]
        labels = list(dict.fromkeys(part["label"]))
        rows = part["label"].map({lab: i for i, lab in enumerate(labels)}).to_numpy()
        for j, (col, name) in enumerate(cols.items()):
            means = part.groupby("label", sort=False)[col].mean().reindex(labels)
            y, height = _bar_rows(len(labels), len(cols), j)
            bars = ax.barh(y, means, height=height, color=palette[j], label=name, alpha=0.85)
            _hatch_untrained(bars, labels)
            ax.scatter(part[col], y[rows], s=7, color="0.1", zorder=3, lw=0)  # one dot per seed
        ax.set_xscale("log")  # losses fall by orders of magnitude between checkpoints
        ax.set_xlim(left=float(part[list(cols)].min().min()) / 2)
        _label_rows(
            ax,
            labels,
            len(cols),
            f"training loss ({loss.upper()}, log scale)",
            "combination",
            f"{loss.upper()} runs — bars: mean over seeds; dots: each seed",
        )
    return fig


def fig8_classification(summary: pd.DataFrame) -> plt.Figure:
    """Fig. 8: recall, precision, F1 and ROC-AUC of the classifier on retrieved test images."""
    columns = {"recall": "recall", "precision": "precision", "f1": "F1", "auc": "AUC"}
    frame = _with_reference(ok_runs(summary), columns)
    fig, ax = _wide(frame, 4)
    _bars(ax, frame, columns, "score", f"Classifier on retrieved images (test split)\n{INTERVAL_NOTE}")
    ax.set_xlim(0, 1)
    return fig


def fig9_accuracy(summary: pd.DataFrame) -> plt.Figure:
    """Fig. 9: train and test accuracy of the classifier on retrieved images."""
    ok = ok_runs(summary)
    columns = {"train_accuracy": "train accuracy", "test_accuracy": "test accuracy"}
    frame = _with_reference(ok, columns)
    fig, ax = _wide(frame, 2)
    _bars(ax, frame, columns, "accuracy", f"Classifier accuracy on retrieved images\n{INTERVAL_NOTE}")
    ax.set_xlim(0, 1)
    majority = 1 - ok["n_test_positive"].iloc[0] / ok["n_test"].iloc[0]
    ax.axvline(majority, color="0.3", ls="--", lw=1, label="always 'negative'")
    ax.legend(title=None, ncols=3, loc="lower left", bbox_to_anchor=(0, 1.0), borderaxespad=0.2)
    return fig


def _band(ax, frame: pd.DataFrame, x: str, y: str, label: str, **style) -> None:
    """Mean of `y` over seeds at each `x`, with a 95 % t-band where there are several seeds."""
    rows = [(xv, t_interval(g[y])) for xv, g in frame.groupby(x)]
    xs = np.array([r[0] for r in rows], float)
    mean = np.array([r[1].estimate for r in rows])
    line = ax.plot(xs, mean, label=label, **style)[0]
    low, high = np.array([r[1].low for r in rows]), np.array([r[1].high for r in rows])
    if np.isfinite(low).any():
        ax.fill_between(xs, low, high, color=line.get_color(), alpha=0.18, lw=0)


def best_panel(
    label: str, histories: list[pd.DataFrame], run_metrics: list[Mapping[str, float]], confusions: list[pd.DataFrame]
) -> plt.Figure:
    """The unnumbered panel, over the combination's training seeds: A AE train/val loss, B MSE and MAE over
    epochs (mean with 95 % t-bands), C classification metrics (mean, 95 % t-interval), D confusion matrix
    summed over seeds, E classifier training iterations (mean with bands)."""
    use_style()
    fig = plt.figure(figsize=(13, 8), layout="constrained")
    grid = fig.add_gridspec(2, 6)
    ax_a, ax_b = fig.add_subplot(grid[0, :3]), fig.add_subplot(grid[0, 3:])
    ax_c, ax_d, ax_e = fig.add_subplot(grid[1, :2]), fig.add_subplot(grid[1, 2:4]), fig.add_subplot(grid[1, 4:])
    history = pd.concat(histories, ignore_index=True)
    ae = history[history["model"] == "autoencoder"]
    clf = history[history["model"] == "classifier"]
    _band(ax_a, ae, "epoch", "loss", "train", marker="o")
    _band(ax_a, ae, "epoch", "val_loss", "validation", marker="s")
    ax_a.set(title="A  autoencoder loss", xlabel="epoch", ylabel="loss")
    ax_a.legend()
    for col, name in (("mse", "MSE"), ("mae", "MAE"), ("val_mse", "val MSE"), ("val_mae", "val MAE")):
        val = "val" in col
        _band(ax_b, ae, "epoch", col, name, marker="s" if val else "o", ls="--" if val else "-")
    ax_b.set(title="B  MSE and MAE over epochs", xlabel="epoch", ylabel="error")
    ax_b.legend(ncols=2)
    names = ["recall", "precision", "f1", "auc", "test_accuracy"]
    cis = [t_interval([m[n] for m in run_metrics], bounds=SCORE_RANGE) for n in names]
    means = np.array([c.estimate for c in cis])
    err = np.nan_to_num(np.array([[c.estimate - c.low for c in cis], [c.high - c.estimate for c in cis]]))
    ax_c.bar(["recall", "precision", "F1", "AUC", "accuracy"], means, color=colours.categorical()[:5])
    ax_c.errorbar(np.arange(5), means, yerr=err, fmt="none", ecolor="0.15", capsize=3, lw=1)
    ax_c.set(title="C  classification (test)", ylim=(0, 1.05), ylabel="score (mean over seeds)")
    ax_c.bar_label(ax_c.containers[0], fmt="%.2f", fontsize=8, label_type="center")
    total = sum(c.values for c in confusions)
    sns.heatmap(
        total,
        annot=True,
        fmt="d",
        cmap=colours.SEQUENTIAL,
        cbar=False,
        ax=ax_d,
        xticklabels=["pred. neg.", "pred. pos."],
        yticklabels=["actual neg.", "actual pos."],
    )
    ax_d.set_title(f"D  confusion matrix ({len(confusions)} seed(s) summed)")
    _band(ax_e, clf, "epoch", "accuracy", "train accuracy", marker="o")
    _band(ax_e, clf, "epoch", "val_accuracy", "val accuracy", marker="s")
    _band(ax_e, clf, "epoch", "loss", "train loss", ls="--")
    _band(ax_e, clf, "epoch", "val_loss", "val loss", ls="--")
    ax_e.set(title="E  classifier training", xlabel="epoch", ylabel="accuracy / loss")
    ax_e.legend(fontsize=8)
    for ax in (ax_a, ax_b, ax_e):
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))  # epochs are whole numbers
    fig.suptitle(
        f"Best autoencoder combination: {label} — lines: mean over {len(histories)} training seed(s); "
        "bands and error bars: 95 % t-interval"
    )
    return fig


FPR_GRID = np.linspace(0, 1, 201)


def mean_roc(rocs: list[pd.DataFrame]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Vertical averaging: each seed's ROC curve read at the same false-positive rates, then the mean TPR and
    its pointwise 95 % t-interval (NaN with one seed)."""
    tprs = np.array([np.interp(FPR_GRID, r["fpr"], r["tpr"]) for r in rocs])
    cis = [t_interval(col) for col in tprs.T]
    low = np.clip([c.low for c in cis], 0, 1)
    high = np.clip([c.high for c in cis], 0, 1)
    return tprs.mean(axis=0), low, high


def fig10_roc(
    rocs: Mapping[str, list[pd.DataFrame]],
    aucs: Mapping[str, str],
    reference: list[pd.DataFrame] | None = None,
    highlight: tuple[str, ...] = (),
) -> plt.Figure:
    """Fig. 10: ROC curves of the classifier on retrieved images, one panel per optimizer so that curves can
    be told apart: each combination's mean curve over seeds with a 95 % pointwise band; the classifier on
    the original images in grey; the combinations the paper names (`highlight`) drawn thick and starred.
    `aucs` holds each combination's AUC text for the legend (mean and interval)."""
    use_style()
    panels: dict[str, list[str]] = {}
    for label in rocs:
        panels.setdefault(label.split("+")[1], []).append(label)
    # one panel per row, legend beside it: at the book's page width, side-by-side panels are unreadable
    fig, axes = plt.subplots(len(panels), 1, figsize=(9, 4.2 * len(panels) + 0.4), layout="constrained", squeeze=False)
    palette = colours.categorical()
    for ax, (optimizer, labels) in zip(axes.ravel(), panels.items(), strict=False):
        if reference:
            tpr, _, _ = mean_roc(reference)
            ax.plot(FPR_GRID, tpr, color="0.45", lw=1.6, ls="--", label="original images (reference)")
        for i, label in enumerate(labels):
            tpr, low, high = mean_roc(rocs[label])
            star = label in highlight
            line = ax.plot(
                FPR_GRID,
                tpr,
                color=palette[i % len(palette)],
                lw=2.8 if star else 1.3,
                ls="--" if NOT_TRAINED in label else "-",
                label=f"{'★ ' if star else ''}{label}: {aucs[label]}",
            )[0]
            if np.isfinite(low).any():
                ax.fill_between(FPR_GRID, low, high, color=line.get_color(), alpha=0.15, lw=0)
        ax.plot([0, 1], [0, 1], color="0.6", lw=1, ls=":")
        ax.set(xlabel="false positive rate", ylabel="true positive rate", xlim=(0, 1), ylim=(0, 1.01))
        ax.set_title(f"{optimizer} runs", loc="left")
        ax.set_aspect("equal")
        ax.legend(fontsize=8.5, loc="center left", bbox_to_anchor=(1.03, 0.5), title="AUC: mean [95 % t-interval]")
    fig.suptitle(
        "ROC of the classifier on retrieved images (test split)\nmean over training seeds; band: pointwise 95 % "
        "t-interval; ★: named in the paper's Fig. 10 text; dashed: autoencoder did not train"
    )
    return fig
