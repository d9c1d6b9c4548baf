"""Fig. 10: the ROC curves of the classifier on retrieved images."""

from __future__ import annotations

from aecrypt.book import page
from aecrypt.book.pages.classifier import auc_by_combination
from aecrypt.paper.reported import PAPER_ROC_RANKING
from aecrypt.runs.results import Results


def fig10_figure(results: Results):
    """Fig. 10: every combination's mean ROC curve over seeds, the paper's three best starred, the originals'
    curve as the reference."""
    from aecrypt.figures.paper_figures import fig10_roc, training_labels

    ok = results.ok
    names = training_labels(ok)  # combinations with runs that did not train are named so, and drawn dashed
    rocs = {names[label]: [results.roc(r) for r in results.runs_of(label)["run_id"]] for label in results.labels}
    aucs = {names[label]: format(ci, ".2f") for label, ci in auc_by_combination(results).items()}
    reference = [results.roc(r) for r in ok["baseline_run_id"].dropna().unique()] if "baseline_run_id" in ok else None
    return fig10_roc(rocs, aucs, reference, tuple(names.get(label, label) for label in PAPER_ROC_RANKING))


def fig10_note(results: Results):
    cis = auc_by_combination(results)
    top = "; ".join(f"{label} ({cis[label]:.3f})" for label in sorted(cis, key=lambda k: -cis[k].estimate)[:3])
    return page.note(
        results,
        "Fig. 10",
        f"the three highest mean AUCs (mean over seeds [95 % t-interval]): {top}. Curves are on the held-out test "
        "split. Whether the paper's ranking holds beyond seed noise is tested in Results vs. paper.",
    )
