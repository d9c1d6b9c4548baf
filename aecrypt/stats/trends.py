"""Two claims about trends: more encoder layers do not improve the metrics, and more epochs decrease the loss.
Both read a `components.Build`; the depth test compares combinations (contrasts with both variances), the
epoch test compares checkpoints within every combination."""

from __future__ import annotations

import math
from functools import partial
from itertools import combinations

import numpy as np
import pandas as pd
from scipy import stats

from aecrypt.stats.components import Build, advice
from aecrypt.stats.findings import (
    ALPHA,
    AUC_MARGIN,
    EPOCH_LOG_MARGIN,
    EPOCH_RATIO_MARGIN,
    INCONCLUSIVE,
    LOG_MARGIN,
    MSE_RATIO_MARGIN,
    NOT_REPRODUCED,
    NOT_TESTABLE,
    REPRODUCED,
    Finding,
)
from aecrypt.stats.multiplicity import holm


def depth_effect(build: Build) -> tuple[Finding, pd.DataFrame]:
    """'More encoder layers do not improve the metrics': each deeper depth against each shallower one, within
    the same loss, optimizer and activation (the combinations both depths ran), on AUC and on MSE. Three
    zones: reproduced if every improvement's one-sided 95 % bound is below its margin (±0.03 AUC, 1.25× MSE);
    not reproduced only if some improvement is shown beyond its margin (Holm over all comparisons); otherwise
    inconclusive.

    Parameters
    ----------
    build : Build
        The runs; each run's values hold depth, loss, optimizer and activation, and the runs hold auc and mse
        with their per-image values (for the test split's part of each contrast's variance).

    Returns
    -------
    finding : Finding
        The claim's outcome, what was measured and the effect; "not testable here (one depth)" where one
        depth ran.
    effects : pandas.DataFrame
        One row per metric and pair of depths: the improvement of the deeper (positive = better), its 95 %
        interval and one-sided 95 % bound ("90 % high"), the p-value for an improvement beyond the margin and,
        where every p-value was measured, its Holm adjustment. Empty where one depth ran.

    Examples
    --------
    A simulated build in which depth 3 is far better on AUC (0.75 against about 0.61):

    >>> from aecrypt.stats.simulate import NoiseModel, simulate
    >>> labels = ["MSE+Adam+ReLU+2", "MSE+Adam+ReLU+3", "MSE+RMSprop+ReLU+2", "MSE+RMSprop+ReLU+3"]
    >>> model = NoiseModel.default().only(labels).with_truth(auc={"MSE+Adam+ReLU+3": 0.75, "MSE+RMSprop+ReLU+3": 0.75})
    >>> finding, effects = depth_effect(simulate(model, np.random.default_rng(0)))
    >>> finding.outcome
    'not reproduced'
    >>> effects[["metric", "deeper − shallower", "pairs"]].values.tolist()
    [['AUC', '3 − 2', 2], ['log10 MSE (lower)', '3 − 2', 2]]
    """
    claim, paper = "more encoder layers do not improve the metrics", "conclusion"
    test = (
        f"deeper − shallower within loss, optimizer, activation: beyond the margin ({AUC_MARGIN} AUC, "
        f"{MSE_RATIO_MARGIN}× MSE; Holm) or within it"
    )
    found = partial(Finding, claim, paper, test)
    rest = {c: _rest(build.of(c)[0].values) for c in build.labels}
    depth = {c: int(build.of(c)[0].values["depth"]) for c in build.labels}
    rows, estimates = [], []
    for metric, sign, margin in (("auc", 1.0, AUC_MARGIN), ("log_mse", -1.0, LOG_MARGIN)):
        for shallow, deep in combinations(sorted(set(depth.values())), 2):
            pairs = [
                (a, b)
                for a in build.labels
                for b in build.labels
                if depth[a] == shallow and depth[b] == deep and rest[a] == rest[b]
            ]
            if not pairs:
                continue
            weights: dict[str, float] = {}
            for a, b in pairs:
                weights[b] = weights.get(b, 0.0) + sign / len(pairs)
                weights[a] = weights.get(a, 0.0) - sign / len(pairs)
            est = build.estimate(weights, metric)
            estimates.append((est, margin))
            low, high = est.interval()
            rows.append(
                {
                    "metric": "log10 MSE (lower)" if metric == "log_mse" else "AUC",
                    "deeper − shallower": f"{deep} − {shallow}",
                    "pairs": len(pairs),
                    "improvement": est.estimate,
                    "95 % low": low,
                    "95 % high": high,
                    "90 % high": est.interval(0.90)[1],
                    "p (beyond margin)": est.p_above(margin),
                    "margin": margin,
                }
            )
    effects = pd.DataFrame(rows)
    if effects.empty:
        return found("only one depth ran", f"{NOT_TESTABLE} (one depth)"), effects
    measured = "; ".join(
        f"{r['metric']} {r['deeper − shallower']}: {r['improvement']:+.3f} "
        f"[{r['95 % low']:+.3f}, {r['95 % high']:+.3f}]"
        for r in effects.to_dict("records")
    )
    measured = f"Improvement from more layers (positive = better; log10 MSE improvement = its fall): {measured}."
    top = effects.loc[effects["90 % high"].idxmax()] if effects["90 % high"].notna().any() else effects.iloc[0]
    effect = (
        f"largest improvement's upper bound {top['90 % high']:+.3f} ({top['metric']} {top['deeper − shallower']}; "
        f"margin {top['margin']:.3g})"
    )
    if effects["p (beyond margin)"].isna().any():
        return found(measured, INCONCLUSIVE, effect=effect, decide="one seed: run at least 3 seeds"), effects
    effects["p Holm"] = holm(effects["p (beyond margin)"])
    if (effects["p Holm"] < ALPHA).any():
        return found(measured, NOT_REPRODUCED, effect=effect), effects
    if (effects["90 % high"] < effects["margin"]).all():
        return found(measured, REPRODUCED, effect=effect), effects
    widest, margin = max(estimates, key=lambda e: e[0].se / e[1])  # the comparison furthest from deciding
    seeds = min(len(build.of(c)) for c in build.labels)
    shown = f"{MSE_RATIO_MARGIN}× MSE" if margin == LOG_MARGIN else f"{AUC_MARGIN} AUC"
    told = advice(widest, margin, len(effects), seeds, shown)
    decide = "no improvement beyond the margin is shown, and none is ruled out: " + told.full
    return found(measured, INCONCLUSIVE, effect=effect, decide=decide, decide_short=told.short), effects


def _rest(values: dict) -> str:
    return f"{values['loss']}+{values['optimizer']}+{values['activation']}"


def epoch_effect(build: Build, checkpoints: tuple[int, ...]) -> tuple[Finding, pd.DataFrame]:
    """'More epochs decrease the loss' (Fig. 7: training and validation loss): at each checkpoint step, the change
    of log10 loss across combinations (each combination's mean over its seeds; a t-interval over
    combinations). A loss decreases at a step if it falls by more than the margin (5 %, `EPOCH_RATIO_MARGIN`);
    less is a plateau. Reproduced if every step, for training and validation loss alike, is shown to fall by
    more than the margin (intersection-union, each one-sided at α); not reproduced if some step is shown to
    fall by less than the margin or to rise (Holm over the steps); otherwise inconclusive.

    Parameters
    ----------
    build : Build
        The runs; each run's values hold loss_at_C and val_loss_at_C at every checkpoint C (a loss is tested
        only where every run logged it at every checkpoint).
    checkpoints : tuple of int
        The epochs the losses were logged at, in increasing order.

    Returns
    -------
    finding : Finding
        The claim's outcome, what was measured and the weakest step; "not testable here (one checkpoint)"
        with fewer than two checkpoints or no loss logged at all of them.
    steps : pandas.DataFrame
        One row per loss and step: the mean change of log10 loss over combinations with its 95 % t-interval,
        how many combinations fall, and the one-sided p-values for a plateau or rise and for a fall beyond the
        margin. Empty where not testable.

    Examples
    --------
    A simulated build whose losses halve at every step:

    >>> from aecrypt.stats.simulate import NoiseModel, simulate, with_epochs
    >>> model = NoiseModel.default().only(["MSE+Adam+ReLU+2", "MSE+Adam+ReLU+3", "MSE+RMSprop+ReLU+2"])
    >>> build = with_epochs(simulate(model, np.random.default_rng(0)), np.random.default_rng(1),
    ...                     dict.fromkeys(model.combinations, -0.3))
    >>> finding, steps = epoch_effect(build, (2, 5, 10))
    >>> finding.outcome, finding.effect
    ('reproduced', 'weakest step: training 5→10 ×0.51 [0.48, 0.53]')
    >>> steps[["loss", "epochs", "combinations falling"]].values.tolist()
    [['training', '2→5', '3 of 3'], ['training', '5→10', '3 of 3'], ['validation', '2→5', '3 of 3'],
     ['validation', '5→10', '3 of 3']]
    """
    claim, paper = "more epochs decrease the loss", "conclusion; Fig. 7"
    steps = list(zip(checkpoints, checkpoints[1:], strict=False))
    test = (
        f"log10 loss change at epochs {'→'.join(map(str, checkpoints))}, across combinations: training and validation "
        f"each falling by more than {EPOCH_RATIO_MARGIN}× (a smaller change is a plateau)"
    )
    found = partial(Finding, claim, paper, test)
    kinds = [k for k in ("loss", "val_loss") if all(f"{k}_at_{c}" in r.values for r in build.runs for c in checkpoints)]
    if not steps or not kinds:
        return found("fewer than two checkpoints", f"{NOT_TESTABLE} (one checkpoint)"), pd.DataFrame()
    rows = []
    for kind in kinds:
        for a, b in steps:
            change = np.array(
                [
                    np.mean([math.log10(r.values[f"{kind}_at_{b}"] / r.values[f"{kind}_at_{a}"]) for r in build.of(c)])
                    for c in build.labels
                ]
            )
            n = len(change)
            sem = change.std(ddof=1) / math.sqrt(n) if n > 1 else math.nan
            low, high = stats.t.interval(0.95, n - 1, loc=change.mean(), scale=sem) if sem > 0 else (math.nan, math.nan)
            rows.append(
                {
                    "loss": "training" if kind == "loss" else "validation",
                    "epochs": f"{a}→{b}",
                    "mean log10 change": change.mean(),
                    "95 % low": low,
                    "95 % high": high,
                    "combinations falling": f"{int((change < 0).sum())} of {n}",
                    "p (plateau or rise)": _p(change, sem, +1) if sem > 0 else math.nan,
                    "p (falls)": _p(change, sem, -1) if sem > 0 else math.nan,
                }
            )
    table = pd.DataFrame(rows)
    measured = "; ".join(
        f"{r['loss']} {r['epochs']}: ×{10 ** r['mean log10 change']:.2f} [{10 ** r['95 % low']:.2f}, "
        f"{10 ** r['95 % high']:.2f}] ({r['combinations falling']} combinations fall)"
        for r in table.to_dict("records")
    )
    # the step closest to not falling (where one combination leaves no interval: the smallest mean fall)
    weakest = table.loc[table["95 % high"].fillna(table["mean log10 change"]).idxmax()]
    effect = (
        f"weakest step: {weakest['loss']} {weakest['epochs']} ×{10 ** weakest['mean log10 change']:.2f} "
        f"[{10 ** weakest['95 % low']:.2f}, {10 ** weakest['95 % high']:.2f}]"
    )
    if table["p (plateau or rise)"].isna().any():
        return found(measured, INCONCLUSIVE, effect=effect, decide="one combination: run more"), table
    if (holm(table["p (plateau or rise)"]) < ALPHA).any():
        return found(measured, NOT_REPRODUCED, effect=effect), table
    if (table["p (falls)"] < ALPHA).all():
        return found(measured, REPRODUCED, effect=effect), table
    return found(
        measured,
        INCONCLUSIVE,
        effect=effect,
        decide=f"some steps' change is not told from a {EPOCH_RATIO_MARGIN}× fall by the spread across combinations",
    ), table


def _p(change: np.ndarray, sem: float, side: int) -> float:
    """One-sided p-value over combinations: side +1 for 'the mean fall is less than the margin (a plateau, or a
    rise)', −1 for 'it falls by more than the margin'."""
    t = (change.mean() + EPOCH_LOG_MARGIN) / sem
    return float(stats.t.sf(t, len(change) - 1) if side > 0 else stats.t.cdf(t, len(change) - 1))
