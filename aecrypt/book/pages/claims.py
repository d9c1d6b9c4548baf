"""The *Results vs. paper* page (and the verdict counts the intro and Limitations quote): each of the
paper's claims tested on this build, with the tables behind the depth, epoch and convergence tests."""

from __future__ import annotations

from collections import Counter

import pandas as pd

from aecrypt.book.page import machine_name
from aecrypt.book.pages.audit import cipher_finding
from aecrypt.book.pages.link import link_finding
from aecrypt.paper.choices import combination_label
from aecrypt.paper.reported import PAPER_BEST_AE, PAPER_BEST_CLF, PAPER_BEST_ROC, PAPER_EPOCH_SECONDS
from aecrypt.profiles import PAPER_CHECKPOINTS
from aecrypt.runs.results import Results
from aecrypt.stats import claims as claim_tests
from aecrypt.stats.findings import NOT_TESTABLE, Finding, coverage


def convergence(results: Results) -> pd.DataFrame:
    """How fast each combination's autoencoder loss still fell at the end of training (stats.claims.convergence)."""
    ok = results.ok
    labels = dict(zip(ok["run_id"], ok["label"], strict=True))
    return claim_tests.convergence({r: results.history(r) for r in ok["run_id"]}, labels)


def _unconverged(results: Results) -> dict[str, float]:
    conv = convergence(results)
    late = conv[~conv["converged"]]
    return dict(zip(late["combination"], late["fall per epoch at the end"], strict=True))


#: Claims about what trained models do on X-rays: phantoms cannot test them.
MODEL_CLAIMS = ("best", "very close", "depth", "epochs")


def findings(results: Results) -> list[Finding]:
    """Each of the paper's claims tested on this build (aecrypt.stats.claims). On synthetic phantoms the claims
    about trained models keep their test but read "not testable here (phantoms)"."""
    table = results.summary
    # a ranking of optimizers is only gated where the profile trains for fewer epochs than the paper did
    shortened = results.settings.ae_epochs < PAPER_CHECKPOINTS[-1]
    stalled = _unconverged(results) if shortened else {}
    out = []
    for source, *combo in PAPER_BEST_AE:
        out.append(
            (
                "best",
                claim_tests.named_best(
                    table,
                    combination_label(*combo),
                    "mse",
                    True,
                    "best autoencoder combination",
                    f"{combination_label(*combo)} ({source})",
                    log=True,
                    unconverged=stalled,
                ),
            )
        )
    for claim, (source, *combo) in (
        ("best classification combination", PAPER_BEST_CLF),
        ("best ROC curve", PAPER_BEST_ROC),
    ):
        label = combination_label(*combo)
        out.append(
            (
                "best",
                claim_tests.named_best(table, label, "auc", False, claim, f"{label} ({source})", unconverged=stalled),
            )
        )
    out.append(("very close", claim_tests.very_close(table)))
    out.append(("depth", claim_tests.depth_effect(table)[0]))
    out.append(("epochs", claim_tests.epoch_effect(table, results.settings.checkpoints)[0]))
    out.append(("cipher", cipher_finding(results)))
    out.append(("compression", claim_tests.compression(results.ok["latent_to_image_ratio"])))
    lo, hi = PAPER_EPOCH_SECONDS
    out.append(
        (
            "time",
            claim_tests.epoch_time(
                results.ok["seconds_per_epoch"],
                results.settings.size,
                int(results.ok["n_train"].iloc[0]),
                machine_name(results),
                lo,
                hi,
            ),
        )
    )
    out.append(("real time", link_finding(results)))
    cov = coverage(table)
    for kind, finding in out:
        if cov.missing and kind in MODEL_CLAIMS:
            finding.notes.append(cov.sentence())
        if results.is_synthetic and kind in MODEL_CLAIMS:
            finding.on_phantoms()
    return [f for _, f in out]


def claims(results: Results) -> pd.DataFrame:
    """Each statement the paper makes about its results: the test, what this build measured, the test's
    outcome on this build's data, and the verdict."""
    return pd.DataFrame([f.as_row() for f in findings(results)])


def _formatted(frame: pd.DataFrame, digits: int = 3) -> pd.DataFrame:
    out = frame.copy()
    for col in out.columns:
        if pd.api.types.is_float_dtype(out[col]):
            out[col] = out[col].map(lambda v: "" if pd.isna(v) else f"{v:.{digits}g}")
    return out


def depth_table(results: Results) -> pd.DataFrame:
    """The depth test's comparisons (claim_tests.depth_effect), rounded for a page."""
    return _formatted(claim_tests.depth_effect(results.summary)[1])


def epoch_table(results: Results) -> pd.DataFrame:
    """The epochs test's per-combination steps (claim_tests.epoch_effect), rounded for a page."""
    return _formatted(claim_tests.epoch_effect(results.summary, results.settings.checkpoints)[1])


def verdict_sentence(results: Results) -> str:
    """How many of the paper's claims this build reproduces, contradicts, cannot decide or cannot test."""
    found = findings(results)
    n = pd.Series([f.verdict.split(" (")[0] for f in found]).value_counts().to_dict()
    untestable = n.get("not testable here", 0)
    reasons = [
        f.verdict.partition(" (")[2].split(";")[0].rstrip(")") for f in found if f.verdict.startswith(NOT_TESTABLE)
    ]
    why = "; ".join(f"{count}× {reason}" if count > 1 else reason for reason, count in Counter(reasons).items())
    return (
        f"Of the {sum(n.values())} statements tested, this build reproduces "
        f"{n.get('reproduced', 0)} and contradicts {n.get('not reproduced', 0)}; {n.get('inconclusive', 0)} "
        f"{'is' if n.get('inconclusive', 0) == 1 else 'are'} inconclusive (the data cannot tell) and {untestable} "
        f"{'is' if untestable == 1 else 'are'} not testable here ({why})."
    )


# --- the page's views ----------------------------------------------------------------------------------------


def claims_html(results: Results) -> str:
    return claims(results).to_html(index=False, justify="left")


def epoch_details(results: Results) -> str:
    """Every combination's checkpoint steps, folded."""
    return (
        "<details><summary>Every combination's steps</summary>"
        + epoch_table(results).to_html(index=False)
        + "</details>"
    )


def convergence_facts(results: Results) -> dict:
    conv = convergence(results)
    return {
        "n_unconverged": int((~conv["converged"]).sum()),
        "n_combos": len(conv),
        "epochs": results.settings.ae_epochs,
    }


def convergence_html(results: Results) -> str:
    return convergence(results).to_html(index=False, formatters={"fall per epoch at the end": "{:.1%}".format})


def loss_curves_figure(results: Results):
    """Every run's autoencoder training loss over epochs, per optimizer."""
    from aecrypt.book.figures import loss_curves

    return loss_curves(results.summary, {r: results.history(r) for r in results.ok["run_id"]})
