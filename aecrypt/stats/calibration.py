"""The claim tests held to their promise: each rule run on simulated builds whose truth is known
(`stats.simulate`, with a build's own noise), counting how often it gives each verdict. Where the truth
contradicts a verdict, that verdict's rate is the rule's error rate and must stay at or below α = 0.05 (up to
Monte Carlo noise: `allowed`, `upper_bound`); where the truth is what a verdict says, its rate is the rule's
power.

A truth is simulated once per replicate and every rule that reads it decides on the same build, so the rules'
rates in one table come from the same builds. `benchmarks/verdicts.py` (`make bench-verdicts`) runs every
scenario at several designs and writes the book's calibration table; `make book` runs a labelled quick one."""

from __future__ import annotations

import math
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial

import numpy as np
import pandas as pd
from scipy import stats

from aecrypt.stats.components import Build, Run
from aecrypt.stats.findings import (
    ALPHA,
    AUC_MARGIN,
    EPOCH_LOG_MARGIN,
    INCONCLUSIVE,
    LOG_MARGIN,
    NOT_REPRODUCED,
    NOT_TESTABLE,
    REPRODUCED,
)
from aecrypt.stats.rules import BY_NAME, RULES
from aecrypt.stats.simulate import NoiseModel, simulate, with_epochs

#: The loss checkpoints of simulated builds (the epochs rule compares them).
CHECKPOINTS = (2, 5, 10)
#: How far ahead a named best is put: AUC, and log10 MSE (2× lower).
AHEAD_AUC, AHEAD_LOG_MSE = 0.05, -math.log10(2)
#: How far ahead of the rest a tie at the top is put: so far (AUC, and log10 MSE: 10× lower) that every other
#: comparison is decided, and a verdict rests on the tied pair alone — where a tie binds.
TIE_AUC, TIE_LOG_MSE = 0.30, -1.0
#: How far a rival beats the named combination where it does: AUC, and log10 MSE (2× lower).
BEATEN_AUC, BEATEN_LOG_MSE = 0.10, -math.log10(2)
#: The grid's deepest encoder (the paper's depth sweep: 2, 3 and 5 layers).
DEEPEST = 5
#: The epochs rule's truths: a clear fall of log10 loss per checkpoint step.
FALLS = -0.1


def _depth(label: str) -> int:
    return int(label.rsplit("+", 1)[1])


def named_labels(model: NoiseModel) -> list[str]:
    """The combinations the paper names best (`stats.rules`) that the model holds, each once.

    Parameters
    ----------
    model : NoiseModel
        The simulated builds' noise; its `combinations` are the grid.

    Returns
    -------
    list of str
        The labels of the named-best rules that are in the model's grid, in rule order, without repeats (two rules
        name the same combination).

    Examples
    --------
    >>> from aecrypt.stats.simulate import NoiseModel
    >>> grid = {"MSLE+Adam+ReLU+2": (0.60, 0.03, -2.0, 0.05), "MSLE+Adam+ReLU+3": (0.62, 0.01, -2.1, 0.05)}
    >>> model = NoiseModel(grid, n_test=100)
    >>> named_labels(model)
    ['MSLE+Adam+ReLU+3']
    """
    return list(dict.fromkeys(r.label for r in RULES if r.kind == "best" and r.label in model.combinations))


def rival(model: NoiseModel, label: str) -> str:
    """The rival a named combination is tied with or beaten by: the first other combination in grid order.

    Parameters
    ----------
    model : NoiseModel
        The simulated builds' noise; it must hold a combination other than `label`.
    label : str
        The named combination.

    Returns
    -------
    str
        The label of the first combination of the grid that is not `label`.

    Examples
    --------
    >>> from aecrypt.stats.simulate import NoiseModel
    >>> grid = {"MSLE+Adam+ReLU+2": (0.60, 0.03, -2.0, 0.05), "MSLE+Adam+ReLU+3": (0.62, 0.01, -2.1, 0.05)}
    >>> model = NoiseModel(grid, n_test=100)
    >>> rival(model, "MSLE+Adam+ReLU+3")
    'MSLE+Adam+ReLU+2'
    """
    return next(g for g in model.combinations if g != label)


def noisy(model: NoiseModel) -> str:
    """The combination with the widest seed spread of AUC.

    Parameters
    ----------
    model : NoiseModel
        The simulated builds' noise, with at least one combination.

    Returns
    -------
    str
        The label whose AUC seed SD (the second of its four parameters) is largest; the first in grid order on a tie.

    Examples
    --------
    >>> from aecrypt.stats.simulate import NoiseModel
    >>> grid = {"MSLE+Adam+ReLU+2": (0.60, 0.03, -2.0, 0.05), "MSLE+Adam+ReLU+3": (0.62, 0.01, -2.1, 0.05)}
    >>> model = NoiseModel(grid, n_test=100)
    >>> noisy(model)
    'MSLE+Adam+ReLU+2'
    """
    return max(model.combinations, key=lambda label: model.combinations[label][1])


@dataclass(frozen=True)
class Truth:
    """What the simulated builds are: the noise model's true means changed by `make`, and where the epochs rule
    reads them, the true log10 change of the training and validation loss per checkpoint step. `images`: False
    for truths only the epochs rule reads (runs without per-image values: a tenth of the cost)."""

    name: str
    make: Callable[[NoiseModel], NoiseModel]
    falls: float = FALLS
    val_falls: float | None = None  # None: as the training loss
    images: bool = True

    def build(self, model: NoiseModel, rng: np.random.Generator, seeds: int | None):
        truth = self.make(model)
        if self.images:
            built = simulate(truth, rng, seeds, frames=False)
        else:
            built = Build([Run(label, s, {}) for label in truth.combinations for s in range(seeds or truth.seeds)])
        val = self.falls if self.val_falls is None else self.val_falls
        falls = dict.fromkeys(truth.combinations, self.falls)
        return with_epochs(built, rng, falls, CHECKPOINTS, val, truth.epoch_spread)


def _shift(model: NoiseModel, auc: dict | None = None, log_mse: dict | None = None) -> NoiseModel:
    """Every combination equally good but for the shifts (AUC up, log10 MSE up), each with its own spread."""
    base = model.equal()
    a = {k: v[0] + (auc or {}).get(k, 0.0) for k, v in base.combinations.items()}
    m = {k: v[2] + (log_mse or {}).get(k, 0.0) for k, v in base.combinations.items()}
    return base.with_truth(a, m)


def _ahead(model: NoiseModel, labels: list[str], auc: float, log_mse: float) -> NoiseModel:
    """`labels` better than every other combination by `auc` and by `log_mse` (negative: lower MSE)."""
    return _shift(model, dict.fromkeys(labels, auc), dict.fromkeys(labels, log_mse))


def _deeper(model: NoiseModel, auc: float, log_mse: float = 0.0) -> NoiseModel:
    """Every combination with more than two encoder layers better by `auc` (and lower by `log_mse`) than its
    two-layer twin, three and five layers alike: the largest improvement from more layers is `auc`."""
    deeper = [k for k in model.combinations if _depth(k) > 2]
    return _shift(model, dict.fromkeys(deeper, auc), dict.fromkeys(deeper, -log_mse))


def _deepest(model: NoiseModel, auc: float) -> NoiseModel:
    """The deepest encoders (`DEEPEST` layers) better by `auc` than every shallower one; the rest equal."""
    return _shift(model, {k: auc for k in model.combinations if _depth(k) == DEEPEST})


def _at_margin(model: NoiseModel, label: str) -> NoiseModel:
    """One combination's AUC exactly one margin above the mean over combinations."""
    k = len(model.combinations)
    return _shift(model, {label: AUC_MARGIN * k / (k - 1)})


def _all_at_margin(model: NoiseModel) -> NoiseModel:
    """Every "very close" difference at its margin: half the combinations' AUC one margin above the mean over
    combinations, half one below (an odd one out at the mean), and the two halves' MSE exactly 1.25× apart."""
    labels = list(model.combinations)
    half = len(labels) // 2
    up, down = labels[:half], labels[half : 2 * half]
    auc = dict.fromkeys(up, AUC_MARGIN) | dict.fromkeys(down, -AUC_MARGIN)
    return _shift(model, auc, dict.fromkeys(up, LOG_MARGIN))


EQUAL = "all combinations equal"


def truths(model: NoiseModel) -> dict[str, Truth]:
    """Every truth the scenarios simulate, by name; names say which combination is moved, and by how much.

    Parameters
    ----------
    model : NoiseModel
        The simulated builds' noise; its grid decides which combination is the noisiest and which are named.

    Returns
    -------
    dict of str to Truth
        The twelve truths every grid gets (equal, one off, at the margins, depth effects, loss curves), then three per
        named combination (`named_labels`): tied with its rival far ahead, beaten by it, better than all.

    Examples
    --------
    >>> from aecrypt.stats.simulate import NoiseModel
    >>> grid = {"MSLE+Adam+ReLU+2": (0.60, 0.03, -2.0, 0.05), "MSLE+Adam+ReLU+3": (0.62, 0.01, -2.1, 0.05)}
    >>> model = NoiseModel(grid, n_test=100)
    >>> found = truths(model)
    >>> len(found), list(found)[-1]
    (15, 'MSLE+Adam+ReLU+3 better than all')
    """
    out = [
        Truth(EQUAL, lambda m: m.equal()),
        Truth("one AUC 0.10 off", lambda m: _shift(m, {next(iter(m.combinations)): 0.10})),
        Truth(f"{noisy(model)} (the noisiest) AUC at the margin", lambda m: _at_margin(m, noisy(m))),
        Truth("every difference at its margin", _all_at_margin),
        Truth("deeper better by 0.02 AUC (inside)", lambda m: _deeper(m, 0.02)),
        Truth("deeper better by the margin", lambda m: _deeper(m, AUC_MARGIN, LOG_MARGIN)),
        Truth(f"depth {DEEPEST} better by the AUC margin", lambda m: _deepest(m, AUC_MARGIN)),
        Truth("deeper better by 0.10 AUC", lambda m: _deeper(m, 0.10)),
        Truth("losses flat (a plateau)", lambda m: m, falls=0.0, images=False),
        Truth("losses fall by the margin", lambda m: m, falls=-EPOCH_LOG_MARGIN, images=False),
        Truth("losses fall 0.1 log10 per step", lambda m: m, images=False),
        Truth("training loss falls, validation flat", lambda m: m, val_falls=0.0, images=False),
    ]
    for label in named_labels(model):
        other = rival(model, label)
        out += [
            Truth(
                f"{label} tied with {other}, far ahead",
                partial(_ahead, labels=[label, other], auc=TIE_AUC, log_mse=TIE_LOG_MSE),
            ),
            Truth(
                f"{other} better than {label}", partial(_ahead, labels=[other], auc=BEATEN_AUC, log_mse=BEATEN_LOG_MSE)
            ),
            Truth(f"{label} better than all", partial(_ahead, labels=[label], auc=AHEAD_AUC, log_mse=AHEAD_LOG_MSE)),
        ]
    return {t.name: t for t in out}


@dataclass(frozen=True)
class Scenario:
    """A rule on builds of one truth: `errors`, the verdicts that would be wrong there (at a margin or in a tie,
    both decided verdicts are: each is held to α on its own); `power`, the one that would be right and that the
    design should reach."""

    rule: str
    truth: str
    errors: tuple[str, ...] = ()
    power: str | None = None

    def applies(self, model: NoiseModel) -> bool:
        """Depth needs two depths of one loss, optimizer and activation; a named best its combination; the
        rest two combinations."""
        if len(model.combinations) < 2:
            return False
        found = BY_NAME.get(self.rule)
        if found is None:  # a rule held to the table from outside (`counts(rules=...)`)
            return True
        if found.kind == "best":
            return found.label in model.combinations
        if self.rule == "depth":
            rests = [k.rsplit("+", 1)[0] for k in model.combinations]
            return len(set(rests)) < len(rests)
        return True


BOTH = (REPRODUCED, NOT_REPRODUCED)


def scenarios(model: NoiseModel) -> list[Scenario]:
    """Every scenario of every rule on this model's combinations.

    Parameters
    ----------
    model : NoiseModel
        The simulated builds' noise.

    Returns
    -------
    list of Scenario
        Those that apply to the grid (`Scenario.applies`): four per named best the grid holds, then "very close",
        "depth" (where two depths of one loss, optimizer and activation are run) and "epochs", in rule order.

    Examples
    --------
    >>> from aecrypt.stats.simulate import NoiseModel
    >>> grid = {"MSLE+Adam+ReLU+2": (0.60, 0.03, -2.0, 0.05), "MSLE+Adam+ReLU+3": (0.62, 0.01, -2.1, 0.05)}
    >>> model = NoiseModel(grid, n_test=100)
    >>> found = scenarios(model)
    >>> len(found), sorted({s.rule for s in found})
    (17, ['depth', 'epochs', 'lowest MSE and MAE', 'very close'])
    >>> found[0].errors
    ('reproduced', 'not reproduced')
    """
    out = []
    for rule in RULES:
        if rule.kind == "best" and rule.label in model.combinations:
            other = rival(model, rule.label)
            out += [
                Scenario(rule.name, EQUAL, BOTH),
                Scenario(rule.name, f"{rule.label} tied with {other}, far ahead", BOTH),
                Scenario(rule.name, f"{other} better than {rule.label}", (REPRODUCED,), NOT_REPRODUCED),
                Scenario(rule.name, f"{rule.label} better than all", (NOT_REPRODUCED,), REPRODUCED),
            ]
    out += [
        Scenario("very close", EQUAL, (NOT_REPRODUCED,), REPRODUCED),
        Scenario("very close", "every difference at its margin", BOTH),
        Scenario("very close", f"{noisy(model)} (the noisiest) AUC at the margin", BOTH),
        Scenario("very close", "one AUC 0.10 off", (REPRODUCED,), NOT_REPRODUCED),
        Scenario("depth", EQUAL, (NOT_REPRODUCED,), REPRODUCED),
        Scenario("depth", "deeper better by 0.02 AUC (inside)", (NOT_REPRODUCED,)),
        Scenario("depth", "deeper better by the margin", BOTH),
        Scenario("depth", f"depth {DEEPEST} better by the AUC margin", BOTH),
        Scenario("depth", "deeper better by 0.10 AUC", (REPRODUCED,), NOT_REPRODUCED),
        Scenario("epochs", "losses flat (a plateau)", (REPRODUCED,), NOT_REPRODUCED),
        Scenario("epochs", "losses fall by the margin", BOTH),
        Scenario("epochs", "losses fall 0.1 log10 per step", (NOT_REPRODUCED,), REPRODUCED),
        Scenario("epochs", "training loss falls, validation flat", (REPRODUCED,), NOT_REPRODUCED),
    ]
    return [s for s in out if s.applies(model)]


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
