"""Tests of the paper's claims that can come out either way.

Every test reads a results table (one row per run: a combination at one training seed; `status`, `label`,
`seed` and the metrics) and returns a `Finding` (`stats.findings`): what was tested, the effect with its
interval, and one of four verdicts. Runs of one combination differ only in their training seed, so
seed-to-seed variation is the noise every comparison is measured against. Comparisons between combinations
use one linear model, metric ~ combination + seed (`stats.linear`; the seed term pairs runs that share a
seed), so the noise is pooled over every combination and a failed run only removes its own cell.

Margins fixed in advance (the issue that asked for these tests names them): "very close" means every
combination's mean AUC within ±0.03 of the mean over combinations, and the worst mean test MSE within
1.25× the best. Significance level 0.05 throughout; equivalence by two one-sided tests (90 % intervals)."""

from __future__ import annotations

import math
from functools import partial
from itertools import combinations

import numpy as np
import pandas as pd
from scipy import stats

from aecrypt.stats.findings import ALPHA, INCONCLUSIVE, NOT_REPRODUCED, NOT_TESTABLE, REPRODUCED, Finding
from aecrypt.stats.intervals import SCORE_RANGE, t_interval
from aecrypt.stats.linear import GroupModel, holm

AUC_MARGIN = 0.03  # "very close": every combination's AUC within this of the mean
MSE_RATIO_MARGIN = 1.25  # "very close": worst MSE within this factor of the best
#: A training loss still falling faster than this per epoch over the last fifth of training has not converged.
#: Kept low on purpose: a slow optimizer on a plateau (Adagrad, SGD at Keras' default rates) still falls by
#: a few tenths of a percent per epoch, and a ranking against it says "slower", not "worse".
CONVERGED_RATE = 0.001


def _finished(table: pd.DataFrame, metric: str) -> pd.DataFrame:
    ok = table[(table["status"] == "ok")].copy()
    ok = ok[np.isfinite(pd.to_numeric(ok[metric], errors="coerce"))]
    ok[metric] = ok[metric].astype(float)
    ok["seed"] = ok["seed"].astype(int)
    return ok


def _seeds_needed(gap: float, sigma: float, k: int, power: float = 0.8) -> int:
    """Seeds per combination that detect a mean difference `gap` between two combinations with `power`,
    one-sided at ALPHA / (k - 1) (normal approximation; the seed noise `sigma` as measured)."""
    if gap <= 0 or not np.isfinite(sigma) or sigma <= 0:
        return 0
    z = stats.norm.ppf(1 - ALPHA / max(1, k - 1)) + stats.norm.ppf(power)
    return max(2, math.ceil(2 * (z * sigma / gap) ** 2))


def named_best(
    table: pd.DataFrame,
    label: str,
    metric: str,
    lower_is_better: bool,
    claim: str,
    paper: str,
    log: bool = False,
    unconverged: dict[str, float] | None = None,
) -> Finding:
    """Is the combination the paper names the best by `metric`? Not reproduced if some combination is
    significantly better (one-sided paired comparisons over seeds, Holm-corrected for the k − 1
    comparisons); reproduced if it is significantly better than every other (an intersection-union test:
    each comparison at 0.05); otherwise inconclusive. `unconverged` maps combinations whose training loss
    was still falling at the last epoch to that rate: a ranking that may only reflect unfinished training
    is not called "not reproduced"."""
    ok = _finished(table, metric)
    name = metric.upper()
    scale = f"log10 {name}" if log else name
    test = f"{scale}: named vs. each other combination over seeds, one-sided, Holm"
    found = partial(Finding, claim, paper, test)
    if label not in set(ok["label"]):
        return found(f"{label} has no finished run in this build", f"{NOT_TESTABLE} (not run)")
    ok["y"] = (np.log10(ok[metric]) if log else ok[metric]) * (-1 if lower_is_better else 1)  # higher is better
    model = GroupModel(ok, "y")
    k = len(model.groups)
    best = str(model.means.idxmax())
    seeds = sorted(ok["seed"].unique())
    per_seed = ok.loc[ok.groupby("seed")["y"].idxmax(), ["seed", "label"]]
    first = int((per_seed["label"] == label).sum())
    bounds = SCORE_RANGE if metric == "auc" else None
    mine = t_interval(ok.loc[ok["label"] == label, metric], bounds=bounds)
    top = t_interval(ok.loc[ok["label"] == best, metric], bounds=bounds)
    measured = (
        f"{label}: {name} {mine:.3g} over {mine.n} seed(s); best by mean: {best} ({top:.3g}); {label} ranks "
        f"first in {first} of {len(seeds)} seed(s)."
    )
    if k < 2:
        return found(measured, f"{NOT_TESTABLE} (one combination)")
    if not model.noise:
        return found(
            measured,
            INCONCLUSIVE,
            decide="one run per combination measures no seed-to-seed noise: run at least 3 seeds (--seeds 3)",
        )
    others = [g for g in model.groups if g != label]
    worse = [model.difference(g, label) for g in others]  # > 0: g better than the named one
    p_worse = holm(c.p_greater() for c in worse)
    p_better = [model.difference(label, g).p_greater() for g in others]
    gap = model.difference(best, label) if best != label else None
    if gap is not None:
        low, high = gap.interval()
        if log:  # y = -log10(metric): the gap is the factor by which the named one is worse
            measured += f" Named ÷ best {name}: {10**gap.estimate:.3g}× [{10**low:.3g}×, {10**high:.3g}×]"
        else:
            sign = -1 if lower_is_better else 1  # back to the metric's own direction
            ends = sorted((sign * low, sign * high))
            measured += f" Best − named {name}: {sign * gap.estimate:+.3g} [{ends[0]:+.3g}, {ends[1]:+.3g}]"
        measured += f", smallest Holm-adjusted p {min(p_worse):.2g}."
    if min(p_worse) < ALPHA:
        outcome = NOT_REPRODUCED
        stalled = {g: r for g, r in (unconverged or {}).items() if g in (label, best)}
        if stalled:
            rates = ", ".join(f"{g} {r:.1%}/epoch" for g, r in stalled.items())
            return found(
                measured,
                f"{INCONCLUSIVE} (not converged)",
                decide=f"training was cut short and the loss was still falling at the end ({rates}): rerun with the "
                "paper's 50 epochs (PROFILE=paper, or more ae_epochs)",
                notes=["Significantly worse than the best at this training length."],
            )
        return found(measured, outcome)
    if max(p_better) < ALPHA:
        return found(measured, REPRODUCED)
    sigma = math.sqrt(model.fit.scale)
    need = _seeds_needed(gap.estimate if gap else 0.0, sigma, k)
    decide = (
        f"the gap to the best is within seed noise (σ = {sigma:.2g} in {scale} per run); about {need} seeds per "
        "combination would detect a gap this size"
        if need
        else f"it is the best by mean but not significantly better than all {k - 1} others; more seeds would tell"
    )
    return found(measured, INCONCLUSIVE, decide=decide)


def very_close(table: pd.DataFrame) -> Finding:
    """'All combinations give results very close to each other': how much of the variance the combination
    explains against seed noise (F test, η²; Kruskal–Wallis, ε²), and equivalence within fixed margins —
    every combination's mean AUC within ±AUC_MARGIN of the mean over combinations, and every pair's mean
    MSE within a factor MSE_RATIO_MARGIN (two one-sided tests on log MSE)."""
    claim, paper = "all combinations give results very close to each other", "abstract"
    test = f"F test, η², Kruskal–Wallis; equivalence (TOST) within ±{AUC_MARGIN} AUC and {MSE_RATIO_MARGIN}× MSE"
    found = partial(Finding, claim, paper, test)
    auc, mse = _finished(table, "auc"), _finished(table, "mse")
    mse["y"] = np.log10(mse["mse"])
    m_auc, m_mse = GroupModel(auc, "auc"), GroupModel(mse, "y")
    k = len(m_auc.groups)
    if k < 2:
        return found("one combination", f"{NOT_TESTABLE} (one combination)")
    spread = f"AUC range of means {m_auc.means.min():.3f}–{m_auc.means.max():.3f}; worst mean MSE " + (
        f"{10 ** (m_mse.means.max() - m_mse.means.min()):.2f}× the best."
    )
    if not (m_auc.noise and m_mse.noise):
        return found(spread, INCONCLUSIVE, decide="one run per combination: run at least 3 seeds")
    f, p, eta = m_auc.f_test()
    groups = [g["auc"].to_numpy() for _, g in auc.groupby("label")]
    h, p_kw = stats.kruskal(*groups)
    epsilon = h / (len(auc) - 1)
    uniform = {g: 1 / k for g in m_auc.groups}
    deviations = [m_auc.contrast({h_: w - (h_ == g) for h_, w in uniform.items()}) for g in m_auc.groups]
    auc_eq = max(max(abs(lo), abs(hi)) for lo, hi in (d.interval(0.90) for d in deviations))
    auc_out = any(abs(d.estimate) - (d.estimate - d.interval()[0]) > AUC_MARGIN for d in deviations)
    pairs = [m_mse.difference(a, b) for a, b in combinations(m_mse.groups, 2)]
    log_margin = math.log10(MSE_RATIO_MARGIN)
    mse_eq = max(max(abs(lo), abs(hi)) for lo, hi in (d.interval(0.90) for d in pairs))
    mse_out = any(abs(d.estimate) - (d.estimate - d.interval()[0]) > log_margin for d in pairs)
    measured = (
        f"{spread} The combination explains η² = {eta:.0%} of the AUC variance (F = {f:.2f}, p = {p:.2g}; "
        f"Kruskal–Wallis ε² = {epsilon:.2f}, p = {p_kw:.2g}). Largest 90 % bound of a combination's AUC "
        f"deviation from the mean: {auc_eq:.3f} (margin {AUC_MARGIN}); of a pair's MSE ratio: "
        f"{10**mse_eq:.2f}× (margin {MSE_RATIO_MARGIN}×)."
    )
    if auc_out or mse_out:
        what = " and ".join(n for n, out in (("AUC", auc_out), ("MSE", mse_out)) if out)
        return Finding(
            claim, paper, test, measured, NOT_REPRODUCED, notes=[f"Differences beyond the margin are shown for {what}."]
        )
    if auc_eq < AUC_MARGIN and mse_eq < log_margin:
        return found(measured, REPRODUCED)
    return found(
        measured,
        INCONCLUSIVE,
        decide="neither equivalence within the margins nor a difference beyond them is shown; more seeds narrow "
        "the intervals",
    )


def depth_effect(table: pd.DataFrame) -> tuple[Finding, pd.DataFrame]:
    """'More encoder layers do not improve the metrics': the effect of each deeper depth against each
    shallower one on AUC and on log MSE, from metric ~ depth + (loss, optimizer, activation) + seed.
    Not reproduced if a deeper network is significantly better (one-sided, Holm over all comparisons);
    reproduced if every improvement's 90 % upper bound is below the margin (0.03 AUC, 1.25× MSE)."""
    claim, paper = "more encoder layers do not improve the metrics", "conclusion"
    test = (
        f"deeper − shallower within loss, optimizer, activation: > 0 (Holm) or < margin ({AUC_MARGIN} AUC, 1.25× MSE)"
    )
    found = partial(Finding, claim, paper, test)
    rows = []
    for metric, log, margin in (("auc", False, AUC_MARGIN), ("mse", True, math.log10(MSE_RATIO_MARGIN))):
        ok = _finished(table, metric)
        ok["depth"] = ok["depth"].astype(int)
        ok["rest"] = ok["loss"] + "+" + ok["optimizer"] + "+" + ok["activation"]
        ok["y"] = -np.log10(ok[metric]) if log else ok[metric]  # higher is better
        depths = sorted(ok["depth"].unique())
        if len(depths) < 2:
            continue
        model = GroupModel(ok.sort_values("depth"), "y", group="depth", blocks=("rest", "seed"))
        for shallow, deep in combinations(depths, 2):
            c = model.difference(deep, shallow)
            low, high = c.interval() if model.noise else (math.nan, math.nan)
            rows.append(
                {
                    "metric": "log10 MSE (lower)" if log else "AUC",
                    "deeper − shallower": f"{deep} − {shallow}",
                    "improvement": c.estimate,
                    "95 % low": low,
                    "95 % high": high,
                    "90 % high": c.interval(0.90)[1] if model.noise else math.nan,
                    "p (improves)": c.p_greater() if model.noise else math.nan,
                    "margin": margin,
                    "n runs": int(model.n[deep] + model.n[shallow]),
                }
            )
    effects = pd.DataFrame(rows)
    if not effects.empty:
        effects = effects[effects["improvement"].notna()].reset_index(drop=True)  # not separable from the rest
    if effects.empty:
        return found("only one depth ran", f"{NOT_TESTABLE} (one depth)"), effects
    measured = "; ".join(
        f"{r['metric']} {r['deeper − shallower']}: {r['improvement']:+.3f} "
        f"[{r['95 % low']:+.3f}, {r['95 % high']:+.3f}]"
        for r in effects.to_dict("records")
    )
    measured = f"Improvement from more layers (positive = better): {measured}."
    if effects["p (improves)"].isna().any():
        return (
            found(measured, INCONCLUSIVE, decide="one seed: run at least 3 seeds"),
            effects,
        )
    effects["p Holm"] = holm(effects["p (improves)"])
    if (effects["p Holm"] < ALPHA).any():
        return found(measured, NOT_REPRODUCED), effects
    if (effects["90 % high"] < effects["margin"]).all():
        return found(measured, REPRODUCED), effects
    return (
        found(
            measured,
            INCONCLUSIVE,
            decide="no significant improvement, but the intervals reach past the margin; more seeds (or more "
            "combinations at depth 5) would tell",
        ),
        effects,
    )


def epoch_effect(table: pd.DataFrame, checkpoints: tuple[int, ...]) -> tuple[Finding, pd.DataFrame]:
    """'More epochs decrease the loss': per combination, the change of log10 training loss from each
    checkpoint to the next, with a t-interval over seeds. Reproduced if it falls significantly at every
    step of every combination (intersection-union); not reproduced if it rises significantly anywhere
    (Holm); otherwise inconclusive."""
    claim, paper = "more epochs decrease the loss", "conclusion; Fig. 7"
    steps = list(zip(checkpoints, checkpoints[1:], strict=False))
    test = f"per combination, log loss at epochs {'→'.join(map(str, checkpoints))}: t-interval over seeds per step"
    found = partial(Finding, claim, paper, test)
    cols = [f"loss_at_{c}" for c in checkpoints]
    ok = table[table["status"] == "ok"]
    if len(steps) == 0 or not set(cols) <= set(ok.columns):
        return found("fewer than two checkpoints", f"{NOT_TESTABLE} (one checkpoint)"), (pd.DataFrame())
    rows = []
    for label, group in ok.groupby("label", sort=False):
        for a, b in steps:
            change = np.log10(group[f"loss_at_{b}"].astype(float)) - np.log10(group[f"loss_at_{a}"].astype(float))
            ci = t_interval(change)
            sd = float(np.std(change, ddof=1)) if ci.n > 1 else math.nan
            t = ci.estimate / (sd / math.sqrt(ci.n)) if ci.n > 1 and sd > 0 else math.nan
            rows.append(
                {
                    "combination": label,
                    "epochs": f"{a}→{b}",
                    "log10 change": ci.estimate,
                    "95 % low": ci.low,
                    "95 % high": ci.high,
                    "n": ci.n,
                    "p (rises)": float(stats.t.sf(t, ci.n - 1)) if np.isfinite(t) else math.nan,
                }
            )
    steps_table = pd.DataFrame(rows)
    falls = int((steps_table["95 % high"] < 0).sum())
    measured = (
        f"the loss falls significantly in {falls} of {len(steps_table)} checkpoint steps "
        f"(median change ×{10 ** steps_table['log10 change'].median():.2f} per step)."
    )
    if steps_table["95 % high"].isna().any():
        return found(measured, INCONCLUSIVE, decide="one seed: run at least 3 seeds"), (steps_table)
    if (holm(steps_table["p (rises)"]) < ALPHA).any():
        return found(measured, NOT_REPRODUCED), steps_table
    if falls == len(steps_table):
        return found(measured, REPRODUCED), steps_table
    return (
        found(measured, INCONCLUSIVE, decide="some steps are within seed noise; more seeds"),
        steps_table,
    )


def convergence(histories: dict[str, pd.DataFrame], labels: dict[str, str]) -> pd.DataFrame:
    """Per combination: how fast its autoencoder's training loss still fell over the last fifth of training
    (relative fall per epoch, mean over seeds), and whether that counts as converged (< CONVERGED_RATE)."""
    rows = []
    for run_id, history in histories.items():
        ae = history[history["model"] == "autoencoder"]["loss"].to_numpy(float)
        k = max(1, round(len(ae) / 5))
        if len(ae) <= k:
            continue
        rate = 1 - (ae[-1] / ae[-1 - k]) ** (1 / k)
        rows.append({"combination": labels[run_id], "fall per epoch at the end": rate})
    frame = pd.DataFrame(rows, columns=["combination", "fall per epoch at the end"])
    out = frame.groupby("combination", sort=False).agg(
        **{"fall per epoch at the end": ("fall per epoch at the end", "mean"), "seeds": ("combination", "size")}
    )
    out["converged"] = out["fall per epoch at the end"] < CONVERGED_RATE
    return out.reset_index()


def cipher_security(key_errors: pd.Series, violations: pd.Series, also: str = "") -> Finding:
    """'The cipher secures the transmitted features', tested by the known-plaintext attack: one (latent,
    ciphertext) pair gives K = √E − z wherever z + K ≥ 0. Not reproduced when the key comes back to within
    float rounding in the runs whose latents never leave that domain; if the attack failed, that would not
    prove security (inconclusive)."""
    claim, paper = "the cipher secures the transmitted features", "Sec. 3"
    test = "known-plaintext attack on every run: K̂ = √E₁ − z₁ from one pair"
    found = partial(Finding, claim, paper, test)
    clean = key_errors[violations.reindex(key_errors.index).fillna(0) == 0]
    if clean.empty:
        return found("no run with a non-negative latent domain", f"{NOT_TESTABLE} (no run)")
    tol = 1e-3  # the key is in [0, 1); float32 rounding of √E − z is ~1e-6
    hit = int((clean < tol).sum())
    measured = (
        f"the key is recovered to within {clean.max():.1e} (largest error) in {hit} of {len(clean)} runs with "
        f"z + K ≥ 0 everywhere, from one known pair each.{also}"
    )
    if hit == len(clean):
        return found(measured, NOT_REPRODUCED)
    return found(
        measured,
        INCONCLUSIVE,
        decide="this attack failed in some runs, which does not make the cipher secure",
    )


def compression(ratios: pd.Series) -> Finding:
    """'The autoencoder compresses the image': latent values per image value, from the shapes."""
    claim, paper = "the autoencoder compresses the image before encryption", "abstract; Sec. 1"
    test = "latent values ÷ image values, from the layer shapes"
    found = partial(Finding, claim, paper, test)
    lo, hi = float(ratios.min()), float(ratios.max())
    measured = (
        f"the latent has {lo:.3g}×–{hi:.3g}× as many values as the image, and they are float32 (4 bytes) "
        "where a pixel is 8 bits."
    )
    outcome = NOT_REPRODUCED if lo > 1 else REPRODUCED if hi < 1 else f"{INCONCLUSIVE} (depends on depth)"
    return found(measured, outcome)


def epoch_time(seconds: pd.Series, size: int, n_train: int, machine: str, low: float, high: float) -> Finding:
    """'9–16 s per epoch': reported with this machine named; no verdict, the paper names no hardware."""
    return Finding(
        f"{low:.0f}–{high:.0f} s per epoch",
        "abstract (hardware not stated)",
        "median over runs, machine named",
        f"median {seconds.median():.2f} s per epoch at {size}², {n_train} training images, on {machine}.",
        f"{NOT_TESTABLE} (the paper names no hardware)",
    )
