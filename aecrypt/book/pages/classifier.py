"""Figs. 8 and 9: the classifier on retrieved images — its metrics per combination, and its AUC with both of
its uncertainties (over training seeds, and over test images)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from aecrypt.book import page
from aecrypt.book.pages.factors import effects_sentence
from aecrypt.runs.results import Results
from aecrypt.stats.intervals import SCORE_RANGE, Interval, auc_interval, t_interval


def auc_intervals(results: Results) -> pd.DataFrame:
    """DeLong 95 % interval of every finished run's AUC (and of each shared baseline's and reference run's),
    by run id, from the runs' per-image scores."""
    ok = results.ok
    ids = list(ok["run_id"])
    for column in ("baseline_run_id", "nocipher_run_id"):
        ids += list(ok.get(column, pd.Series(dtype=str)).dropna().unique())
    rows = []
    for rid in dict.fromkeys(ids):
        scores = results.scores(rid)
        ci = auc_interval(scores["label"], scores["score"])
        rows.append({"run_id": rid, "auc": ci.estimate, "delong_low": ci.low, "delong_high": ci.high})
    return pd.DataFrame(rows).set_index("run_id")


def auc_table(results: Results) -> pd.DataFrame:
    """Every combination's AUC two ways — mean over training seeds with its t-interval (what retraining
    changes) and DeLong's interval over test images (what another test split would change; the median
    over seeds of each run's interval) — with the reference rows: the classifier on the original images
    and the best combination decoded without the cipher."""
    ci = auc_intervals(results)
    rows = []

    def add(name: str, run_ids: list[str], planned: int):
        part = ci.loc[[r for r in run_ids if r in ci.index]]
        rows.append(
            {
                "classifier trained on": name,
                "seeds": f"{len(part)} of {planned}",
                "AUC: mean over seeds [95 % t-interval]": format(t_interval(part["auc"], bounds=SCORE_RANGE), ".3f"),
                "test-set 95 % interval (DeLong), median over seeds": (
                    f"± {np.median((part['delong_high'] - part['delong_low']) / 2):.3f}" if len(part) else ""
                ),
            }
        )

    ok = results.ok
    planned = results.summary[results.summary["status"] != "skipped"].groupby("label", sort=False).size()
    if "baseline_run_id" in ok:
        add(
            "original images (no autoencoder, no cipher)",
            list(ok["baseline_run_id"].dropna().unique()),
            len(results.seeds),
        )
    if "nocipher_run_id" in ok and ok["nocipher_run_id"].notna().any():
        label = ok.loc[ok["nocipher_run_id"].notna(), "label"].iloc[0]
        add(f"{label}, decoded without the cipher", list(ok["nocipher_run_id"].dropna()), int(planned.get(label, 0)))
    for label in results.labels:
        add(label, list(results.runs_of(label)["run_id"]), int(planned.get(label, 0)))
    return pd.DataFrame(rows)


def auc_by_combination(results: Results) -> dict[str, Interval]:
    """Each combination's AUC: the mean over its seeds with its t-interval, clipped to [0, 1]."""
    return {label: t_interval(results.runs_of(label)["auc"], bounds=SCORE_RANGE) for label in results.labels}


def original_auc(results: Results) -> Interval:
    """The classifier on the original images: its AUC over the shared baselines (one per seed)."""
    return t_interval(results.ok.drop_duplicates("seed")["original_auc"], bounds=SCORE_RANGE)


def classifier_facts(results: Results) -> dict:
    """The classifier page's prose: the best mean AUC, the span over combinations, the originals' AUC and
    the median change the autoencoder and cipher make to it."""
    best = results.best_classifier["label"]
    means = results.mean_by_combination("auc")
    gap = results.ok["auc"] - results.ok["original_auc"]
    return {
        "clf_best": best,
        "clf_best_auc": format(auc_by_combination(results)[best], ".3f"),
        "auc_range": f"{means.min():.3f}–{means.max():.3f}",
        "orig_auc": format(original_auc(results), ".3f"),
        "auc_gap": f"{gap.median():+.3f}",
        "clf_effects": page.md(effects_sentence(results, "auc", "test AUC")),
    }


def blank_classifiers(results: Results) -> str:
    """Which combinations' classifiers answered 'negative' for every test image (recall 0 at every seed), and
    how little their autoencoders reconstruct: why their recall, precision and F1 bars are empty."""
    ok = results.ok
    recall = ok.groupby("label", sort=False)["recall"].max()
    blank = [label for label, r in recall.items() if r == 0]
    if not blank:
        return ""
    ssim = ok[ok["label"].isin(blank)]["ssim"].max()
    return (
        f" Empty recall, precision and F1 bars ({len(blank)} combinations: {', '.join(blank)}): their classifiers "
        "answered 'negative' for every test image at every seed, because their autoencoders had not learned at "
        f"this training length (SSIM at most {ssim:.2f} against the originals), so the retrieved images carry "
        "nothing to classify; their AUC still ranks the images."
    )


def fig8_note(results: Results):
    facts = classifier_facts(results)
    return page.note(
        results,
        "Fig. 8",
        f"highest mean AUC: {facts['clf_best']} ({facts['clf_best_auc']}, mean over seeds [95 % t-interval]); means "
        f"over combinations {facts['auc_range']}; the same classifier on the original images (top row): "
        f"{facts['orig_auc']}.{blank_classifiers(results)}",
    )


def fig9_note(results: Results):
    ok = results.ok
    always_negative = 1 - ok["n_test_positive"].iloc[0] / ok["n_test"].iloc[0]
    return page.note(
        results,
        "Fig. 9",
        f"test accuracy of single runs {ok['test_accuracy'].min():.3f}–{ok['test_accuracy'].max():.3f}; a "
        f"classifier that always answers 'negative' scores {always_negative:.3f} (dashed line), so accuracy alone "
        "says little on this imbalanced task.",
    )
