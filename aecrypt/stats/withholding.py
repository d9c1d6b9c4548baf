"""What a verdict says when the training may be too short to decide it: the convergence gate's withholding
and its wording, as the tests of the claims (`stats.claims`) and the depth rule (`stats.rules`) apply it.

Training (`stats.training.Gate`): a run whose autoencoder did not train (no better than the mean image) is left
out of every mean and counted; a named combination none of whose runs trained reads *inconclusive
(did not train at N steps)*. Where training stopped short of the paper's step budget, each combination's
projected further fall of log10 training loss (`stats.convergence`) gates the decision: a ranking whose gap a
combination could still close, or a spread that could still change by more than its margin, reads
*inconclusive (not converged)*, whichever way it went.
"""

from __future__ import annotations

from aecrypt.stats.components import Build
from aecrypt.stats.convergence import factor_text
from aecrypt.stats.findings import INCONCLUSIVE, LOG_MARGIN, NOT_REPRODUCED, NOT_TESTABLE, REPRODUCED, Finding
from aecrypt.stats.training import Gate

NOT_CONVERGED = f"{INCONCLUSIVE} (not converged)"


def did_not_train(gate: Gate) -> str:
    """The verdict of a claim whose runs did not train: *inconclusive (did not train at N steps)*.

    Parameters
    ----------
    gate : Gate
        The build's training gate; its `steps` (None where not recorded) name the length.

    Returns
    -------
    str
        The outcome, a qualified `INCONCLUSIVE`.

    Examples
    --------
    >>> did_not_train(Gate(1000))
    'inconclusive (did not train at 1,000 steps)'
    >>> did_not_train(Gate(None))
    'inconclusive (did not train at an unrecorded length)'
    """
    return f"{INCONCLUSIVE} (did not train at {gate.short()})"


def withhold_best(finding: Finding, gate: Gate, everyone: list[str], trained: Build) -> Finding:
    """A named combination shown best of its trained rivals is not shown best of all while a rival left out
    for not training could not be compared: that reads *inconclusive (did not train at N steps)*.

    Parameters
    ----------
    finding : Finding
        `named_best`'s finding on the trained runs alone; changed in place.
    gate : Gate
        The build's training gate.
    everyone : list of str
        Every combination of the build, trained or not.
    trained : Build
        The build's trained runs (`Gate.trained_only`).

    Returns
    -------
    Finding
        `finding`, its notes holding the gate's note on runs not trained; a *reproduced*, or a *not testable here
        (one combination)*, with a combination absent from `trained` now reads *inconclusive (did not train at N
        steps)*. A *not reproduced* stands.

    Examples
    --------
    >>> from aecrypt.stats.claims import named_best
    >>> from aecrypt.stats.components import Run
    >>> mse = {"A": [0.010, 0.011, 0.012], "B": [0.020, 0.021, 0.022], "C": [0.030, 0.031, 0.033]}
    >>> values = lambda s, m: {"mse": m, "mae": 5 * m, "auc": 0.6 + 0.001 * s}
    >>> build = Build([Run(g, s, values(s, m)) for g, ms in mse.items() for s, m in enumerate(ms)])
    >>> found = named_best(build, "A", "log_mse", True, "lowest MSE", "Fig. 6")
    >>> withhold_best(found, Gate(1000), ["A", "B", "C", "D"], build).outcome
    'inconclusive (did not train at 1,000 steps)'
    >>> found.notes
    ['Best of the trained combinations; 1 did not train and were not compared.']
    """
    if note := gate.collapse_note():
        finding.notes.append(note)
    absent = [g for g in everyone if g not in trained.labels]
    if finding.outcome == f"{NOT_TESTABLE} (one combination)" and absent:
        finding.outcome = finding.verdict = did_not_train(gate)
        finding.notes.append(f"Every other combination ({len(absent)}) did not train: there is no rival to compare.")
    elif finding.outcome == REPRODUCED and absent:
        finding.notes.append(f"Best of the trained combinations; {len(absent)} did not train and were not compared.")
        finding.outcome = finding.verdict = did_not_train(gate)
        finding.decide = "training every combination until it learns (`make bench-convergence`)"
    return finding


_UNBOUNDED = "{line}, and the long runs showed falls the projection cannot bound: train longer"


def catches_up(gate: Gate | None, metric: str, pairs: list[tuple[str, str, float]], every: bool = False) -> str:
    """Where training stopped short of the paper's step budget: the reason to wait if a (behind, ahead, gap)
    pair's behind combination could still close the gap by then (its projected log10 loss fall beyond the ahead
    one's: against the gap on a log metric, against the MSE margin for AUC and accuracy) — for any pair, or with
    `every`, only if every pair could; else "".

    Parameters
    ----------
    gate : Gate or None
        The build's training gate; None, or one with no `projected` falls (trained to the paper's steps), waits
        for nothing.
    metric : str
        The metric compared: a log metric ("log_mse") weighs a fall against the gap, any other against the MSE
        margin (`LOG_MARGIN`).
    pairs : list of tuple of (str, str, float)
        (behind, ahead, gap): the combination behind, the one ahead, and the gap between them on `metric`.
    every : bool, default False
        Wait only if every pair's behind combination could catch up (a loser beaten by several), not any one.

    Returns
    -------
    str
        The reason to wait (the `decide` of a *not converged* finding: the training length, whose loss was still
        falling, and "train longer"), or "" where the decision stands.

    Examples
    --------
    >>> gate = Gate(1000, projected={"A": 0.5, "B": 0.1})  # A could still fall 0.4 decades more than B
    >>> print(catches_up(gate, "log_mse", [("A", "B", 0.2)]))
    trained for 1,000 steps, 11 % of the paper's 9,150, and A's loss was still falling: projected to the paper's
    steps it could still fall 3.2× (against B's 1.3×), more than the gap between them: train longer
    (`make bench-convergence` trains the named combinations to the paper's steps)
    >>> catches_up(gate, "log_mse", [("A", "B", 0.6)]), catches_up(Gate(1000), "log_mse", [("A", "B", 0.2)])
    ('', '')
    >>> catches_up(gate, "log_mse", [("A", "B", 0.2), ("A", "C", 0.6)], every=True)  # C stays out of reach
    ''
    """
    if gate is None or not gate.projected:
        return ""
    if gate.unbounded:
        return _UNBOUNDED.format(line=gate.line())
    fall = gate.projected
    reasons = []
    for behind, ahead, gap in pairs:
        potential = fall.get(behind, 0.0) - fall.get(ahead, 0.0)
        threshold = abs(gap) if metric.startswith("log_") else LOG_MARGIN
        what = "the gap" if metric.startswith("log_") else "the 1.25× margin"
        if potential <= threshold:
            if every:
                return ""
            continue
        reasons.append(
            f"{gate.line()}, and {behind}'s loss was still falling: projected to the paper's steps it could "
            f"still fall {factor_text(fall.get(behind, 0.0))} (against {ahead}'s "
            f"{factor_text(fall.get(ahead, 0.0))}), more than {what} between them: train longer "
            "(`make bench-convergence` trains the named combinations to the paper's steps)"
        )
        if not every:
            break
    return reasons[0] if reasons else ""


def _spread_could_change(gate: Gate | None, labels: list[str], margin_text: str) -> str:
    """Where training stopped short: the reason a verdict over `labels` could still change (two of them whose
    projected falls differ by more than the MSE margin), or ''."""
    if gate is None or not gate.projected:
        return ""
    if gate.unbounded:
        return _UNBOUNDED.format(line=gate.line())
    falls = {g: gate.projected.get(g, 0.0) for g in labels}
    if not falls:
        return ""
    most, least = max(falls, key=falls.get), min(falls, key=falls.get)
    if falls[most] - falls[least] <= LOG_MARGIN:
        return ""
    return (
        f"{gate.line()}: projected to the paper's steps, {most}'s loss could still fall {factor_text(falls[most])} "
        f"and {least}'s {factor_text(falls[least])}, a difference beyond {margin_text}: train longer before deciding"
    )


def on_trained(test, build: Build, gate: Gate) -> Finding:
    """`test(build)` on the runs that trained; where leaving the others out is what makes it untestable (every
    combination, or every depth but one, did not train), *inconclusive (did not train at N steps)*.

    Parameters
    ----------
    test : callable
        ``test(build)`` returning a `Finding` (e.g. `very_close`).
    build : Build
        The finished runs, trained or not.
    gate : Gate
        The build's training gate; a run is left out by its own values (`Gate.trained_only`).

    Returns
    -------
    Finding
        The test's finding on the trained runs, with the gate's note on runs not trained.

    Examples
    --------
    B and C are no better than the mean image (MSE 0.015, no SSIM recorded), so A is left alone:

    >>> from aecrypt.stats.claims import very_close
    >>> from aecrypt.stats.components import Run
    >>> mse = {"A": [0.010, 0.011, 0.012], "B": [0.020, 0.021, 0.022], "C": [0.030, 0.031, 0.033]}
    >>> values = lambda s, m: {"mse": m, "mae": 5 * m, "auc": 0.6 + 0.001 * s}
    >>> build = Build([Run(g, s, values(s, m)) for g, ms in mse.items() for s, m in enumerate(ms)])
    >>> for run in build.runs:
    ...     run.values["mse_mean_image"] = 0.015
    >>> on_trained(very_close, build, Gate(1000)).outcome
    'inconclusive (did not train at 1,000 steps)'
    """
    finding = test(gate.trained_only(build))
    if finding.outcome.startswith(NOT_TESTABLE) and not test(build).outcome.startswith(NOT_TESTABLE):
        finding.notes.append(f"On its trained runs alone: {finding.outcome}.")
        finding.outcome = finding.verdict = did_not_train(gate)
    if note := gate.collapse_note():
        finding.notes.append(note)
    return finding


def withhold(finding: Finding, gate: Gate | None, build: Build, margin_text: str) -> Finding:
    """A decided finding over the trained combinations of `build` that training could still change
    (`_spread_could_change`) reads *inconclusive (not converged)*, with the reason; a *reproduced* that could not
    compare a combination none of whose runs trained reads *inconclusive (did not train at N steps)* (a *not
    reproduced* shown among trained runs stands).

    Parameters
    ----------
    finding : Finding
        A test's finding on the trained runs; changed in place.
    gate : Gate or None
        The build's training gate; None returns `finding` unchanged.
    build : Build
        The finished runs, trained or not.
    margin_text : str
        The margin as the reason names it (e.g. "the 1.25× margin").

    Returns
    -------
    Finding
        `finding`, withheld as above; an undecided finding is returned unchanged.

    Examples
    --------
    B's loss could still fall 10^0.5 ≈ 3.2× by the paper's steps, A's and C's not at all:

    >>> from aecrypt.stats.claims import very_close
    >>> from aecrypt.stats.components import Run
    >>> mse = {"A": [0.010, 0.011, 0.012], "B": [0.020, 0.021, 0.022], "C": [0.030, 0.031, 0.033]}
    >>> values = lambda s, m: {"mse": m, "mae": 5 * m, "auc": 0.6 + 0.001 * s}
    >>> build = Build([Run(g, s, values(s, m)) for g, ms in mse.items() for s, m in enumerate(ms)])
    >>> gate = Gate(1000, {"A": 0.0, "B": 0.5, "C": 0.0})
    >>> found = very_close(build)
    >>> found.outcome
    'not reproduced'
    >>> withhold(found, gate, build, "the 1.25× margin").outcome
    'inconclusive (not converged)'
    """
    if gate is None:
        return finding
    labels = gate.trained_only(build).labels
    absent = [g for g in build.labels if g not in labels]
    if finding.outcome not in (REPRODUCED, NOT_REPRODUCED):
        return finding
    if reason := _spread_could_change(gate, labels, margin_text):
        finding.notes.append(f"On this build alone the test says: {finding.outcome}.")
        finding.outcome = finding.verdict = NOT_CONVERGED
        finding.decide, finding.decide_short = reason, ""
    elif finding.outcome == REPRODUCED and absent:
        finding.notes.append(f"On its trained runs alone the test says: {finding.outcome}.")
        finding.outcome = finding.verdict = did_not_train(gate)
        finding.decide = "training every combination until it learns (`make bench-convergence`)"
    return finding
