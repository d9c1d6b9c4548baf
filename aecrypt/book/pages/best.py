"""The best combination's page: the paper's unnumbered panel for the best autoencoder combination."""

from __future__ import annotations

from aecrypt.book import page
from aecrypt.figures import paper_figures
from aecrypt.runs.results import Results
from aecrypt.stats.intervals import SCORE_RANGE, t_interval


def best_panel(results: Results):
    """The paper's unnumbered panel for the best autoencoder combination, over its seeds."""
    label = results.best_autoencoder["label"]
    ids = list(results.runs_of(label)["run_id"])
    return paper_figures.best_panel(
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
