"""The simulated truths the claim tests are calibrated on, and the scenarios that hold each rule to them. A truth
is what simulated builds are (`stats.simulate`, with a build's own noise): every combination equal, one moved,
effects exactly at a margin, a tie at the top, a named combination beaten or ahead, loss curves (`Truth`,
`truths`). A scenario is a rule on builds of one truth: the verdicts that would be wrong there, each held to
α = 0.05, and the one that would be right, the rule's power (`Scenario`, `scenarios`). `stats.calibration`
counts the verdicts."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial

import numpy as np

from aecrypt.stats.components import Build, Run
from aecrypt.stats.findings import AUC_MARGIN, EPOCH_LOG_MARGIN, LOG_MARGIN, NOT_REPRODUCED, REPRODUCED
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
        if found is None:  # a rule held to the table from outside (`calibration.counts(rules=...)`)
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
