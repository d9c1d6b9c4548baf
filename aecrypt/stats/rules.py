"""The paper's claims about trained models, each as the one rule the book applies to it: the book's scorecard
(`book.pages.claims`) and the calibration (`stats.calibration`) call these, so what is calibrated is what
decides.

Each rule reads a `components.Build`, a `training.Gate` (None: no run left out, no convergence gate, as at the
paper's budget) and the build's loss checkpoints, and returns a `Finding`.

>>> [rule.name for rule in RULES]  # doctest: +NORMALIZE_WHITESPACE
['best autoencoder combination', 'lowest MSE and MAE', 'best classification result', 'best ROC curve',
 'very close', 'depth', 'epochs']
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from aecrypt import UsageError
from aecrypt.paper.choices import combination_label
from aecrypt.paper.reported import PAPER_BEST_AE, PAPER_BEST_CLF, PAPER_BEST_ROC
from aecrypt.stats import claims, trends, withholding
from aecrypt.stats.components import Build
from aecrypt.stats.findings import Finding
from aecrypt.stats.training import Gate


@dataclass(frozen=True)
class Rule:
    """One claim's rule. `kind`: "best" (a named combination), "very close", "depth" or "epochs"; `label`: the
    combination the paper names (None for the others); `metric`: what a named best is tested on ("both": MSE
    and MAE); `test(build, gate, checkpoints)`: the Finding."""

    name: str
    kind: str
    test: Callable[[Build, Gate | None, tuple[int, ...]], Finding]
    label: str | None = None
    metric: str | None = None

    def named_test(self) -> Callable[[Build, Gate | None], Finding]:
        """A named best's test as a function of a build and a gate (what `stats.longruns.decide` reruns)."""
        return lambda build, gate: self.test(build, gate, ())


def _named(source: str, combination, metric: str, claim: str) -> Rule:
    label = combination_label(*combination)
    paper = f"{label} ({source})"
    if metric == "both":

        def test(build, gate, checkpoints):
            return claims.named_best_of_both(build, label, claim, paper, gate)

    else:

        def test(build, gate, checkpoints):
            return claims.named_best(build, label, metric, metric.startswith("log_"), claim, paper, gate)

    return Rule(claim, "best", test, label, metric)


def _depth(build: Build, gate: Gate | None, checkpoints) -> Finding:
    if gate is None:
        return trends.depth_effect(build)[0]
    finding = withholding.on_trained(lambda b: trends.depth_effect(b)[0], build, gate)
    return withholding.withhold(finding, gate, build, "the depth test's margins")


def _very_close(build: Build, gate: Gate | None, checkpoints) -> Finding:
    return claims.very_close(build, gate)


def _epochs(build: Build, gate: Gate | None, checkpoints) -> Finding:
    return trends.epoch_effect(build, checkpoints)[0]


(_AE_SOURCE, *_AE), (_FIG6_SOURCE, *_FIG6) = PAPER_BEST_AE
_CLF_SOURCE, *_CLF = PAPER_BEST_CLF
_ROC_SOURCE, *_ROC = PAPER_BEST_ROC

RULES: tuple[Rule, ...] = (
    _named(_AE_SOURCE, _AE, "log_mse", "best autoencoder combination"),
    _named(_FIG6_SOURCE, _FIG6, "both", "lowest MSE and MAE"),
    _named(_CLF_SOURCE, _CLF, "accuracy", "best classification result"),
    _named(_ROC_SOURCE, _ROC, "auc", "best ROC curve"),
    Rule("very close", "very close", _very_close),
    Rule("depth", "depth", _depth),
    Rule("epochs", "epochs", _epochs),
)
BY_NAME = {rule.name: rule for rule in RULES}


def rule(name: str) -> Rule:
    """The rule called `name`; a one-line error listing the valid names otherwise.

    Parameters
    ----------
    name : str
        A claim's name, as in `RULES` (e.g. "best ROC curve", "depth").

    Returns
    -------
    Rule
        The claim's rule: its kind, the combination the paper names (None where it names none), the metric a
        named best is tested on, and its test.

    Raises
    ------
    UsageError
        For a name no rule has.

    Examples
    --------
    >>> r = rule("best ROC curve")
    >>> r.kind, r.label, r.metric
    ('best', 'MSLE+Adagrad+ReLU+2', 'auc')
    >>> rule("depth").kind
    'depth'
    """
    if name not in BY_NAME:
        raise UsageError(f"unknown claim rule {name!r}; valid: {', '.join(BY_NAME)}")
    return BY_NAME[name]
