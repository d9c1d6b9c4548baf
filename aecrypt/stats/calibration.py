"""The claim tests held to their promise: each rule run on simulated builds whose truth is known (the truths of
`stats.scenarios`, simulated by `stats.simulate` with a build's own noise), counting how often it gives each
verdict. Where the truth contradicts a verdict, that verdict's rate is the rule's error rate and must stay at or
below α = 0.05 (up to Monte Carlo noise: `allowed`, `upper_bound`); where the truth is what a verdict says, its
rate is the rule's power.

A truth is simulated once per replicate and every rule that reads it decides on the same build, so the rules'
rates in one table come from the same builds. `benchmarks/verdicts.py` (`make bench-verdicts`) runs every
scenario at several designs and writes the book's calibration table; `make book` runs a labelled quick one."""

from __future__ import annotations

import zlib
from collections.abc import Callable

import numpy as np
import pandas as pd
from scipy import stats

from aecrypt.stats.components import Build
from aecrypt.stats.findings import ALPHA, INCONCLUSIVE, NOT_REPRODUCED, NOT_TESTABLE, REPRODUCED
from aecrypt.stats.rules import RULES
from aecrypt.stats.scenarios import CHECKPOINTS, Scenario, scenarios, truths
from aecrypt.stats.simulate import NoiseModel


def allowed(replicates: int, rate: float = ALPHA) -> int:
    """The most wrong verdicts `replicates` builds may give where the rule's true error rate is α: the 99th
    percentile of Binomial(replicates, α) (a rule that keeps its promise fails this 1 % of the time).

    Parameters
    ----------
    replicates : int
        Simulated builds in the row, at least 1.
    rate : float, optional
        The error rate the rule promises, in (0, 1); `ALPHA` by default.

    Returns
    -------
    int
        The largest count of wrong verdicts the row accepts.

    Examples
    --------
    >>> allowed(100), allowed(100, rate=0.10)
    (11, 18)
    """
    return int(stats.binom.ppf(0.99, replicates, rate))


def least(replicates: int, power: float) -> int:
    """The fewest right verdicts `replicates` builds may give where the rule's true power is `power`: the 1st
    percentile of Binomial(replicates, power).

    Parameters
    ----------
    replicates : int
        Simulated builds in the row, at least 1.
    power : float
        The power the design should reach, in [0, 1].

    Returns
    -------
    int
        The smallest count of right verdicts the row accepts.

    Examples
    --------
    >>> least(100, 0.8)
    70
    """
    return int(stats.binom.ppf(0.01, replicates, power))


def upper_bound(count: int, replicates: int) -> float:
    """The one-sided 99 % Clopper–Pearson upper bound on a rate seen `count` times in `replicates`.

    Parameters
    ----------
    count : int
        Times the verdict was given, in [0, replicates].
    replicates : int
        Simulated builds, at least 1.

    Returns
    -------
    float
        The bound, in (0, 1]; exactly 1.0 where every build gave the verdict.

    Examples
    --------
    >>> round(upper_bound(0, 100), 4), upper_bound(100, 100)
    (0.045, 1.0)
    """
    return float(stats.beta.ppf(0.99, count + 1, replicates - count)) if count < replicates else 1.0


def replicates_to_detect(rate: float = 2 * ALPHA, power: float = 0.9, alpha: float = ALPHA) -> int:
    """The fewest builds per row at which a rule whose true error rate is `rate` gives more than
    `allowed(n, alpha)` wrong verdicts with probability `power` or more: how many the tests run, so that a
    broken rule (twice α) fails its row.

    Parameters
    ----------
    rate : float, optional
        The broken rule's true error rate, above `alpha`; twice `ALPHA` by default.
    power : float, optional
        The probability with which the row should catch it, in (0, 1).
    alpha : float, optional
        The error rate the rule promises (what `allowed` accepts).

    Returns
    -------
    int
        Builds per row: 50, or the first of 60, 70, ... that reaches `power`.

    Examples
    --------
    >>> replicates_to_detect()
    360
    """
    n = 50
    while stats.binom.sf(allowed(n, alpha), n, rate) < power:
        n += 10
    return n


Decide = Callable[[Build, object, tuple[int, ...]], object]


def counts(
    model: NoiseModel,
    replicates: int,
    chosen: list[Scenario] | None = None,
    seed: int = 0,
    seeds: int | None = None,
    rules: dict[str, Decide] | None = None,
) -> dict[tuple[str, str], dict[str, int]]:
    """How often each scenario's rule gave each verdict over `replicates` simulated builds of its truth (one
    build per truth and replicate, every rule of that truth deciding on it, through the gate the build would
    apply: `NoiseModel.gate`). `rules` replaces rules by name with a function of (build, gate, checkpoints)
    returning a Finding (to hold other code, or a broken rule, to the same table).

    Parameters
    ----------
    model : NoiseModel
        The simulated builds' noise and design.
    replicates : int
        Builds simulated per truth, at least 1.
    chosen : list of Scenario, optional
        The scenarios to run (None: `scenarios(model)`); those whose rule is neither in `stats.rules` nor in `rules`
        are left out.
    seed : int, optional
        Seeds every truth's random stream, together with the truth's name, so that a truth's builds do not depend on
        which other scenarios run.
    seeds : int, optional
        Training seeds per combination (None: the model's).
    rules : dict of str to callable, optional
        Replacement rules by name: ``rule(build, gate, checkpoints)`` returning a `Finding`.

    Returns
    -------
    dict of (str, str) to dict of str to int
        Per (rule, truth), the count of each verdict given, its bracketed reason dropped ("inconclusive (not
        converged)" counts as "inconclusive"); a verdict never given is absent.

    Examples
    --------
    >>> from aecrypt.stats.simulate import NoiseModel
    >>> grid = {"MSLE+Adam+ReLU+2": (0.60, 0.03, -2.0, 0.05), "MSLE+Adam+ReLU+3": (0.62, 0.01, -2.1, 0.05)}
    >>> model = NoiseModel(grid, n_test=100)
    >>> falls = Scenario("epochs", "losses fall 0.1 log10 per step", (NOT_REPRODUCED,), REPRODUCED)
    >>> counts(model, 20, [falls])
    {('epochs', 'losses fall 0.1 log10 per step'): {'reproduced': 17, 'inconclusive': 3}}

    A rule that always says "reproduced", held to the same table:

    >>> from aecrypt.stats.findings import Finding
    >>> from aecrypt.stats.scenarios import EQUAL
    >>> always = {"very close": lambda build, gate, checkpoints: Finding("c", "p", "t", "m", REPRODUCED)}
    >>> counts(model, 5, [Scenario("very close", EQUAL, (NOT_REPRODUCED,), REPRODUCED)], rules=always)
    {('very close', 'all combinations equal'): {'reproduced': 5}}
    """
    decide: dict[str, Decide] = {r.name: r.test for r in RULES} | (rules or {})
    chosen = [s for s in (scenarios(model) if chosen is None else chosen) if s.rule in decide]
    every = truths(model)
    out: dict[tuple[str, str], dict[str, int]] = {(s.rule, s.truth): {} for s in chosen}
    for truth in dict.fromkeys(s.truth for s in chosen):
        rng = np.random.default_rng([seed, zlib.crc32(truth.encode())])  # each truth its own stream
        for _ in range(replicates):
            build = every[truth].build(model, rng, seeds)
            gate = model.gate(build)
            for s in chosen:
                if s.truth == truth:
                    verdict = decide[s.rule](build, gate, CHECKPOINTS).outcome.split(" (")[0]
                    out[(s.rule, s.truth)][verdict] = out[(s.rule, s.truth)].get(verdict, 0) + 1
    return out


def rows(model: NoiseModel, replicates: int, seeds: int | None = None, chosen=None, seed: int = 0) -> list:
    """The calibration table's rows at one design: per scenario, each verdict's rate, the more frequent wrong
    verdict's rate with its 99 % upper bound, and the power.

    Parameters
    ----------
    model : NoiseModel
        The simulated builds' noise and design.
    replicates : int
        Builds simulated per truth, at least 1.
    seeds : int, optional
        Training seeds per combination (None: the model's).
    chosen : list of Scenario, optional
        The scenarios to run (None: `scenarios(model)`).
    seed : int, optional
        Seeds the truths' random streams (`counts`).

    Returns
    -------
    list of dict
        One per scenario run: rule, truth, the design (seeds, test images, builds), the rate of each of the four
        verdicts, the wrong verdicts with the worse one's rate and 99 % bound (NaN where no verdict is wrong), and
        the right verdict with its rate, the power (NaN where no verdict is right).

    Examples
    --------
    >>> from aecrypt.stats.simulate import NoiseModel
    >>> grid = {"MSLE+Adam+ReLU+2": (0.60, 0.03, -2.0, 0.05), "MSLE+Adam+ReLU+3": (0.62, 0.01, -2.1, 0.05)}
    >>> model = NoiseModel(grid, n_test=100)
    >>> falls = Scenario("epochs", "losses fall 0.1 log10 per step", (NOT_REPRODUCED,), REPRODUCED)
    >>> row = rows(model, 20, chosen=[falls])[0]
    >>> row["builds"], row["power"], row["error rate"], round(row["error 99 % bound"], 3)
    (20, 0.85, 0.0, 0.206)
    """
    chosen = scenarios(model) if chosen is None else chosen
    found = counts(model, replicates, chosen, seed, seeds)
    out = []
    for s in chosen:
        if (s.rule, s.truth) not in found:
            continue
        c = found[(s.rule, s.truth)]
        # each wrong verdict is a one-sided claim held to α on its own; the row shows the more frequent one
        worst = max(s.errors, key=lambda v: c.get(v, 0)) if s.errors else ""
        wrong = c.get(worst, 0)
        out.append(
            {
                "rule": s.rule,
                "truth": s.truth,
                "seeds": seeds or model.seeds,
                "test images": model.n_test,
                "builds": replicates,
                **{v: c.get(v, 0) / replicates for v in (REPRODUCED, NOT_REPRODUCED, INCONCLUSIVE, NOT_TESTABLE)},
                "wrong verdict": worst,
                "wrong verdicts": " or ".join(s.errors),
                "error rate": wrong / replicates if s.errors else np.nan,
                "error 99 % bound": upper_bound(wrong, replicates) if s.errors else np.nan,
                "right verdict": s.power or "",
                "power": c.get(s.power, 0) / replicates if s.power else np.nan,
            }
        )
    return out


def table(model: NoiseModel, replicates: int, designs=((None, None),)) -> pd.DataFrame:
    """Every scenario at every design (seeds, test images; None: the model's): the calibration table.

    Parameters
    ----------
    model : NoiseModel
        The simulated builds' noise and design.
    replicates : int
        Builds simulated per truth and design, at least 1.
    designs : iterable of (int or None, int or None), optional
        (seeds, test images) per design; None keeps the model's.

    Returns
    -------
    pandas.DataFrame
        The `rows` of every design, design after design, one row per scenario.

    Examples
    --------
    >>> from aecrypt.stats.simulate import NoiseModel
    >>> grid = {"MSLE+Adam+ReLU+2": (0.60, 0.03, -2.0, 0.05), "MSLE+Adam+ReLU+3": (0.62, 0.01, -2.1, 0.05)}
    >>> model = NoiseModel(grid, n_test=100)
    >>> frame = table(model, 1, designs=((None, None), (2, None)))
    >>> frame.shape, sorted(set(frame["seeds"]))
    ((34, 15), [2, 3])
    """
    frames = []
    for seeds, n_test in designs:
        design = model if n_test is None else model.with_design(n_test=n_test)
        frames.extend(rows(design, replicates, seeds))
    return pd.DataFrame(frames)
