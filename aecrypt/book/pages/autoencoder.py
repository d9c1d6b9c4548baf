"""The autoencoder's page: Figs. 6 and 7 (reconstruction error and loss per combination)."""

from __future__ import annotations

from aecrypt.book import page
from aecrypt.book.pages.factors import effects_sentence
from aecrypt.figures import paper_figures
from aecrypt.runs.results import Results
from aecrypt.stats import training
from aecrypt.stats.intervals import t_interval


def mse_extremes(results: Results) -> dict:
    """The lowest and highest mean test MSE over the seeds that trained (`stats.training`), each with its
    t-interval, their ratio, and the sentence naming what was left out."""
    ok = results.ok
    trained = ok[~training.not_trained(ok)]
    trained = trained if len(trained) else ok  # nothing trained: the extremes of what there is
    means = trained.groupby("label", sort=False)["mse"].mean()
    best, worst = means.idxmin(), means.idxmax()
    collapsed = training.collapsed(ok)
    left_out = (
        f" Runs that did not train ({sum(k for k, _ in collapsed.values())}, hatched) are left out of both."
        if collapsed
        else ""
    )
    return {
        "best": best,
        "worst": worst,
        "best_ci": t_interval(trained[trained["label"] == best]["mse"]),
        "worst_ci": t_interval(trained[trained["label"] == worst]["mse"]),
        "ratio": means.max() / means.min(),
        "left_out": left_out,
    }


def autoencoder_facts(results: Results) -> dict:
    m = mse_extremes(results)
    return {
        "ae_best": m["best"],
        "ae_best_mse": format(m["best_ci"], ".2g"),
        "ae_worst": m["worst"],
        "ae_worst_mse": format(m["worst_ci"], ".2g"),
        "ae_ratio": f"{m['ratio']:.1f}",
        "ae_left_out": page.md(m["left_out"]),
        "ae_effects": page.md(effects_sentence(results, "mse", "test MSE")),
    }


def fig6_note(results: Results):
    m = mse_extremes(results)
    return page.note(
        results,
        "Fig. 6",
        f"lowest mean test MSE: {m['best']} ({m['best_ci']:.3g}, mean over seeds [95 % t-interval]); highest: "
        f"{m['worst']} ({m['worst_ci']:.3g}).{m['left_out']} MSE and MAE are measured on the retrieved test images, "
        "after the cipher and its inverse.",
    )


def fig7_figure(results: Results):
    return paper_figures.fig7_loss_checkpoints(results.summary, list(results.settings.checkpoints))


def fig7_note(results: Results):
    cps = results.settings.checkpoints
    ok = results.ok
    losses = ok[[f"loss_at_{c}" for c in cps]]
    falls = int((losses.diff(axis=1).iloc[:, 1:] < 0).all(axis=1).sum())
    return page.note(
        results,
        "Fig. 7",
        f"checkpoints at epochs {', '.join(map(str, cps))} of {results.settings.ae_epochs}; the loss falls at every "
        f"checkpoint in {falls} of {len(ok)} runs (each seed counted). MSE and MSLE losses are on different "
        "scales, so each has its own panel; the dots show the spread across seeds.",
    )
