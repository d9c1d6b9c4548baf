"""What the long runs (`runs.longrun`, `make bench-convergence`) can decide, and nothing more.

Trained to the paper's step budget, a named combination can be shown *beaten* by a trained rival (not
reproduced) or not separable from its rivals (inconclusive, with the interval). The long runs train a handful
of combinations, so they can never show one "best of 19": a test that finds the named combination best of
those it met reads *inconclusive (best of the long runs only)*. "Very close" and depth stay with the build's
gated tests.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from aecrypt.runs import longrun
from aecrypt.stats.components import Build, Run
from aecrypt.stats.findings import INCONCLUSIVE, REPRODUCED, Finding
from aecrypt.stats.training import Gate

#: What a scorecard row that rests on the long runs says of its budget.
AT_PAPER_BUDGET = "at the paper's step budget, at 32²"


def build(root: Path | None = None, which: str = "final") -> Build:
    """The finished long runs as a `Build` (their per-image test values at the `which` checkpoint)."""
    runs = []
    for row in longrun.record(root).to_dict("records"):
        if not row["done"]:
            continue
        run = next(r for r in longrun.planned(row["label"]) if r.seed == row["seed"])
        values = {k.removeprefix(f"{which}_"): v for k, v in row.items() if k.startswith(f"{which}_")}
        values |= {k: row[k] for k in ("mse_mean_image", "ssim_mean_image")}
        runs.append(Run(row["label"], int(row["seed"]), values, longrun.scores(run, which, root)))
    return Build(runs)


def gate(root: Path | None = None) -> Gate:
    """The long runs' gate: their steps and their runs that did not train (no projection: they reached the
    paper's budget)."""
    rec = longrun.record(root)
    done = rec[rec["done"]]
    frame = done.rename(columns={"final_mse": "mse", "final_ssim": "ssim", "steps": "ae_steps"})
    return Gate.of(frame.reindex(columns=["label", "mse", "ssim", "mse_mean_image", "ssim_mean_image", "ae_steps"]))


def decide(finding: Finding, label: str, test: Callable[[Build, Gate], Finding], root: Path | None = None) -> Finding:
    """`finding` (the build's test that `label` is the best) decided again by `test` on the long runs, where
    `label` and at least one rival finished; else `finding` unchanged. The row then says it rests on them."""
    runs = build(root)
    if label not in runs.labels or len(runs.labels) < 2:
        return finding
    # one seed has no seed spread to compare: the named combination needs two or more, and so does every rival
    # compared (those with one are named and left out)
    if len(runs.of(label)) < 2:
        finding.notes.append(
            f"The long runs hold {len(runs.of(label))} seed of {label} at the paper's step budget: a second "
            "(`make bench-convergence`) lets them decide this row."
        )
        return finding
    single = [g for g in runs.labels if len(runs.of(g)) < 2]
    if len(single) == len(runs.labels) - 1:
        return finding
    runs = Build([r for r in runs.runs if r.label not in single])
    out = test(runs, gate(root))
    if single:
        out.notes.append(f"Long runs of one seed, not compared: {', '.join(single)}.")
    if out.outcome == REPRODUCED:
        met = ", ".join(g for g in runs.labels if g != label)
        out.notes.append(f"Best of the long runs it met ({met}); they cannot show it best of every combination.")
        out.outcome = out.verdict = f"{INCONCLUSIVE} (best of the long runs only)"
    out.budget = AT_PAPER_BUDGET
    out.notes.append(f"The build's own test ({finding.budget or 'at its length'}) says: {finding.outcome}.")
    return out
