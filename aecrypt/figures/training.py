"""What training reached, drawn for the training budget: each run's autoencoder loss against optimizer steps
beside the build's and the paper's budgets, and each run against the training set's mean image (the runs that
did not train). In the project's one style (aecrypt.mplstyle)."""

from __future__ import annotations

from collections.abc import Mapping

import matplotlib.pyplot as plt
import pandas as pd

from aecrypt.budget import PAPER_STEPS
from aecrypt.figures import colours
from aecrypt.figures.paper_figures import NOT_TRAINED, ok_runs
from aecrypt.figures.runstrip import use_style
from aecrypt.stats import training


def loss_curves(
    summary: pd.DataFrame,
    histories: Mapping[str, pd.DataFrame],
    steps_per_epoch: Mapping[str, float],
    built: float,
    long_runs: pd.DataFrame | None = None,
) -> plt.Figure:
    """Autoencoder training loss against optimizer steps (log axes), mean over seeds, one line per combination
    coloured by optimizer (dashed where its runs did not train), one panel per loss function, with the build's
    budget (`built` steps) and the paper's marked; `long_runs` (columns label, seed, loss_fn, step, loss: `make
    bench-convergence`) drawn in black to where they reached."""
    ok = ok_runs(summary)
    use_style()
    losses = list(dict.fromkeys(ok["loss"]))
    fig, axes = plt.subplots(len(losses), 1, figsize=(9, 5.2 * len(losses)), layout="constrained", squeeze=False)
    optimizers = list(dict.fromkeys(ok["optimizer"]))
    by_optimizer = dict(zip(optimizers, colours.categorical(), strict=False))
    for ax, loss in zip(axes[:, 0], losses, strict=True):
        part = ok[ok["loss"] == loss]
        seen = set()
        for label, group in part.groupby("label", sort=False):
            frames = []
            for r in group["run_id"]:
                ae = histories[r][histories[r]["model"] == "autoencoder"]
                frames.append(ae.assign(step=ae["epoch"] * steps_per_epoch[r]))
            ae = pd.concat(frames).groupby("step")["loss"].mean()
            opt = group["optimizer"].iloc[0]
            style = {"ls": "--", "lw": 1.0} if NOT_TRAINED in label else {"lw": 1.3}
            ax.plot(ae.index, ae.values, color=by_optimizer[opt], label=None if opt in seen else opt, **style)
            seen.add(opt)
        if long_runs is not None and not long_runs.empty:
            mine = long_runs[long_runs["loss_fn"] == loss]
            for i, ((label, seed), run) in enumerate(mine.groupby(["label", "seed"])):
                ax.plot(run["step"], run["loss"], color="0.1", lw=0.9, label="long runs" if i == 0 else None)
                end = (run["step"].iloc[-1], run["loss"].iloc[-1])
                ax.annotate(f"{label} · {seed}", end, fontsize=6.5, color="0.2")
        ax.axvline(built, color="0.35", ls=":", lw=1.2, label=f"this build ({built:,.0f} steps)")
        ax.axvline(PAPER_STEPS, color="0.1", ls="-.", lw=1.2, label=f"paper ({PAPER_STEPS:,} steps)")
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set(xlabel="optimizer steps (log scale)", ylabel=f"training loss ({loss.upper()}, log scale)")
        ax.set_title(f"{loss.upper()} runs")
        ax.legend(title="optimizer", fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.2), ncols=4)
    fig.suptitle(
        "Autoencoder training loss against optimizer steps (each line: one combination, mean over seeds; dashed: "
        "did not train)"
    )
    return fig


def not_trained_runs(summary: pd.DataFrame) -> plt.Figure:
    """Every run's autoencoder against the training set's mean image predicted for every test image: its test MSE
    as a multiple of the mean image's (log scale) and its SSIM, coloured by optimizer; crosses: not trained
    (`stats.training`: beaten by the mean image on both measures, the lower-right region)."""
    ok = summary[summary["status"] == "ok"]
    ok = ok[ok["mse_mean_image"].notna()] if "mse_mean_image" in ok else ok.iloc[:0]
    use_style()
    fig, ax = plt.subplots(figsize=(8.5, 4.8), layout="constrained")
    marked = training.not_trained(ok)
    by_optimizer = dict(zip(dict.fromkeys(ok["optimizer"]), colours.categorical(), strict=False))
    for optimizer, colour in by_optimizer.items():
        mine = ok["optimizer"] == optimizer
        for bad, marker in ((False, "o"), (True, "x")):
            part = ok[mine & (marked == bad)]
            label = f"{optimizer}{' (not trained)' if bad else ''}" if len(part) else None
            ax.scatter(
                part["mse"] / part["mse_mean_image"],
                part["ssim"],
                color=colour,
                marker=marker,
                s=28,
                label=label,
                lw=1.4 if bad else 0.5,
                edgecolor="0.15" if not bad else None,
            )
    ax.axvline(1.0, color="0.3", ls="--", lw=1)
    if "ssim_mean_image" in ok and ok["ssim_mean_image"].notna().any():
        ax.axhline(float(ok["ssim_mean_image"].mean()), color="0.3", ls=":", lw=1, label="the mean image's SSIM")
    ax.set_xscale("log")
    ax.set(
        xlabel="test MSE ÷ the mean image's (log scale; right of the dashed line: worse than it)",
        ylabel="SSIM against the originals",
    )
    ax.set_title("Each run's autoencoder against the training set's mean image", loc="left")
    ax.legend(fontsize=8, ncols=2, loc="upper right")
    return fig
