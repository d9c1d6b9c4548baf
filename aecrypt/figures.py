"""One function per paper figure. Each takes the results table (and run files), never trains,
and returns a matplotlib Figure drawn in the project's one style (aecrypt.mplstyle)."""

from __future__ import annotations

from collections.abc import Mapping

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.ticker import MaxNLocator

from .runplots import fig4_pipeline, use_style  # noqa: F401  (the run notebook draws Fig. 4 too)

PAPER_COUNTS = {"negative": 5800, "positive": 3200}


def _ok(summary: pd.DataFrame) -> pd.DataFrame:
    return summary[summary["status"] == "ok"]


def _bars(ax, frame: pd.DataFrame, columns: Mapping[str, str], xlabel: str, title: str) -> None:
    """Grouped horizontal bars: one row per combination (in table order), one bar per column.
    Horizontal, so that combination names stay readable at the page width."""
    long = frame.melt(id_vars="label", value_vars=list(columns), var_name="metric", value_name="value")
    long["metric"] = long["metric"].map(columns)
    sns.barplot(long, y="label", x="value", hue="metric", ax=ax, order=list(frame["label"]), orient="h")
    ax.set_ylabel("combination (loss + optimizer + activation + depth)")
    ax.set_xlabel(xlabel)
    ax.set_title(title, pad=22)
    ax.grid(axis="y", visible=False)
    ax.legend(title=None, ncols=len(columns), loc="lower left", bbox_to_anchor=(0, 1.0), borderaxespad=0.2)


def _height(n_rows: int, n_bars: int) -> float:
    return 1.6 + n_rows * (0.16 + 0.07 * n_bars)


def _wide(summary: pd.DataFrame, n_bars: int) -> tuple[plt.Figure, plt.Axes]:
    use_style()
    return plt.subplots(figsize=(8.5, _height(len(summary), n_bars)), layout="constrained")


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
        sns.barplot(frame, x="class", y=col, hue="source", ax=ax)
        ax.set_ylabel(label)
        ax.set_xlabel("class (positive = finding)")
        for container in ax.containers:
            ax.bar_label(container, fmt="%.0f" if col == "images" else "%.2f", fontsize=8)
    axes[0].set_yscale("log")
    axes[0].set_title("Image counts (log scale)")
    axes[1].set_title("Class shares")
    axes[1].get_legend().remove()
    return fig


def fig6_reconstruction(summary: pd.DataFrame) -> plt.Figure:
    """Fig. 6: MSE and MAE of the retrieved test images per combination."""
    ok = _ok(summary)
    fig, ax = _wide(ok, 2)
    _bars(
        ax,
        ok,
        {"mse": "MSE", "mae": "MAE"},
        "error (image intensity in [0, 1])",
        "Reconstruction error after encoder → cipher → decoder (test split)",
    )
    return fig


def fig7_loss_checkpoints(summary: pd.DataFrame, checkpoints: list[int]) -> plt.Figure:
    """Fig. 7: training loss at the three epoch checkpoints, one panel per loss function
    (MSE and MSLE values are on different scales and are not comparable)."""
    ok = _ok(summary)
    losses = list(dict.fromkeys(ok["loss"]))
    cols = {f"loss_at_{c}": f"epoch {c}" for c in checkpoints}
    use_style()
    heights = [_height(int((ok["loss"] == loss).sum()), len(cols)) for loss in losses]
    fig, axes = plt.subplots(
        len(losses), 1, figsize=(8.5, sum(heights)), layout="constrained", squeeze=False, height_ratios=heights
    )
    for ax, loss in zip(axes[:, 0], losses, strict=True):
        part = ok[ok["loss"] == loss]
        _bars(ax, part, cols, f"training loss ({loss.upper()}, log scale)", f"{loss.upper()} runs")
        ax.set_xscale("log")  # losses fall by orders of magnitude between checkpoints
        ax.set_xlim(left=float(part[list(cols)].min().min()) / 2)
    return fig


def fig8_classification(summary: pd.DataFrame) -> plt.Figure:
    """Fig. 8: recall, precision, F1 and ROC-AUC of the classifier on retrieved test images."""
    ok = _ok(summary)
    fig, ax = _wide(ok, 4)
    _bars(
        ax,
        ok,
        {"recall": "recall", "precision": "precision", "f1": "F1", "auc": "AUC"},
        "score",
        "Classifier on retrieved images (test split)",
    )
    ax.set_xlim(0, 1)
    return fig


def fig9_accuracy(summary: pd.DataFrame) -> plt.Figure:
    """Fig. 9: train and test accuracy of the classifier on retrieved images."""
    ok = _ok(summary)
    fig, ax = _wide(ok, 2)
    _bars(
        ax,
        ok,
        {"train_accuracy": "train accuracy", "test_accuracy": "test accuracy"},
        "accuracy",
        "Classifier accuracy on retrieved images",
    )
    ax.set_xlim(0, 1)
    majority = 1 - ok["n_test_positive"].iloc[0] / ok["n_test"].iloc[0]
    ax.axvline(majority, color="0.3", ls="--", lw=1, label="always 'negative'")
    ax.legend(title=None, ncols=3, loc="lower left", bbox_to_anchor=(0, 1.0), borderaxespad=0.2)
    return fig


def best_panel(
    label: str, history: pd.DataFrame, run_metrics: Mapping[str, float], confusion: pd.DataFrame
) -> plt.Figure:
    """The unnumbered panel: A AE train/val loss, B MSE and MAE over epochs, C classification metrics,
    D confusion matrix, E classifier training iterations."""
    use_style()
    fig = plt.figure(figsize=(13, 8), layout="constrained")
    grid = fig.add_gridspec(2, 6)
    ax_a, ax_b = fig.add_subplot(grid[0, :3]), fig.add_subplot(grid[0, 3:])
    ax_c, ax_d, ax_e = fig.add_subplot(grid[1, :2]), fig.add_subplot(grid[1, 2:4]), fig.add_subplot(grid[1, 4:])
    ae = history[history["model"] == "autoencoder"]
    clf = history[history["model"] == "classifier"]
    ax_a.plot(ae["epoch"], ae["loss"], marker="o", label="train")
    ax_a.plot(ae["epoch"], ae["val_loss"], marker="s", label="validation")
    ax_a.set(title="A  autoencoder loss", xlabel="epoch", ylabel="loss")
    ax_a.legend()
    for col, name in (("mse", "MSE"), ("mae", "MAE"), ("val_mse", "val MSE"), ("val_mae", "val MAE")):
        ax_b.plot(
            ae["epoch"],
            ae[col],
            marker="o" if "val" not in col else "s",
            ls="-" if "val" not in col else "--",
            label=name,
        )
    ax_b.set(title="B  MSE and MAE over epochs", xlabel="epoch", ylabel="error")
    ax_b.legend(ncols=2)
    names = ["recall", "precision", "f1", "auc", "test_accuracy"]
    values = [run_metrics[n] for n in names]
    ax_c.bar(["recall", "precision", "F1", "AUC", "accuracy"], values, color=sns.color_palette()[:5])
    ax_c.set(title="C  classification (test)", ylim=(0, 1.1), ylabel="score")
    ax_c.bar_label(ax_c.containers[0], fmt="%.2f", fontsize=8)
    sns.heatmap(
        confusion.values,
        annot=True,
        fmt="d",
        cmap="Blues",
        cbar=False,
        ax=ax_d,
        xticklabels=["pred. neg.", "pred. pos."],
        yticklabels=["actual neg.", "actual pos."],
    )
    ax_d.set_title("D  confusion matrix")
    ax_e.plot(clf["epoch"], clf["accuracy"], marker="o", label="train accuracy")
    ax_e.plot(clf["epoch"], clf["val_accuracy"], marker="s", label="val accuracy")
    ax_e.plot(clf["epoch"], clf["loss"], ls="--", label="train loss")
    ax_e.plot(clf["epoch"], clf["val_loss"], ls="--", label="val loss")
    ax_e.set(title="E  classifier training", xlabel="epoch", ylabel="accuracy / loss")
    ax_e.legend(fontsize=8)
    for ax in (ax_a, ax_b, ax_e):
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))  # epochs are whole numbers
    fig.suptitle(f"Best autoencoder combination: {label}")
    return fig


def fig10_roc(rocs: Mapping[str, pd.DataFrame], aucs: Mapping[str, float]) -> plt.Figure:
    """Fig. 10: ROC curves of the classifier on retrieved images, one per combination."""
    use_style()
    fig, ax = plt.subplots(figsize=(8, 8.5 + 0.12 * len(rocs)), layout="constrained")
    palette = sns.color_palette("colorblind", len(rocs))
    styles = ["-", "--", ":", "-."]
    for i, (label, roc) in enumerate(rocs.items()):
        ax.plot(
            roc["fpr"],
            roc["tpr"],
            color=palette[i],
            ls=styles[(i // len(palette)) % 4] if len(rocs) > 10 else "-",
            lw=1.4,
            label=f"{label} (AUC {aucs[label]:.2f})",
        )
    ax.plot([0, 1], [0, 1], color="0.5", lw=1, ls=":", label="chance")
    ax.set(
        xlabel="false positive rate",
        ylabel="true positive rate",
        xlim=(0, 1),
        ylim=(0, 1.01),
        title="ROC of the classifier on retrieved images (test split)",
    )
    ax.legend(fontsize=8.5, loc="upper center", bbox_to_anchor=(0.5, -0.1), ncols=2)
    ax.set_aspect("equal")
    return fig


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


def ciphertext_leak(samples: Mapping[str, np.ndarray]) -> plt.Figure:
    """What an eavesdropper learns: from one known pair (z₁, E₁) the key, √E₁ − z₁ = K; from two
    ciphertexts alone, the difference of their latents, √E₁ − √E₂ = z₁ − z₂ (the key cancels)."""
    use_style()
    z, e = samples["latent_channel0"], samples["encrypted_channel0"]
    panels = [
        ("latent z₁ (channel 0)", z[0]),
        ("ciphertext E₁ = (z₁ + K)²", e[0]),
        ("key K", samples["key"]),
        ("√E₁ − z₁: the key, from one pair", np.sqrt(e[0]) - z[0]),
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
