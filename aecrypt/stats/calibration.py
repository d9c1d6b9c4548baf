"""The claim tests held to their promise: each rule run on simulated builds whose truth is known
(`stats.simulate`, with a build's own noise), counting how often it gives each verdict. Where the truth
contradicts a verdict, that verdict's rate is the rule's error rate and must stay at or below α = 0.05 (up to
Monte Carlo noise: `allowed`, `upper_bound`); where the truth is what a verdict says, its rate is the rule's
power.

A truth is simulated once per replicate and every rule that reads it decides on the same build, so the rules'
rates in one table come from the same builds. `benchmarks/verdicts.py` (`make bench-verdicts`) runs every
scenario at several designs and writes the book's calibration table; `make book` runs a labelled quick one."""

from __future__ import annotations

import zlib
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from aecrypt.stats import claims, trends
from aecrypt.stats.findings import (
    ALPHA,
    AUC_MARGIN,
    INCONCLUSIVE,
    LOG_MARGIN,
    NOT_REPRODUCED,
    NOT_TESTABLE,
    REPRODUCED,
)
from aecrypt.stats.simulate import NoiseModel, simulate, with_epochs

#: The combinations the paper names best, by the metric each claim names them on (`paper.reported`); a model
#: without them (another grid) stands in its first and second combinations.
NAMED_AUC, NAMED_MSE = "MSE+RMSprop+ReLU+3", "MSLE+Adam+ReLU+3"
#: Stand-ins for "another combination" and "a noisy combination" (seed SD 0.07 AUC in the default build).
OTHER, NOISY = "MSE+Adam+ReLU+3", "MSLE+Adagrad+ReLU+2"
CHECKPOINTS = (2, 5, 10)


def _pick(model: NoiseModel, preferred: str, fallback: int) -> str:
    labels = list(model.combinations)
    return preferred if preferred in model.combinations else labels[min(fallback, len(labels) - 1)]


def named_auc(model: NoiseModel) -> str:
    return _pick(model, NAMED_AUC, 0)


def named_mse(model: NoiseModel) -> str:
    return _pick(model, NAMED_MSE, 0)


def other(model: NoiseModel) -> str:
    """A combination other than the named one."""
    return next(label for label in (_pick(model, OTHER, 1), *model.combinations) if label != named_auc(model))


def noisy(model: NoiseModel) -> str:
    """The combination with the widest seed spread of AUC."""
    return max(model.combinations, key=lambda label: model.combinations[label][1])


@dataclass(frozen=True)
class Truth:
    """What the simulated builds are: the noise model's true means changed by `make`, and where the epochs rule
    reads them, the true log10 change of the training and validation loss per checkpoint step."""

    name: str
    make: Callable[[NoiseModel], NoiseModel]
    falls: float = 0.0
    val_falls: float | None = None  # None: as the training loss

    def build(self, model: NoiseModel, rng: np.random.Generator, seeds: int | None):
        truth = self.make(model)
        built = simulate(truth, rng, seeds, frames=False)
        val = self.falls if self.val_falls is None else self.val_falls
        return with_epochs(built, rng, dict.fromkeys(truth.combinations, self.falls), CHECKPOINTS, val)


def _shift(model: NoiseModel, auc: dict | None = None, log_mse: dict | None = None) -> NoiseModel:
    """Every combination equally good but for the shifts (AUC up, log10 MSE up), each with its own spread."""
    base = model.equal()
    a = {k: v[0] + (auc or {}).get(k, 0.0) for k, v in base.combinations.items()}
    m = {k: v[2] + (log_mse or {}).get(k, 0.0) for k, v in base.combinations.items()}
    return base.with_truth(a, m)


def _deeper(model: NoiseModel, auc: float, log_mse: float = 0.0) -> NoiseModel:
    """Every combination with more than two encoder layers better by `auc` (and lower by `log_mse`) than its
    two-layer twin, three and five layers alike: the largest improvement from more layers is `auc`."""
    deeper = [k for k in model.combinations if int(k.rsplit("+", 1)[1]) > 2]
    return _shift(model, dict.fromkeys(deeper, auc), dict.fromkeys(deeper, -log_mse))


def _at_margin(model: NoiseModel, label: str) -> NoiseModel:
    """One combination's AUC exactly one margin above the mean over combinations."""
    k = len(model.combinations)
    return _shift(model, {label: AUC_MARGIN * k / (k - 1)})


EQUAL = Truth("all combinations equal", lambda m: m.equal())
TRUTHS = {
    truth.name: truth
    for truth in (
        EQUAL,
        Truth("another better by 0.10 AUC", lambda m: _shift(m, {other(m): 0.10})),
        Truth("named better than all by 0.05 AUC", lambda m: _shift(m, {named_auc(m): 0.05})),
        Truth("another's MSE 2× lower", lambda m: _shift(m, log_mse={other(m): -np.log10(2)})),
        Truth("one AUC at the margin", lambda m: _at_margin(m, named_auc(m))),
        Truth("the noisiest AUC at the margin", lambda m: _at_margin(m, noisy(m))),
        Truth("one MSE 1.25× the rest", lambda m: _shift(m, log_mse={named_auc(m): LOG_MARGIN})),
        Truth("one AUC 0.10 off", lambda m: _shift(m, {named_auc(m): 0.10})),
        Truth("deeper better by 0.02 AUC (inside)", lambda m: _deeper(m, 0.02)),
        Truth("deeper better by the margin", lambda m: _deeper(m, AUC_MARGIN, LOG_MARGIN)),
        Truth("deeper better by 0.10 AUC", lambda m: _deeper(m, 0.10)),
        Truth("loss falls 0.1 log10 per step", lambda m: m, falls=-0.1),
        Truth("training loss falls, validation flat", lambda m: m, falls=-0.1, val_falls=0.0),
    )
}


def _best_auc(build, model):
    return claims.named_best(build, named_auc(model), "auc", False, "best", "paper").outcome


def _best_mse(build, model):
    return claims.named_best(build, named_mse(model), "log_mse", True, "best", "paper").outcome


def _very_close(build, model):
    return claims.very_close(build).outcome


def _depth(build, model):
    return trends.depth_effect(build)[0].outcome


def _epochs(build, model):
    return trends.epoch_effect(build, CHECKPOINTS)[0].outcome


RULES: dict[str, Callable] = {
    "best by AUC": _best_auc,
    "best by MSE": _best_mse,
    "very close": _very_close,
    "depth": _depth,
    "epochs": _epochs,
}


@dataclass(frozen=True)
class Scenario:
    """A rule on builds of one truth: `error` is the verdict that would be wrong there (None: none is), `power`
    the one that would be right and that the design should reach."""

    rule: str
    truth: str
    error: str | None
    power: str | None = None

    def applies(self, model: NoiseModel) -> bool:
        """Depth needs two depths of one loss, optimizer and activation; the rest two combinations."""
        if len(model.combinations) < 2:
            return False
        if self.rule == "depth":
            rests = [k.rsplit("+", 1)[0] for k in model.combinations]
            return len(set(rests)) < len(rests)
        return True


SCENARIOS = (
    Scenario("best by AUC", EQUAL.name, NOT_REPRODUCED),
    Scenario("best by MSE", EQUAL.name, NOT_REPRODUCED),
    Scenario("best by AUC", "another better by 0.10 AUC", REPRODUCED, NOT_REPRODUCED),
    Scenario("best by AUC", "named better than all by 0.05 AUC", NOT_REPRODUCED, REPRODUCED),
    Scenario("best by MSE", "another's MSE 2× lower", REPRODUCED, NOT_REPRODUCED),
    Scenario("very close", EQUAL.name, NOT_REPRODUCED, REPRODUCED),
    Scenario("very close", "one AUC at the margin", REPRODUCED),
    Scenario("very close", "the noisiest AUC at the margin", REPRODUCED),
    Scenario("very close", "one MSE 1.25× the rest", REPRODUCED),
    Scenario("very close", "one AUC 0.10 off", REPRODUCED, NOT_REPRODUCED),
    Scenario("depth", EQUAL.name, NOT_REPRODUCED, REPRODUCED),
    Scenario("depth", "deeper better by 0.02 AUC (inside)", NOT_REPRODUCED),
    Scenario("depth", "deeper better by the margin", REPRODUCED),
    Scenario("depth", "deeper better by 0.10 AUC", REPRODUCED, NOT_REPRODUCED),
    Scenario("epochs", EQUAL.name, NOT_REPRODUCED),
    Scenario("epochs", "loss falls 0.1 log10 per step", NOT_REPRODUCED, REPRODUCED),
    Scenario("epochs", "training loss falls, validation flat", REPRODUCED),
)


def allowed(replicates: int, rate: float = ALPHA) -> int:
    """The most wrong verdicts `replicates` builds may give where the rule's true error rate is α: the 99th
    percentile of Binomial(replicates, α) (a rule that keeps its promise fails this 1 % of the time)."""
    return int(stats.binom.ppf(0.99, replicates, rate))


def least(replicates: int, power: float) -> int:
    """The fewest right verdicts `replicates` builds may give where the rule's true power is `power`: the 1st
    percentile of Binomial(replicates, power)."""
    return int(stats.binom.ppf(0.01, replicates, power))


def upper_bound(count: int, replicates: int) -> float:
    """The one-sided 99 % Clopper–Pearson upper bound on a rate seen `count` times in `replicates`."""
    return float(stats.beta.ppf(0.99, count + 1, replicates - count)) if count < replicates else 1.0


def counts(
    model: NoiseModel,
    replicates: int,
    scenarios=SCENARIOS,
    seed: int = 0,
    seeds: int | None = None,
    rules: dict[str, Callable] | None = None,
) -> dict[tuple[str, str], dict[str, int]]:
    """How often each scenario's rule gave each verdict over `replicates` simulated builds of its truth (one
    build per truth and replicate, every rule of that truth deciding on it). `rules` replaces rules by name
    (to hold other code to the same table)."""
    rules = RULES | (rules or {})
    chosen = [s for s in scenarios if s.applies(model)]
    out: dict[tuple[str, str], dict[str, int]] = {(s.rule, s.truth): {} for s in chosen}
    for truth in dict.fromkeys(s.truth for s in chosen):
        rng = np.random.default_rng([seed, zlib.crc32(truth.encode())])  # each truth its own stream
        for _ in range(replicates):
            build = TRUTHS[truth].build(model, rng, seeds)
            for s in chosen:
                if s.truth == truth:
                    verdict = rules[s.rule](build, model).split(" (")[0]
                    out[(s.rule, s.truth)][verdict] = out[(s.rule, s.truth)].get(verdict, 0) + 1
    return out


def rows(model: NoiseModel, replicates: int, seeds: int | None = None, scenarios=SCENARIOS, seed: int = 0) -> list:
    """The calibration table's rows at one design: per scenario, each verdict's rate, the error rate with its
    99 % upper bound, and the power."""
    found = counts(model, replicates, scenarios, seed, seeds)
    out = []
    for s in scenarios:
        if (s.rule, s.truth) not in found:
            continue
        c = found[(s.rule, s.truth)]
        error = c.get(s.error, 0) if s.error else None
        out.append(
            {
                "rule": s.rule,
                "truth": s.truth,
                "seeds": seeds or model.seeds,
                "test images": model.n_test,
                "builds": replicates,
                **{v: c.get(v, 0) / replicates for v in (REPRODUCED, NOT_REPRODUCED, INCONCLUSIVE, NOT_TESTABLE)},
                "wrong verdict": s.error or "",
                "error rate": np.nan if error is None else error / replicates,
                "error 99 % bound": np.nan if error is None else upper_bound(error, replicates),
                "right verdict": s.power or "",
                "power": c.get(s.power, 0) / replicates if s.power else np.nan,
            }
        )
    return out


def table(model: NoiseModel, replicates: int, designs=((None, None),), scenarios=SCENARIOS) -> pd.DataFrame:
    """Every scenario at every design (seeds, test images; None: the model's): the calibration table."""
    frames = []
    for seeds, n_test in designs:
        design = model if n_test is None else model.with_design(n_test=n_test)
        frames.extend(rows(design, replicates, seeds, scenarios))
    return pd.DataFrame(frames)
