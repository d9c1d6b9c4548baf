"""One run definition (aecrypt.paper.parameters): the notebooks' parameter cells, the run's config, a sweep's run
and a grid's keys all come from it; the learning rate is a run parameter from a grid, `--set` or papermill."""

from __future__ import annotations

import json

import pytest

from aecrypt import UsageError, paths
from aecrypt.cli.runs import parse_settings
from aecrypt.paper import cells, parameters
from aecrypt.runs import grids
from aecrypt.runs.identity import Fingerprints, run_id
from aecrypt.runs.plan import plan_sweep
from aecrypt.runs.spec import RunSpec


@pytest.mark.parametrize("template", ["experiment", "baseline"])
def test_each_notebooks_parameter_cell_is_the_one_the_definition_gives(template):
    """Rewrite them with `python -m aecrypt.paper.cells` when the table changes."""
    nb = json.loads((paths.NOTEBOOKS / f"{template}.ipynb").read_text())
    cell = next(c for c in nb["cells"] if "parameters" in c["metadata"].get("tags", []))
    assert "".join(cell["source"]) == cells.parameter_cell(template)
    namespace: dict = {}
    exec("".join(cell["source"]), namespace)  # the cell's defaults are the definition's
    for name in parameters.names(template):
        assert namespace[name] == parameters.default(name), name


def test_the_config_the_spec_and_the_grid_take_the_definitions_parameters_and_defaults():
    from dataclasses import fields

    from aecrypt.paper.experiment import RunConfig

    config = {f.name: f.default for f in fields(RunConfig) if f.name != "overrides"}
    assert config == {n: e["default"] for n, e in parameters.PARAMETERS.items()}
    spec = {f.name: f.default for f in fields(RunSpec)}
    assert set(parameters.PARAMETERS) <= set(spec)
    assert all(spec[n] == parameters.default(n) for n in parameters.PARAMETERS if n not in ("profile", "data"))
    assert grids.COMBINATION_KEYS | grids.OPTIONAL_KEYS == set(parameters.combination_names())
    assert "learning_rate" in grids.OPTIONAL_KEYS and "seed" not in grids.COMBINATION_KEYS


def test_an_optional_parameter_is_passed_only_when_set_and_names_itself():
    plain = RunSpec("tiny", "synthetic", loss="mse", optimizer="sgd", depth=2)
    fast = RunSpec("tiny", "synthetic", loss="mse", optimizer="sgd", depth=2, learning_rate="0.05")
    assert "learning_rate" not in plain.parameters() and fast.parameters()["learning_rate"] == 0.05
    assert plain.label == "MSE+SGD+ReLU+2" and fast.label == "MSE+SGD+ReLU+2 lr=0.05"
    fp = Fingerprints.now()
    assert run_id(plain, fp, "d") != run_id(fast, fp, "d")
    assert "learning_rate" not in RunSpec.baseline("tiny", "synthetic", 0).parameters()


def test_the_learning_rate_reaches_the_optimizer_and_absent_is_kerass_default():
    from aecrypt.paper import models
    from aecrypt.paper.experiment import RunConfig

    cfg = RunConfig(profile="tiny", optimizer="SGD", depth=2, learning_rate="0.05")
    options = parameters.options(vars(cfg), "optimizer")
    assert options == {"learning_rate": 0.05}
    assert float(models.make_optimizer(cfg.optimizer, **options).learning_rate) == pytest.approx(0.05)
    default = RunConfig(profile="tiny", optimizer="sgd", depth=2)
    assert parameters.options(vars(default), "optimizer") == {}
    assert float(models.make_optimizer("sgd").learning_rate) == pytest.approx(0.01)  # Keras's SGD default


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (-1, "learning_rate must be a finite number > 0, got -1.0"),
        ("inf", "learning_rate must be a finite number > 0, got inf"),
        ("fast", "learning_rate must be float, got 'fast'"),
    ],
)
def test_a_bad_learning_rate_says_what_is_valid(value, message):
    with pytest.raises(UsageError, match=message):
        RunSpec("tiny", "synthetic", learning_rate=value)


def test_a_grid_and_set_give_the_learning_rate_and_several_values_multiply_the_grid(tmp_path):
    grid = tmp_path / "lr.yaml"
    grid.write_text(
        "grid:\n  loss: [mse]\n  optimizer: [sgd, adam]\n  depth: [2]\n  activation: [relu]\n"
        "  learning_rate: [0.01, 1.0e-3]\n"
    )
    labels = sorted(c.label for c in grids.load_grid(grid).combinations)
    assert labels == sorted(f"MSE+{o}+ReLU+2 lr={r}" for o in ("Adam", "SGD") for r in (0.001, 0.01))
    settings = parse_settings(["learning_rate=0.1,0.2"])
    tiny = grids.load_grid(paths.GRIDS / "tiny.yaml")
    swept = grids.load_grid(paths.GRIDS / "tiny.yaml", settings)
    assert len(swept.combinations) == 2 * len(tiny.combinations)
    assert {c.learning_rate for c in swept.combinations} == {0.1, 0.2}
    assert settings == {"learning_rate": ["0.1", "0.2"]}  # the caller's settings are left as given


def test_a_set_plan_reruns_the_combinations_and_keeps_the_baselines():
    plain = plan_sweep("tiny", paths.GRIDS / "tiny.yaml")
    faster = plan_sweep("tiny", paths.GRIDS / "tiny.yaml", settings={"learning_rate": ["0.01"]})
    assert all(s.label.endswith(" lr=0.01") for s, _ in faster.runs)
    assert not {rid for _, rid in plain.runs} & {rid for _, rid in faster.runs}
    assert [rid for _, rid in plain.baselines] == [rid for _, rid in faster.baselines]


@pytest.mark.parametrize(
    ("items", "message"),
    [
        (["learning_rate"], "write NAME=VALUE"),
        (["learning_rate=0.1", "learning_rate=0.2"], "given twice"),
    ],
)
def test_a_malformed_set_is_one_line(items, message):
    with pytest.raises(UsageError, match=message):
        parse_settings(items)


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"seed": ["1"]}, r"--set seed: not a parameter a grid varies; valid: \['activation', 'bottleneck'"),
        ({"optimizer": ["adamax"]}, "--set optimizer: unknown optimizer 'adamax'; valid: adam, adagrad"),
        ({"learning_rate": ["0"]}, "--set learning_rate: learning_rate must be a finite number > 0"),
    ],
)
def test_a_set_the_grid_cannot_take_names_what_it_can(settings, message):
    with pytest.raises(UsageError, match=message):
        grids.load_grid(paths.GRIDS / "tiny.yaml", settings)


def test_the_modules_examples_run():
    import doctest

    failed, tried = doctest.testmod(parameters)
    assert tried >= 2 and failed == 0


def test_combinations_a_label_cannot_tell_apart_are_refused():
    """The results aggregate by label: two key images of one combination would merge as if they were seeds."""
    with pytest.raises(UsageError, match="several combinations are named 'MSE\\+Adam\\+ReLU\\+2'"):
        grids.load_grid(paths.GRIDS / "tiny.yaml", {"key_image": ["a.png", "b.png"], "optimizer": ["adam"]})
