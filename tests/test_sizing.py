"""Sizing a sweep before it runs (aecrypt.runs.sizing): what scales with what, the workers' schedule, and the
plan it counts."""

from __future__ import annotations

import copy
from dataclasses import replace

import pytest

from aecrypt import UsageError, paths
from aecrypt.profiles import get_profile
from aecrypt.runs import sizing
from aecrypt.runs.plan import plan_sweep


def _record() -> dict:
    """The docstring's record with depths 2 and 5 and the baseline added (each depth's costs distinct)."""
    record = copy.deepcopy(sizing.EXAMPLE_RECORD)
    row3 = record["stages"][0]
    record["stages"] += [
        row3 | {"depth": 2, "ae first epoch": 2.0, "autoencoder": 11.0, "retrieve": 3.0},
        row3 | {"depth": 5, "ae first epoch": 9.0, "autoencoder": 63.0, "retrieve": 8.0},
        {"variant": sizing.VARIANT, "depth": "baseline", "startup": 1.2, "data": 0.02, "classifier": 6.8}
        | {"metrics": float("nan"), "files and hand-back": None},  # as the stages record has them
    ]
    return record


def test_the_autoencoder_scales_with_its_steps_and_retrieval_with_its_images():
    costs = sizing.StageCosts.from_record(_record())
    base = costs.run_seconds(3, 6, 10, 1903, 1.0)
    assert base == pytest.approx(1.22 + 0.02 + 14.87 + 5.34 + 6.32 + 0.34 + 0.76)  # the measured run, as measured
    # ten more epochs add ten of its later epochs (their mean, from the stage); twice the steps per epoch double
    # the whole stage, its trace included
    later = (14.87 - 3.53) / 9
    assert costs.run_seconds(3, 6, 20, 1903, 1.0) - base == pytest.approx(10 * later)
    assert costs.run_seconds(3, 12, 10, 1903, 1.0) - base == pytest.approx(14.87)
    # half the images retrieved halve retrieval; the classifier's work scales the classifier
    assert base - costs.run_seconds(3, 6, 10, 1903 // 2, 1.0) == pytest.approx(5.34 * (1 - (1903 // 2) / 1903))
    assert costs.run_seconds(3, 6, 10, 1903, 2.0) - base == pytest.approx(6.32)
    # the baseline is its fixed part and the classifier alone
    assert costs.run_seconds(0, 6, 10, 1903, 1.0) == pytest.approx(1.2 + 0.02 + 6.8)


def test_runs_go_to_the_first_free_worker_in_the_order_given():
    assert sizing.schedule([3, 3, 2, 2, 2], 2) == 7  # 3|3, then 2 → 5|3 → 5|5 → 7|5
    assert sizing.schedule([2, 2, 2, 3, 3], 2) == 7  # 2|2 → 4|2 → 4|4 → 7|4 → 7|7
    assert sizing.schedule([5, 1, 1, 1], 2) == 5
    assert sizing.schedule([5, 1, 1, 1], 1) == 8
    assert sizing.schedule([], 2) == 0


def test_a_record_without_the_per_epoch_costs_is_refused_with_what_to_run():
    record = _record()
    for row in record["stages"]:
        row.pop("ae epoch", None)
    with pytest.raises(UsageError, match="make bench-stages"):
        sizing.StageCosts.from_record(record)
    costs = sizing.StageCosts.from_record(_record())
    with pytest.raises(UsageError, match=r"depth 4 is not in the stages record \(measured: 2, 3, 5\)"):
        costs.run_seconds(4, 6, 10, 1903, 1.0)


def test_a_prediction_counts_the_plan_and_grows_with_the_budget(tmp_path):
    profile = get_profile("default")
    grid = paths.GRIDS / profile.default_grid
    costs = sizing.StageCosts.from_record(_record())
    now = sizing.predict(profile, grid, "synthetic", costs, 2)
    plan = plan_sweep(profile, grid, "synthetic")  # what the sweep would run
    assert now.runs == len(plan.runs) + len(plan.baselines) + len(plan.seeds)  # + one reference run per seed
    assert now.steps == profile.ae_epochs * -(-profile.n_train // profile.batch_size)
    longer = sizing.predict(replace(profile, ae_epochs=2 * profile.ae_epochs), grid, "synthetic", costs, 2)
    assert longer.steps == 2 * now.steps and longer.sweep_s > now.sweep_s

    # the added epochs, exactly: each combination run's and each reference run's (at the paper's depth 3)
    def later(depth):
        row = costs.rows[depth]
        return (row["autoencoder"] - row["ae first epoch"]) / (costs.design["ae_epochs"] - 1)

    added = sum(profile.ae_epochs * later(spec.depth) for spec, _ in plan.runs)
    added += len(plan.seeds) * profile.ae_epochs * later(3)
    assert longer.core_s - now.core_s == pytest.approx(added)
    fewer = sizing.predict(replace(profile, n_test=400, n_images=None), grid, "synthetic", costs, 2)
    assert fewer.test_images == 400 and fewer.sweep_s < now.sweep_s
    with pytest.raises(UsageError, match="measured at 32², not 64²"):
        sizing.predict(replace(profile, size=64), grid, "synthetic", costs, 2)
