"""The *Fig. 5 — class counts* page: this build's classes beside the paper's, and its split."""

from __future__ import annotations

from aecrypt.runs.results import Results


def class_counts(results: Results) -> dict:
    """Fig. 5's numbers: this build's class counts, its negative share beside the paper's, and its split."""
    data = results.data_summary()
    counts = data["classes"]
    return {
        "counts": counts,
        "neg": counts["negative"],
        "pos": counts["positive"],
        "share": f"{counts['negative'] / sum(counts.values()):.1%}",
        "split": data["split_sizes"],
        "source": "synthetic" if results.is_synthetic else results.data_spec.split(":")[0],
    }


def fig5_figure(results: Results):
    """Fig. 5: this build's class counts beside the paper's."""
    from aecrypt.figures.paper_figures import fig5_class_counts

    c = class_counts(results)
    return fig5_class_counts(c["counts"], c["source"])


def fig5_note(results: Results):
    """The figure's note: the class counts and negative share beside the paper's 64.4 %, and the split."""
    from aecrypt.book.page import note

    c = class_counts(results)
    return note(
        results,
        "Fig. 5",
        f"{c['neg']} negative and {c['pos']} positive images ({c['share']} negative; the paper: 64.4%), split "
        f"{c['split']} (train / validation / test, patient-wise where patient ids exist).",
    )
