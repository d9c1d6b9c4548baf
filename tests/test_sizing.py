"""Sizing a sweep before it runs (aecrypt.runs.sizing): what scales with what, the workers' schedule, and the
plan it counts."""

from __future__ import annotations

import copy
from dataclasses import replace
from pathlib import Path

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
    # every epoch, not what the first one costs beyond an epoch (the trace)
    later = (14.87 - 3.53) / 9
    assert costs.run_seconds(3, 6, 20, 1903, 1.0) - base == pytest.approx(10 * later)
    assert costs.run_seconds(3, 12, 10, 1903, 1.0) - base == pytest.approx(10 * later)
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
        row.pop("ae first epoch", None)
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
    # every other image tests where the design gives no count (the data set's size is the record's); a count cuts it
    assert now.test_images == 1903 - profile.n_train - profile.n_val
    fewer = sizing.predict(replace(profile, n_test=400, n_images=None), grid, "synthetic", costs, 2)
    assert fewer.sweep_s < now.sweep_s
    assert now.core_s - fewer.core_s == pytest.approx(
        sum(costs.rows[0 if s.is_baseline else s.depth].get("retrieve") or 0 for s, _ in plan.runs + plan.baselines)
        * (1 - (400 + profile.n_train + profile.n_val) / 1903)
        + len(plan.seeds) * costs.rows[3]["retrieve"] * (1 - (400 + profile.n_train + profile.n_val) / 1903)
    )  # retrieval alone, by the images it passes
    part = copy.deepcopy(_record())
    part["design"]["n_test"] = 500
    with pytest.raises(UsageError, match="measured on part of the data"):
        sizing.predict(profile, grid, "synthetic", sizing.StageCosts.from_record(part), 2)
    with pytest.raises(UsageError, match="another batch size"):
        sizing.predict(replace(profile, batch_size=16), grid, "synthetic", costs, 2)
    with pytest.raises(UsageError, match="measured at 32², not 64²"):
        sizing.predict(replace(profile, size=64), grid, "synthetic", costs, 2)


def test_the_clock_records_a_step_and_passes_its_status_on(tmp_path):
    import json
    import subprocess
    import sys

    clock = [sys.executable, str(paths.ROOT / "benchmarks" / "clock.py"), str(tmp_path / "steps.jsonl")]
    failing = [sys.executable, "-c", "import sys, time; time.sleep(0.2); sys.exit(3)"]
    assert subprocess.run([*clock, "audit", "--", *failing]).returncode == 3
    assert subprocess.run([*clock, "pages", "--", sys.executable, "-c", "pass"]).returncode == 0
    lines = [json.loads(line) for line in (tmp_path / "steps.jsonl").read_text().splitlines()]
    assert [(e["step"], e["status"]) for e in lines] == [("audit", 3), ("pages", 0)]
    assert lines[0]["seconds"] >= 0.2
    assert subprocess.run([*clock, "audit", sys.executable], capture_output=True).returncode == 2  # no "--"


def test_the_budget_section_reads_the_last_good_cold_build_and_says_when_nothing_fits(tmp_path):
    """The Performance page's budget: a failed cold build is never the one shown, a sizing made from another
    build says so, and where no design fits the page says which is cheapest."""
    import json
    from types import SimpleNamespace

    from aecrypt.book.pages import performance

    default = json.loads(json.dumps(get_profile("default").run_settings()))  # as coldbook.py records a design

    def build(commit, status, when, design=default):
        steps = {"setup": 30.0, "sweep": 900.0, "audit": 60.0}
        return {
            "commit": commit,
            "profile": "default",
            "when": when,
            "cpu": "a CPU",
            "steps": steps,
            "around_sweep_s": 60.0,
            "total_s": 990.0,
            "status": status,
            "design": design,
        }

    larger = default | {"ae_epochs": default["ae_epochs"] + 5}  # the next size up, timed from a scratch commit
    builds = [
        build("a" * 40, 0, "2026-12-01T10:00:00+00:00"),
        build("b" * 40, 1, "2026-12-02T10:00:00+00:00"),
        build("d" * 40, 0, "2026-12-03T10:00:00+00:00", larger),
    ]
    paths.coldbook_json(tmp_path).write_text(json.dumps({"builds": builds}))
    design = {
        "epochs": 5,
        "training images": 192,
        "test images": 400,
        "steps": 30,
        "runs": 59,
        "sweep s": 900,
        "depth 5": "seed 0 only",
        "fits": False,
    }
    sizing_record = {
        "cpu": "a CPU",
        "workers": 2,
        "target_s": sizing.COLD_BOOK_TARGET_S,
        "around_s": 90.0,
        "costs_from": "the runs of make bench-stages",
        "cold_build": {
            "commit": "c" * 40,
            "when": "2026-11-30T10:00:00+00:00",
            "around_sweep_s": 60.0,
            "setup_s": 30.0,
        },
        "check": {"predicted_sweep_s": 880, "measured_sweep_s": 900.0},
        "designs": [design, design | {"cold book s": 1200, "test images": 800}],
    }
    sizing_record["designs"][0]["cold book s"] = 990
    paths.sizing_json(tmp_path).write_text(json.dumps(sizing_record))
    parts = performance.budget_section(SimpleNamespace(root=tmp_path))
    text = " ".join(getattr(p, "data", "") or "" for p in parts)
    # the failed build is not shown; the larger design's is listed, but it is not the default's build
    assert "commit `aaaaaaaaaa`" in text and "bbbbbbbbbb" not in text and "commit `dddddddddd`" not in text
    assert "dddddddddd" in text and "aaaaaaaaaa" in text.split("Every cold build")[1]
    assert "`cccccccccc`, not the one above" in text
    assert "None of the 2 designs fits 15 minutes" in text and "predicted at 16.5 min" in text


def test_the_budget_section_names_the_next_size_up_where_the_default_fits(tmp_path):
    """Where the default as it is fits, the page says what the cheapest design with more steps is predicted at:
    the next size up, which would replace the default if it fitted."""
    import json
    from types import SimpleNamespace

    from aecrypt.book.pages import performance

    d = get_profile("default")
    design = json.loads(json.dumps(d.run_settings()))
    build = {"commit": "a" * 40, "profile": "default", "when": "2026-12-01T10:00:00+00:00", "cpu": "a CPU"}
    build |= {"steps": {"setup": 30.0, "sweep": 600.0}, "around_sweep_s": 200.0, "total_s": 830.0, "status": 0}
    paths.coldbook_json(tmp_path).write_text(json.dumps({"builds": [build | {"design": design}]}))
    steps = d.budget(d.n_train).steps
    up = replace(d, ae_epochs=d.ae_epochs + 5).budget(d.n_train).steps  # the next size up
    row = {"training images": d.n_train, "test images": 1663, "runs": 63, "depth 5": "every seed", "sweep s": 600}
    designs = [
        row | {"epochs": d.ae_epochs, "steps": steps, "cold book s": 830, "fits": True},
        row | {"epochs": d.ae_epochs + 5, "steps": up, "cold book s": 960, "fits": False},
        row
        | {"epochs": d.ae_epochs + 5, "steps": up, "cold book s": 880, "fits": True}
        | {"depth 5": sizing.ONE_SEED, "runs": 59},
    ]
    paths.sizing_json(tmp_path).write_text(
        json.dumps(
            {
                "cpu": "a CPU",
                "workers": 2,
                "target_s": sizing.COLD_BOOK_TARGET_S,
                "around_s": 230.0,
                "costs_from": "a cold build",
                "cold_build": {"commit": "a" * 40, "when": build["when"], "around_sweep_s": 200.0, "setup_s": 30.0},
                "check": {"predicted_sweep_s": 590, "measured_sweep_s": 600.0},
                "designs": designs,
            }
        )
    )
    text = " ".join(getattr(p, "data", "") or "" for p in performance.budget_section(SimpleNamespace(root=tmp_path)))
    assert "is predicted at 13.8 min; the cheapest design with more steps" in text
    # the next size up timed from a scratch commit: listed with the prediction for its design, not as the default
    scratch = build | {"commit": "e" * 40, "total_s": 990.0, "design": design | {"ae_epochs": d.ae_epochs + 5}}
    rows = sizing.cold_build_rows([build | {"design": design}, scratch], d.run_settings(), designs)
    assert [(r["steps"], r["cold book (min)"], r["predicted (min)"], r["as defined now"]) for r in rows] == [
        (steps, 13.8, 13.8, "yes"),
        (up, 16.5, 16.0, "no"),
    ]
    # the next size up keeps every seed; a design with more steps that fits only by running depth 5 at one seed is
    # named with why the default does not take it
    larger = f"more steps at every seed ({up} steps: {d.ae_epochs + 5} epochs of {d.n_train} images)"
    assert f"{larger} at 16.0 min." in text
    assert f"more steps that fit (the cheapest: {up} steps, at 14.7 min) run depth 5 at one seed" in text


def test_a_cold_builds_design_is_its_clones_not_this_checkouts(package_copy):
    """benchmarks/coldbook.py records the design of the commit it built: read in the clone, whose aecrypt may
    define the profile otherwise (a scratch commit's larger default), not in this checkout."""
    import sys

    sys.path.insert(0, str(paths.ROOT / "benchmarks"))
    import coldbook

    profiles = package_copy / "profiles.py"
    epochs = get_profile("default").ae_epochs
    text = profiles.read_text()
    anchor = text.index('name="default"')
    at = text.index(f"ae_epochs={epochs},", anchor)
    profiles.write_text(text[:at] + f"ae_epochs={epochs + 5}," + text[at + len(f"ae_epochs={epochs},") :])
    clone = package_copy.parent
    assert coldbook.design_of(clone, "default", Path(sys.executable))["ae_epochs"] == epochs + 5
    assert coldbook.design_of(paths.ROOT, "default", Path(sys.executable))["ae_epochs"] == epochs
