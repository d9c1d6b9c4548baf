"""Every claim rule held to its promise on simulated builds (aecrypt.stats.calibration): the default build's
noise — each combination its own seed spread, one test split shared by every run — at a 400-image test split
and three seeds. The rules are the project's own (the code the book's verdicts come from).

Monte Carlo tolerance: with REPLICATES builds per scenario, a rule whose true error rate is exactly α = 0.05
gives more than `calibration.allowed(REPLICATES)` wrong verdicts 1 % of the time; a rule whose power is
exactly the promised value gives fewer than `calibration.least(REPLICATES, power)` 1 % of the time. The same
builds serve every rule that reads their truth."""

from __future__ import annotations

import pytest

from aecrypt.stats import calibration
from aecrypt.stats.calibration import SCENARIOS
from aecrypt.stats.simulate import NoiseModel

REPLICATES = 100
MODEL = NoiseModel.default(n_test=400)
#: What the design (3 seeds, 400 test images, the default build's spreads) promises, from
#: `make bench-verdicts` at that design (200 builds per row) less a margin: (rule, truth) → power.
PROMISED = {
    ("best by AUC", "another better by 0.10 AUC"): 0.30,  # measured 0.37
    ("best by MSE", "another's MSE 2× lower"): 0.40,  # 0.48
    ("very close", "one AUC 0.10 off"): 0.20,  # 0.25
    ("depth", "deeper better by 0.10 AUC"): 0.85,  # 0.92
    ("epochs", "loss falls 0.1 log10 per step"): 0.95,  # 1.00
}


@pytest.fixture(scope="module")
def counts():
    return calibration.counts(MODEL, REPLICATES, SCENARIOS)


ERRORS = [s for s in SCENARIOS if s.error]


@pytest.mark.parametrize("scenario", ERRORS, ids=[f"{s.rule}: {s.truth}" for s in ERRORS])
def test_wrong_verdicts_stay_within_alpha(counts, scenario):
    wrong = counts[(scenario.rule, scenario.truth)].get(scenario.error, 0)
    assert wrong <= calibration.allowed(REPLICATES), (
        f"{scenario.rule} said {scenario.error!r} in {wrong} of {REPLICATES} builds where it is wrong "
        f"(at most {calibration.allowed(REPLICATES)} for a rule at α = 0.05)"
    )


@pytest.mark.parametrize("key", list(PROMISED), ids=[f"{r}: {t}" for r, t in PROMISED])
def test_the_design_reaches_its_promised_power(counts, key):
    scenario = next(s for s in SCENARIOS if (s.rule, s.truth) == key)
    right = counts[key].get(scenario.power, 0)
    assert right >= calibration.least(REPLICATES, PROMISED[key]), (
        f"{key[0]} reached {scenario.power!r} in {right} of {REPLICATES} builds (promised {PROMISED[key]:.0%})"
    )


def test_the_tolerances_are_binomial_percentiles():
    assert calibration.allowed(100) == 11 and calibration.allowed(2000) == 123
    assert calibration.least(100, 0.5) == 38
    assert calibration.upper_bound(0, 100) == pytest.approx(1 - 0.01 ** (1 / 100))
    assert calibration.upper_bound(5, 100) > 0.05 > 5 / 100 * 0.9
