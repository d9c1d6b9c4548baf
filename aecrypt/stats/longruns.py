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
    """The finished long runs as a `Build` (their per-image test values at the `which` checkpoint).

    Parameters
    ----------
    root : Path, optional
        The results folder the long runs are under (`paths.long_run_dir`); the configured one where None.
    which : {"final", "best"}, optional
        The checkpoint: the last one, or the one with the lowest validation loss.

    Returns
    -------
    Build
        One `Run` per finished long run (unfinished ones are left out): its combination, seed, metrics at that
        checkpoint with the mean image's MSE and SSIM, and its per-image scores where it saved them.

    Examples
    --------
    One finished run of MSLE+Adam+ReLU+2, written as `longrun.train` leaves it:

    >>> import json, tempfile
    >>> from aecrypt import paths
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     run = longrun.planned("MSLE+Adam+ReLU+2")[0]
    ...     folder = paths.long_run_dir(longrun.PROFILE, run.name, Path(tmp))
    ...     folder.mkdir(parents=True)
    ...     state = {"epoch": 50, "step": 9150, "wall_s": 0, "cpu_s": 0, "done": True, "mse_mean_image": 0.03,
    ...              "ssim_mean_image": 0.56, "final": {"mse": 0.01, "ssim": 0.7, "auc": 0.8}}
    ...     _ = (folder / "state.json").write_text(json.dumps(state))
    ...     runs = build(Path(tmp))
    >>> runs.labels, runs.runs[0].seed
    (['MSLE+Adam+ReLU+2'], 0)
    >>> runs.runs[0].values
    {'mse': 0.01, 'ssim': 0.7, 'auc': 0.8, 'mse_mean_image': 0.03, 'ssim_mean_image': 0.56}
    """
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
    paper's budget).

    Parameters
    ----------
    root : Path, optional
        The results folder the long runs are under (`paths.long_run_dir`); the configured one where None.

    Returns
    -------
    Gate
        Over the finished long runs at their final checkpoint: the most common step count (None where none
        finished) and, per combination, its runs not trained; no projections, not unbounded.

    Examples
    --------
    No long run finished, then one that did not train (its MSE above the mean image's, its SSIM below):

    >>> import json, tempfile
    >>> from aecrypt import paths
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     before = gate(Path(tmp))
    ...     run = longrun.planned("MSLE+Adam+ReLU+2")[0]
    ...     folder = paths.long_run_dir(longrun.PROFILE, run.name, Path(tmp))
    ...     folder.mkdir(parents=True)
    ...     state = {"epoch": 50, "step": 9150, "wall_s": 0, "cpu_s": 0, "done": True, "mse_mean_image": 0.03,
    ...              "ssim_mean_image": 0.56, "final": {"mse": 0.05, "ssim": 0.2, "auc": 0.5}}
    ...     _ = (folder / "state.json").write_text(json.dumps(state))
    ...     after = gate(Path(tmp))
    >>> before
    Gate(steps=None, projected={}, collapsed={}, unbounded=False)
    >>> after
    Gate(steps=9150, projected={}, collapsed={'MSLE+Adam+ReLU+2': (1, 1)}, unbounded=False)
    """
    rec = longrun.record(root)
    done = rec[rec["done"]]
    frame = done.rename(columns={"final_mse": "mse", "final_ssim": "ssim", "steps": "ae_steps"})
    return Gate.of(frame.reindex(columns=["label", "mse", "ssim", "mse_mean_image", "ssim_mean_image", "ae_steps"]))


def decide(finding: Finding, label: str, test: Callable[[Build, Gate], Finding], root: Path | None = None) -> Finding:
    """`finding` (the build's test that `label` is the best) decided again by `test` on the long runs, where
    `label` and at least one rival finished; else `finding` unchanged. The row then says it rests on them.

    Parameters
    ----------
    finding : Finding
        The build's own test of the claim; its outcome and budget are quoted in the notes of the result.
    label : str
        The combination the paper names best, e.g. "MSLE+Adam+ReLU+2".
    test : callable
        ``test(build, gate) -> Finding``, the same claim test run on the long runs (`rules.Rule.named_test`).
    root : Path, optional
        The results folder the long runs are under (`paths.long_run_dir`); the configured one where None.

    Returns
    -------
    Finding
        `test`'s finding on the long runs of at least two seeds, with `AT_PAPER_BUDGET` as its budget and notes
        naming the one-seed rivals left out and what the build's own test said; a "reproduced" (best of those
        met) reads "inconclusive (best of the long runs only)". Where the long runs cannot decide: `finding`
        itself, with a note asking for a second seed where `label` has one only.

    Examples
    --------
    >>> import json, tempfile
    >>> from aecrypt import paths
    >>> def finish(root, run):  # a finished long run, as `longrun.train` leaves it
    ...     folder = paths.long_run_dir(longrun.PROFILE, run.name, root)
    ...     folder.mkdir(parents=True)
    ...     state = {"epoch": 50, "step": 9150, "wall_s": 0, "cpu_s": 0, "done": True, "mse_mean_image": 0.03,
    ...              "ssim_mean_image": 0.56, "final": {"mse": 0.01, "ssim": 0.7, "auc": 0.8}}
    ...     _ = (folder / "state.json").write_text(json.dumps(state))
    >>> def best(build, gate):  # a stand-in for the claim's test: it finds the named combination best
    ...     return Finding("best", "Table 3", "lowest MSE", "measured", REPRODUCED)
    >>> own = Finding("best", "Table 3", "lowest MSE", "measured", INCONCLUSIVE, budget="at 60 steps")
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     unchanged = decide(own, "MSLE+Adam+ReLU+2", best, Path(tmp)) is own  # no long run finished
    ...     for label in ("MSLE+Adam+ReLU+2", "MSLE+Adagrad+ReLU+2"):
    ...         for run in longrun.planned(label):
    ...             finish(Path(tmp), run)
    ...     out = decide(own, "MSLE+Adam+ReLU+2", best, Path(tmp))
    >>> unchanged
    True
    >>> out.outcome, out.budget
    ('inconclusive (best of the long runs only)', "at the paper's step budget, at 32²")
    >>> out.notes[-1]
    "The build's own test (at 60 steps) says: inconclusive."
    """
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
