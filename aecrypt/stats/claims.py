"""Tests of the paper's claims that can come out either way.

Every test reads a `components.Build` (the finished runs: each combination at its training seeds, with the
per-image scores and errors of its test split) and returns a `Finding`: what was tested, the effect with its
interval, and one of four verdicts. Every comparison is a contrast of combinations' seed-averaged metrics
with its own variance, in two parts: another test split (from the per-image values) and another training
seed (each combination's own spread, as in Welch's test: nothing is paired by seed). No spread is pooled across
combinations: their spreads differ a hundredfold (Adagrad and SGD against Adam and RMSprop).

Error control. Each claim is decided at α = 0.05. A claim that something *differs* (not reproduced) is a union
of tests, Holm-adjusted within the claim; a claim that everything is *within a margin* (reproduced) is an
intersection-union test, each part at α (no adjustment needed). Margins, fixed in advance: "very close" and
"more layers do not improve" mean within ±0.03 AUC and within 1.25× MSE (log scale); a verdict beyond a margin
needs its bound beyond the margin, not beyond zero. Across the claims nothing is adjusted: where every claim
about trained models holds, at most 1 − 0.95⁷ ≈ 30 % of builds would show one or more of the seven wrongly
not reproduced (Bonferroni's bound: 35 %). The calibration (`stats.calibration`, `make bench-verdicts`)
measures each rule's error rates by simulation.

With a training gate (`stats.training.Gate`) the tests leave out runs that did not train and withhold a
verdict that training could still change (`stats.withholding`).
"""

from __future__ import annotations

import math
from functools import partial
from itertools import combinations

import numpy as np
import pandas as pd

from aecrypt.budget import PAPER_STEPS
from aecrypt.stats.components import Build, Estimate, advice
from aecrypt.stats.findings import (
    ALPHA,
    AUC_MARGIN,
    INCONCLUSIVE,
    LOG_MARGIN,
    MSE_RATIO_MARGIN,
    NOT_REPRODUCED,
    NOT_TESTABLE,
    REPRODUCED,
    Finding,
)
from aecrypt.stats.multiplicity import holm
from aecrypt.stats.training import RULE, Gate
from aecrypt.stats.withholding import NOT_CONVERGED, catches_up, did_not_train, on_trained, withhold, withhold_best

MARGINS = {"auc": AUC_MARGIN, "accuracy": AUC_MARGIN, "log_mse": LOG_MARGIN, "log_mae": LOG_MARGIN}
NAMES = {"auc": "AUC", "accuracy": "accuracy", "log_mse": "MSE", "log_mae": "MAE"}


def _margin_text(metric: str) -> str:
    return f"{MSE_RATIO_MARGIN}×" if metric.startswith("log_") else f"{MARGINS[metric]:g} {NAMES[metric]}"


def _fmt(metric: str, value: float) -> str:
    return f"{10**value:.3g}" if metric.startswith("log_") else f"{value:.3f}"


def _effect(metric: str, est: Estimate, what: str) -> str:
    """One line: a difference with its 95 % interval (a factor for log metrics)."""
    low, high = est.interval()
    if metric.startswith("log_"):
        return f"{what} {10**est.estimate:.3g}× [{10**low:.3g}×, {10**high:.3g}×]"
    return f"{what} {est.estimate:+.3f} [{low:+.3f}, {high:+.3f}]"


# --- the named best combination --------------------------------------------------------------------------------


def named_best(
    build: Build,
    label: str,
    metric: str,
    lower_is_better: bool,
    claim: str,
    paper: str,
    gate: Gate | None = None,
) -> Finding:
    """Is the combination the paper names the best by `metric`? Not reproduced if some combination is better
    (one-sided per pair, Holm over the k − 1); reproduced if it is better than every other (an
    intersection-union test, each pair at α); otherwise inconclusive, with what would decide. With a `gate`,
    runs that did not train are left out (the named combination without a trained run reads *inconclusive
    (did not train at N steps)*) and a gap training could still close reads *inconclusive (not converged)*.

    Parameters
    ----------
    build : Build
        The finished runs.
    label : str
        The combination the paper names.
    metric : str
        What "best" is judged by: "auc", "accuracy", "log_mse" or "log_mae".
    lower_is_better : bool
        True for the error metrics (MSE, MAE), False for AUC and accuracy.
    claim, paper : str
        The claim as the book words it, and where the paper makes it (the `Finding`'s first fields).
    gate : Gate, optional
        The build's training gate; None leaves every run in and decides as at the paper's budget.

    Returns
    -------
    Finding
        Its `outcome` one of the above, or *not testable here (not run)* where `label` has no finished run, or
        *(one combination)* where it has no rival; `effect` the gap to the closest rival with its 95 % interval.

    Examples
    --------
    Three seeds per combination, no per-image values (the seed part alone):

    >>> from aecrypt.stats.components import Run
    >>> mse = {"A": [0.010, 0.011, 0.012], "B": [0.020, 0.021, 0.022], "C": [0.030, 0.031, 0.033]}
    >>> values = lambda s, m: {"mse": m, "mae": 5 * m, "auc": 0.6 + 0.001 * s}
    >>> build = Build([Run(g, s, values(s, m)) for g, ms in mse.items() for s, m in enumerate(ms)])
    >>> found = named_best(build, "A", "log_mse", True, "lowest MSE", "Fig. 6")
    >>> found.outcome, found.effect
    ('reproduced', 'A ÷ B MSE: 0.523× [0.433×, 0.631×]')
    >>> named_best(build, "C", "log_mse", True, "lowest MSE", "Fig. 6").outcome
    'not reproduced'
    >>> named_best(build, "D", "log_mse", True, "lowest MSE", "Fig. 6").outcome
    'not testable here (not run)'
    """
    name, sign = NAMES[metric], -1.0 if lower_is_better else 1.0
    test = f"{name}: named vs. each other combination, test split and seeds, one-sided, Holm"
    found = partial(Finding, claim, paper, test)
    if label not in build.labels:
        return found(f"{label} has no finished run in this build", f"{NOT_TESTABLE} (not run)")
    if gate is not None:
        if gate.none_trained(label, build):
            return found(
                f"None of {label}'s {len(build.of(label))} run(s) trained at {gate.short()} (each {RULE}): there is "
                "nothing to rank.",
                did_not_train(gate),
                effect=f"{label}: {len(build.of(label))} of {len(build.of(label))} runs not trained",
                decide=f"training it further (the paper's budget is {PAPER_STEPS:,} steps: `make bench-convergence`)",
                notes=[gate.collapse_note()],
            )
        everyone = build.labels
        build = gate.trained_only(build)
        return withhold_best(_named_best(build, label, metric, sign, found, gate), gate, everyone, build)
    return _named_best(build, label, metric, sign, found, gate)


def _named_best(build: Build, label: str, metric: str, sign: float, found, gate: Gate | None) -> Finding:
    name = NAMES[metric]
    others = [g for g in build.labels if g != label]
    if not others:
        return found(f"{label} is the only combination", f"{NOT_TESTABLE} (one combination)")
    better = dict(zip(others, build.estimates([{g: sign, label: -sign} for g in others], metric), strict=True))
    means = {g: build.mean(g, metric) for g in build.labels}
    best = max(means, key=lambda g: sign * means[g])
    mine = build.estimate({label: 1.0}, metric)
    per_seed = pd.DataFrame([{"seed": r.seed, "label": r.label, "y": sign * r.value(metric)} for r in build.runs])
    first = int((per_seed.loc[per_seed.groupby("seed")["y"].idxmax(), "label"] == label).sum())
    low, high = mine.interval()
    measured = (
        f"{label}: {name} {_fmt(metric, mine.estimate)} [{_fmt(metric, low)}, {_fmt(metric, high)}] over "
        f"{len(build.of(label))} seed(s); best by mean: {best} ({_fmt(metric, means[best])}); {label} ranks first "
        f"in {first} of {per_seed['seed'].nunique()} seed(s)."
    )
    rival = best if best != label else max(others, key=lambda g: sign * means[g])
    gap = better[rival]
    if metric.startswith("log_"):
        effect = _effect(metric, build.difference(label, rival, metric), f"{label} ÷ {rival} {name}:")
    else:
        effect = _effect(metric, build.difference(rival, label, metric), f"{rival} − {label} {name}:")
    if not gap.measured:
        return found(
            measured,
            INCONCLUSIVE,
            effect=effect,
            **advice(gap, MARGINS[metric], len(others), 1, _margin_text(metric)).fields(),
        )
    p_worse = holm(e.p_above(0) for e in better.values())  # as _p_worse, from the estimates already made
    p_better = [e.p_below(0) for e in better.values()]
    measured += f" {effect}; smallest Holm-adjusted p that another is better: {min(p_worse):.2g}."
    seeds = len(build.of(label))
    if min(p_worse) < ALPHA:
        winners = [g for g, p in zip(others, p_worse, strict=True) if p < ALPHA]
        # beaten stands while one winner stays out of reach: wait only if it could catch every one
        if reason := catches_up(gate, metric, [(label, g, better[g].estimate) for g in winners], every=True):
            return found(measured, NOT_CONVERGED, effect=effect, decide=reason, notes=["Worse at this length."])
        return found(measured, NOT_REPRODUCED, effect=effect)
    if max(p_better) < ALPHA:
        if reason := catches_up(gate, metric, [(g, label, -better[g].estimate) for g in others]):
            return found(measured, NOT_CONVERGED, effect=effect, decide=reason, notes=["Best at this length."])
        return found(measured, REPRODUCED, effect=effect)
    return found(
        measured,
        INCONCLUSIVE,
        effect=effect,
        **advice(gap, MARGINS[metric], len(others), seeds, _margin_text(metric)).fields(),
    )


def named_best_of_both(build: Build, label: str, claim: str, paper: str, gate: Gate | None) -> Finding:
    """'Lowest MSE and MAE' (Fig. 6's text): the MSE and the MAE test; reproduced only if both are (an
    intersection-union test, each at α), not reproduced if some combination is shown better on either metric
    with Holm over both metrics' comparisons together, otherwise inconclusive.

    Parameters
    ----------
    build : Build
        The finished runs, with MSE and MAE.
    label : str
        The combination the paper names.
    claim, paper : str
        The claim as the book words it, and where the paper makes it.
    gate : Gate or None
        The build's training gate (None: every run in, as at the paper's budget).

    Returns
    -------
    Finding
        The combined verdict, measured and effect of both metrics side by side; where either test is not testable
        here, the MSE test's finding.

    Examples
    --------
    >>> from aecrypt.stats.components import Run
    >>> mse = {"A": [0.010, 0.011, 0.012], "B": [0.020, 0.021, 0.022], "C": [0.030, 0.031, 0.033]}
    >>> values = lambda s, m: {"mse": m, "mae": 5 * m, "auc": 0.6 + 0.001 * s}
    >>> build = Build([Run(g, s, values(s, m)) for g, ms in mse.items() for s, m in enumerate(ms)])
    >>> named_best_of_both(build, "A", "lowest MSE and MAE", "Fig. 6", None).outcome
    'reproduced'
    >>> named_best_of_both(build, "C", "lowest MSE and MAE", "Fig. 6", None).outcome
    'not reproduced'
    """
    parts = [named_best(build, label, m, True, claim, paper, gate) for m in BOTH_METRICS]
    if any(p.outcome.startswith(NOT_TESTABLE) for p in parts):
        return parts[0]
    outcomes = [p.outcome for p in parts]
    notes = list(parts[0].notes)
    if NOT_REPRODUCED in outcomes:
        trained = gate.trained_only(build) if gate is not None else build
        pooled = holm([p for m in BOTH_METRICS for p in _p_worse(trained, label, m, -1.0)])
        if pooled.min() >= ALPHA:
            outcomes = [INCONCLUSIVE if o == NOT_REPRODUCED else o for o in outcomes]
            notes.append(
                f"Beaten on one metric with Holm over its own comparisons, not with Holm over both metrics' "
                f"(smallest adjusted p {pooled.min():.2g})."
            )
    if NOT_REPRODUCED in outcomes:
        outcome = NOT_REPRODUCED
    elif all(o == REPRODUCED for o in outcomes):
        outcome = REPRODUCED
    elif NOT_CONVERGED in outcomes:
        outcome = NOT_CONVERGED
    elif len(set(outcomes)) == 1:
        outcome = outcomes[0]  # both inconclusive for the same reason (e.g. did not train)
    else:
        outcome = INCONCLUSIVE
    deciding = next((p for p in parts if p.outcome == outcome and p.decide), parts[0])
    return Finding(
        claim,
        paper,
        "MSE and MAE: named vs. each other combination, one-sided; both for reproduced, either against (Holm over "
        "both metrics' comparisons)",
        f"MSE — {parts[0].measured} MAE — {parts[1].measured}",
        outcome,
        decide=deciding.decide,
        effect=f"{parts[0].effect}; {parts[1].effect}",
        decide_short=deciding.decide_short,
        notes=notes,
    )


BOTH_METRICS = ("log_mse", "log_mae")


def _p_worse(build: Build, label: str, metric: str, sign: float) -> list[float]:
    """Per other combination, the one-sided p-value that it is better than `label` by `metric` (unadjusted)."""
    others = [g for g in build.labels if g != label]
    return [e.p_above(0) for e in build.estimates([{g: sign, label: -sign} for g in others], metric)]


# --- "very close" ----------------------------------------------------------------------------------------------


def very_close(build: Build, gate: Gate | None = None) -> Finding:
    """'All combinations give results very close to each other': every combination's mean AUC within ±0.03 of
    the mean over combinations and every pair's mean MSE within 1.25×. Reproduced if every deviation and every
    ratio is shown inside its margin (two one-sided tests each, 90 % intervals); not reproduced if some is shown
    beyond it (Holm over all of them together); otherwise inconclusive. With a `gate`, on the trained runs
    only, and withheld where training could still change it (`withhold`).

    Parameters
    ----------
    build : Build
        The finished runs, with AUC and MSE.
    gate : Gate, optional
        The build's training gate (None: every run in, as at the paper's budget).

    Returns
    -------
    Finding
        The verdict; *not testable here (one combination)* with fewer than two combinations.

    Examples
    --------
    >>> from aecrypt.stats.components import Run
    >>> mse = {"A": [0.010, 0.011, 0.012], "B": [0.020, 0.021, 0.022], "C": [0.030, 0.031, 0.033]}
    >>> values = lambda s, m: {"mse": m, "mae": 5 * m, "auc": 0.6 + 0.001 * s}
    >>> build = Build([Run(g, s, values(s, m)) for g, ms in mse.items() for s, m in enumerate(ms)])
    >>> found = very_close(build)
    >>> found.outcome, found.effect
    ('not reproduced', 'largest AUC deviation 0.000 (margin 0.03); MSE ratio up to 2.85× (margin 1.25×)')
    """
    if gate is None:
        return _very_close(build)
    return withhold(on_trained(_very_close, build, gate), gate, build, f"the {MSE_RATIO_MARGIN}× margin")


def _very_close(build: Build) -> Finding:
    claim, paper = "all combinations give results very close to each other", "abstract"
    test = (
        f"each AUC's deviation from the mean within ±{AUC_MARGIN}, each pair's MSE within {MSE_RATIO_MARGIN}× "
        "(TOST); beyond them: Holm"
    )
    found = partial(Finding, claim, paper, test)
    labels = build.labels
    if len(labels) < 2:
        return found("one combination", f"{NOT_TESTABLE} (one combination)")
    k = len(labels)
    centred = build.estimates([{g: (g == c) - 1 / k for g in labels} for c in labels], "auc")
    deviations = dict(zip(labels, centred, strict=True))
    pairs = list(combinations(labels, 2))
    ratios = dict(zip(pairs, build.estimates([{a: 1.0, b: -1.0} for a, b in pairs], "log_mse"), strict=True))
    means = {c: build.mean(c, "auc") for c in labels}
    mse = {c: build.mean(c, "log_mse") for c in labels}
    eta = _eta_squared(build, "auc")
    spread = (
        f"AUC means {min(means.values()):.3f}–{max(means.values()):.3f}; worst mean MSE "
        f"{10 ** (max(mse.values()) - min(mse.values())):.2f}× the best; the combination holds η² = {eta:.0%} of "
        "the runs' AUC variance."
    )
    effect = (
        f"largest AUC deviation {max(abs(d.estimate) for d in deviations.values()):.3f} (margin {AUC_MARGIN}); "
        f"MSE ratio up to {10 ** max(abs(r.estimate) for r in ratios.values()):.2f}× (margin {MSE_RATIO_MARGIN}×)"
    )
    tests = list(deviations.values()) + list(ratios.values())
    margins = [AUC_MARGIN] * len(deviations) + [LOG_MARGIN] * len(ratios)
    if not all(t.measured for t in tests):
        return found(spread, INCONCLUSIVE, effect=effect, **advice(tests[0], AUC_MARGIN, k, 1).fields())
    beyond = [t.p_above(m) if t.estimate >= 0 else t.p_below(-m) for t, m in zip(tests, margins, strict=True)]
    adjusted = holm(beyond)
    inside = all(t.interval(0.90)[0] > -m and t.interval(0.90)[1] < m for t, m in zip(tests, margins, strict=True))
    widest_auc = max(max(abs(x) for x in d.interval(0.90)) for d in deviations.values())
    widest_mse = max(max(abs(x) for x in r.interval(0.90)) for r in ratios.values())
    measured = (
        f"{spread} Largest 90 % bound of a combination's AUC deviation from the mean: {widest_auc:.3f} (margin "
        f"{AUC_MARGIN}); of a pair's MSE ratio: {10**widest_mse:.2f}× (margin {MSE_RATIO_MARGIN}×); smallest "
        f"Holm-adjusted p of a difference beyond its margin: {adjusted.min():.2g}."
    )
    if adjusted.min() < ALPHA:
        auc_out = (adjusted[: len(deviations)] < ALPHA).any()
        mse_out = (adjusted[len(deviations) :] < ALPHA).any()
        what = " and ".join(n for n, out in (("AUC", auc_out), ("MSE", mse_out)) if out)
        return found(measured, NOT_REPRODUCED, effect=effect, notes=[f"Beyond the margin, with Holm: {what}."])
    if inside:
        return found(measured, REPRODUCED, effect=effect)
    widest = max(deviations.values(), key=lambda d: d.se)
    return found(
        measured,
        INCONCLUSIVE,
        effect=effect,
        **advice(widest, AUC_MARGIN, len(tests), len(build.of(labels[0])), f"{AUC_MARGIN} AUC").fields(),
    )


def _eta_squared(build: Build, metric: str) -> float:
    """The share of the runs' variance between combinations (descriptive)."""
    values = np.array([r.value(metric) for r in build.runs])
    between = sum(len(build.of(c)) * (build.mean(c, metric) - values.mean()) ** 2 for c in build.labels)
    total = float(((values - values.mean()) ** 2).sum())
    return between / total if total > 0 else math.nan


# --- depth -----------------------------------------------------------------------------------------------------


# --- epochs ----------------------------------------------------------------------------------------------------


# --- what follows from the formula and the shapes, and what the paper does not state --------------------------
