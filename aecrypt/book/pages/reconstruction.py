"""The autoencoder's pages: Fig. 4 (original, encrypted, retrieved, and the two readings of the decryption),
Figs. 6 and 7 (reconstruction error and loss per combination), and the best-combination panel."""

from __future__ import annotations

import numpy as np

from aecrypt.book import figures, page
from aecrypt.book.pages.factors import effects_sentence
from aecrypt.book.pages.premise import cipher_loss_sentence
from aecrypt.runs.results import Results
from aecrypt.stats import training
from aecrypt.stats.intervals import SCORE_RANGE, t_interval

# --- Fig. 4 ---------------------------------------------------------------------------------------------------


def fig4_samples(results: Results) -> dict[str, np.ndarray]:
    """The Fig. 4 samples of the best autoencoder's run at its lowest seed."""
    return results.samples(results.best_autoencoder["run_id"])


def fig4_facts(results: Results) -> dict:
    """Fig. 4's prose: the example's combination, what the cipher alone loses, and the mean squared error of
    each reading of the decryption on the example's test images."""
    samples = fig4_samples(results)

    def mse(images: np.ndarray) -> str:
        return f"{np.mean((images - samples['original']) ** 2):.3g}"

    return {
        "best_label": results.best_autoencoder["label"],
        "cipher_loss": page.md(cipher_loss_sentence(results)),
        "exact_mse": mse(samples["retrieved"]),
        "as_written_mse": mse(samples["decrypted_as_written"]),
    }


def fig4_note(results: Results):
    best = results.best_autoencoder
    return page.note(
        results,
        "Fig. 4",
        f"largest cipher round-trip error |decrypt(encrypt(z)) − z| of this example's run (every latent of every "
        f"split): {best['cipher_max_error']:.2g}; retrieved − original MSE of this run: {best['mse']:.2g}.",
        [best["run_id"]],
    )


# --- Figs. 6 and 7 ----------------------------------------------------------------------------------------------


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
    return figures.fig7_loss_checkpoints(results.summary, list(results.settings.checkpoints))


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


# --- the best-combination panel ---------------------------------------------------------------------------------


def best_panel(results: Results):
    """The paper's unnumbered panel for the best autoencoder combination, over its seeds."""
    label = results.best_autoencoder["label"]
    ids = list(results.runs_of(label)["run_id"])
    return figures.best_panel(
        label, [results.history(r) for r in ids], [results.metrics(r) for r in ids], [results.confusion(r) for r in ids]
    )


def best_note(results: Results):
    runs = results.runs_of(results.best_autoencoder["label"])
    ids = list(runs["run_id"])
    ci = {k: t_interval(runs[k]) for k in ("final_loss", "final_val_loss")}
    ci |= {k: t_interval(runs[k], bounds=SCORE_RANGE) for k in ("recall", "precision", "f1", "auc")}
    confusion = sum(results.confusion(r).values for r in ids)
    return page.note(
        results,
        "best-combination panel",
        f"final training loss {ci['final_loss']:.3g}, validation {ci['final_val_loss']:.3g}; classifier recall "
        f"{ci['recall']:.2f}, precision {ci['precision']:.2f}, F1 {ci['f1']:.2f}, AUC {ci['auc']:.2f} (means over "
        f"{len(ids)} seed(s) [95 % t-interval, scores clipped to [0, 1]]); confusion summed over seeds (rows "
        f"actual neg/pos) {confusion.tolist()}.",
        ids,
    )
