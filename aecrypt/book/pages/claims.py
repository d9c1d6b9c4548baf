"""The *Results vs. paper* page (and the verdict counts the intro and Limitations quote): each of the
paper's claims tested on this build, as a scorecard (one row per claim: the verdict, the training budget it
rests on, the effect with its interval, what would decide) with each claim's reasoning folded below, and the
tables behind the depth and epoch tests (the training budget's are `pages.budget`)."""

from __future__ import annotations

import html
import re
from collections import Counter

import pandas as pd

from aecrypt.book.page import machine_name, md
from aecrypt.book.pages import budget, calibration, compression
from aecrypt.book.pages.audit import cipher_finding
from aecrypt.book.pages.link import link_finding
from aecrypt.paper.reported import PAPER_EPOCH_SECONDS
from aecrypt.runs.results import Results
from aecrypt.stats import formula, longruns, trends
from aecrypt.stats.components import Build
from aecrypt.stats.findings import (
    ALPHA,
    EPOCH_RATIO_MARGIN,
    INCONCLUSIVE,
    NOT_REPRODUCED,
    NOT_TESTABLE,
    REPRODUCED,
    Finding,
    coverage,
)
from aecrypt.stats.rules import RULES

#: Claims about what trained models do on X-rays: phantoms cannot test them.
MODEL_CLAIMS = ("best", "very close", "depth", "epochs")
#: How many of the findings are such claims: four named-best ones, "very close", depth, epochs.
MODEL_CLAIM_COUNT = len(RULES)
#: Paul Tol's high-contrast scheme (blue, red, yellow, white): distinct for every kind of colour vision and in
#: greyscale (their lightness differs), with the word inside the badge as well.
BADGES = {
    REPRODUCED: ("#004488", "#ffffff", "solid"),
    NOT_REPRODUCED: ("#bb5566", "#000000", "solid"),
    INCONCLUSIVE: ("#ddaa33", "#000000", "solid"),
    NOT_TESTABLE: ("#ffffff", "#000000", "dashed"),
}


def build(results: Results) -> Build:
    """The build's finished combination runs with their per-image test values (what the claim tests read)."""
    return Build.from_results(results)


def findings(results: Results) -> list[Finding]:
    """Each of the paper's claims tested on this build: the claims about trained models by their rules
    (`stats.rules`, the ones the calibration holds to their error rates), the others by theirs. On synthetic
    phantoms the claims about trained models keep their test but read "not testable here (phantoms)"."""
    runs, projected = build(results), budget.gate(results)
    long_root = results.root if budget.has_long_runs(results) else None
    checkpoints = results.settings.checkpoints
    out = []
    for rule in RULES:
        finding = rule.test(runs, projected, checkpoints)
        if rule.kind == "best":
            finding.budget = projected.line()
            if long_root is not None:
                finding = longruns.decide(finding, rule.label, rule.named_test(), long_root)
        out.append((rule.kind, finding))
    out += [("cipher", cipher_finding(results)), ("compression", compression.finding(results))]
    lo, hi = PAPER_EPOCH_SECONDS
    seconds = results.ok["seconds_per_epoch"]
    n_train = int(results.ok["n_train"].iloc[0])
    out.append(("time", formula.epoch_time(seconds, results.settings.size, n_train, machine_name(results), lo, hi)))
    out.append(("real time", link_finding(results)))
    cov = coverage(results.summary)
    for kind, finding in out:
        if kind in MODEL_CLAIMS and not finding.budget:
            finding.budget = projected.line()
        if cov.missing and kind in MODEL_CLAIMS:
            finding.notes.append(cov.sentence())
        if results.is_synthetic and kind in MODEL_CLAIMS:
            finding.on_phantoms()
    return [f for _, f in out]


def claims(results: Results) -> pd.DataFrame:
    """Each statement the paper makes about its results: the test, what this build measured, the test's
    outcome on this build's data, and the verdict."""
    return pd.DataFrame([f.as_row() for f in findings(results)])


def verdict_sentence(results: Results) -> str:
    """How many of the paper's claims this build reproduces, does not reproduce, cannot decide or cannot test."""
    found = findings(results)
    n = pd.Series([f.verdict.split(" (")[0] for f in found]).value_counts().to_dict()
    untestable = n.get(NOT_TESTABLE, 0)
    reasons = [
        f.verdict.partition(" (")[2].split(";")[0].rstrip(")") for f in found if f.verdict.startswith(NOT_TESTABLE)
    ]
    why = "; ".join(f"{count}× {reason}" if count > 1 else reason for reason, count in Counter(reasons).items())
    inconclusive = n.get(INCONCLUSIVE, 0)
    return (
        f"Of the {sum(n.values())} statements tested, this build reproduces {n.get(REPRODUCED, 0)} and does not "
        f"reproduce {n.get(NOT_REPRODUCED, 0)}; {inconclusive} {'is' if inconclusive == 1 else 'are'} "
        f"inconclusive (the data cannot tell) and {untestable} {'is' if untestable == 1 else 'are'} not testable "
        f"here ({why})."
    )


def error_control_facts(results: Results) -> dict:
    """The error-control paragraph's values: α, what it means across the claims about trained models, the
    calibration's worst rate, and how much a seed number is shared between combinations."""
    n = MODEL_CLAIM_COUNT
    family = (
        f"Across the {n} claims about trained models nothing is adjusted: where every one of them holds, some will "
        f"read *not reproduced* in at most {n * ALPHA:.0%} of builds (Bonferroni's bound; "
        f"{1 - (1 - ALPHA) ** n:.0%} were the tests independent)."
    )
    rec = calibration.record(results)
    if rec is None:
        line = "This build has no calibration record yet (`make book` writes a quick one)."
    else:
        worst = calibration.worst_error(rec)
        w = worst["where"]
        line = (
            f"{'A quick table' if rec['quick'] else 'The table'} ({rec['replicates']} simulated builds per row) "
            f"measures every rule's largest false-verdict rate at {worst['rate']:.1%} (99 % bound "
            f"{worst['bound']:.1%}: {calibration.where(w)})."
        )
    runs = build(results)
    r = {m: runs.seed_correlation(m) for m in ("auc", "log_mse")} if runs.has("mse") else {}
    sharing = (
        "in this build the runs' deviations from their combination's mean correlate by seed number at "
        f"r = {r['auc']:.2f} (AUC) and {r['log_mse']:.2f} (log MSE) on average over pairs of combinations, so "
        "nothing is paired by seed."
        if r and all(v == v for v in r.values())
        else "this build has too few seeds to measure it; nothing is paired by seed."
    )
    return {
        "alpha": f"{ALPHA:g}",
        "family": md(family),
        "calibration_line": md(line),
        "seed_sharing": md(sharing),
        "epoch_margin": f"{EPOCH_RATIO_MARGIN - 1:.0%}",
    }


# --- the scorecard -------------------------------------------------------------------------------------------


def badge(verdict: str) -> str:
    """A verdict as a badge: the word on a colour that stays distinct in greyscale and for colour-blind readers."""
    word = verdict.split(" (")[0]
    background, text, border = BADGES[word]
    style = (
        f"background:{background};color:{text};border:2px {border} #000;border-radius:0.8em;padding:0.1em 0.6em;"
        "font-weight:600;white-space:nowrap;display:inline-block"
    )
    detail = verdict[len(word) :].strip(" ()")
    extra = f"<br><small>{html.escape(detail)}</small>" if detail else ""
    return f'<span class="aecrypt-verdict" style="{style}">{html.escape(word)}</span>{extra}'


def decide_line(finding: Finding) -> str:
    """What would decide the claim, on one line: the advice where the data cannot tell; the reason and the
    test's outcome on this data where the verdict is withheld; how a decided claim was decided."""
    if finding.verdict != finding.outcome and not finding.outcome.startswith(NOT_TESTABLE):  # phantoms
        return f"real X-rays (on this data the test says: {finding.outcome})"
    if finding.decide:
        return finding.decide_short or finding.decide
    if finding.outcome.startswith(NOT_TESTABLE):
        return f"a build that ran it ({finding.outcome.partition(' (')[2].rstrip(')')})"
    return f"decided at α = {ALPHA:g}"


def scorecard(results: Results) -> pd.DataFrame:
    """One row per claim: the claim and where the paper makes it, the verdict, the effect with its interval,
    what would decide (plain text; `scorecard_html` draws it)."""
    rows = []
    for f in findings(results):
        rows.append(
            {
                "claim": f.claim,
                "where": f.paper,
                "verdict": f.verdict,
                "budget": f.budget,
                "effect": f.effect or f.measured.split(". ")[0].rstrip(".") + ".",
                "to decide": decide_line(f),
            }
        )
    return pd.DataFrame(rows)


def _inline(text: str) -> str:
    """Plain text as HTML, with `code` spans."""
    return re.sub(r"`([^`]+)`", r"<code>\1</code>", html.escape(text))


def scorecard_html(results: Results) -> str:
    """The scorecard as an HTML table with verdict badges."""
    cells = []
    for row in scorecard(results).to_dict("records"):
        claim = f"<b>{html.escape(row['claim'])}</b><br><small>{html.escape(row['where'])}</small>"
        said = row["budget"][:1].upper() + row["budget"][1:]
        budget = f"<small><i>{html.escape(said)}.</i></small><br>" if said else ""
        parts = (
            claim,
            badge(row["verdict"]),
            budget + _inline(row["effect"]),
            f"<small>{_inline(row['to decide'])}</small>",
        )
        cell = '<td style="vertical-align:top;border-bottom:1px solid #999;padding:0.4em 0.3em">'
        cells.append("<tr>" + "".join(f"{cell}{p}</td>" for p in parts) + "</tr>")
    widths = {
        "claim (where the paper makes it)": 24,
        "verdict": 16,
        "effect [95 % interval]": 34,
        "what would decide": 26,
    }
    head = "".join(f'<th style="width:{w}%;text-align:left">{name}</th>' for name, w in widths.items())
    table = '<table class="aecrypt-scorecard" style="width:100%;font-size:0.9em">'
    return f"{table}<thead><tr>{head}</tr></thead><tbody>{''.join(cells)}</tbody></table>"


def reasoning_html(results: Results) -> str:
    """Each claim's full reasoning (the test, what this build measured, notes), folded."""
    parts = []
    for f in findings(results):
        outcome = (
            "" if f.outcome == f.verdict else f"<p><b>On this data the test says:</b> {html.escape(f.outcome)}</p>"
        )
        notes = "".join(f"<p>{_inline(n)}</p>" for n in f.notes)
        decide = f"<p><b>To decide:</b> {_inline(f.decide)}</p>" if f.decide else ""
        parts.append(
            f"<details><summary><b>{html.escape(f.claim)}</b> ({html.escape(f.paper)}): {html.escape(f.verdict)}"
            f"</summary><p><b>Test:</b> {_inline(f.test)}</p><p><b>This build:</b> {_inline(f.measured)}</p>"
            f"{outcome}{notes}{decide}</details>"
        )
    return "".join(parts)


# --- the tables behind the trend and convergence tests -------------------------------------------------------


def _formatted(frame: pd.DataFrame, digits: int = 3) -> pd.DataFrame:
    out = frame.copy()
    for col in out.columns:
        if pd.api.types.is_float_dtype(out[col]):
            out[col] = out[col].map(lambda v: "" if pd.isna(v) else f"{v:.{digits}g}")
    return out


def depth_table(results: Results) -> pd.DataFrame:
    """The depth test's comparisons (stats.trends.depth_effect), rounded for a page."""
    return _formatted(trends.depth_effect(build(results))[1])


def epoch_table(results: Results) -> pd.DataFrame:
    """The epochs test's steps (stats.trends.epoch_effect), rounded for a page."""
    return _formatted(trends.epoch_effect(build(results), results.settings.checkpoints)[1])
