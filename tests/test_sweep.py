"""The sweep engine at the tiny profile: cache, resume, invalidation, executors, failures, results table."""

from __future__ import annotations

import dataclasses
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from aecrypt import AecryptError, paths, profiles
from aecrypt.book import page
from aecrypt.cli import main as cli
from aecrypt.paper import choices
from aecrypt.runs import closure, folder, grids, identity, sweep, table
from aecrypt.runs.plan import plan_references, plan_sweep
from aecrypt.runs.results import Results
from aecrypt.runs.spec import RunSpec

from .conftest import TINY_SEEDS

TIMING = {
    "ae_seconds",
    "seconds_per_epoch",
    "total_seconds",
    "run_seconds",
    "cipher_seconds_paper",
    "cipher_seconds_aes_gcm",
    "clf_seconds",
    "peak_rss_mb",
}


def write_grid(path: Path, combos: list[tuple], extra: list[dict] | None = None) -> Path:
    lines = ["name: test", "extra:"]
    for loss, opt, depth in combos:
        lines.append(f"  - {{loss: {loss}, optimizer: {opt}, depth: {depth}, activation: relu}}")
    for e in extra or []:
        lines.append("  - " + json.dumps(e))
    path.write_text("\n".join(lines) + "\n")
    return path


def metric_frame(summary: pd.DataFrame) -> pd.DataFrame:
    skip = TIMING | {"error", "note"}
    cols = [c for c in summary.columns if c not in skip and not c.startswith(("seconds_", "nocipher_"))]
    return summary[cols].sort_values("run_id").reset_index(drop=True)


# --- grids -----------------------------------------------------------------------------------


def test_grid_validation_lists_every_problem_at_once(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        "name: bad\ncolour: red\ngrid:\n  loss: [mse, hinge]\n  optimizer: [adam]\n  depth: [2, 7]\n"
        "extra:\n  - {loss: mse, optimizer: adamax, depth: 3, activation: relu, speed: 11}\n"
    )
    with pytest.raises(AecryptError) as info:
        grids.load_grid(bad)
    message = str(info.value)
    for part in (
        "6 problem(s)",
        "unknown top-level key(s) ['colour']",
        "missing key(s) ['activation']",
        "unknown loss 'hinge'",
        "depth 7 is not valid; valid: 2, 3, 4, 5",
        "unknown optimizer 'adamax'",
        "extra[0]: unknown key(s) ['speed']",
    ):
        assert part in message, part
    with pytest.raises(AecryptError, match="does not exist; grids in"):
        grids.load_grid(tmp_path / "missing.yaml")


def test_paper_grid_has_the_papers_sixteen_and_marked_extras():
    grid = grids.load_grid(paths.GRIDS / "paper.yaml")
    product = [c for c in grid.combinations if not c.note]
    extras = [c for c in grid.combinations if c.note]
    assert len(product) == 16 and {c.activation for c in product} == {"relu"}
    assert [(c.loss, c.optimizer, c.depth) for c in product] == [  # in the file's order, loss slowest
        (lo, o, d) for lo in ("mse", "msle") for o in ("adam", "adagrad", "rmsprop", "sgd") for d in (2, 3)
    ]
    assert any(c.depth == 5 and c.loss == "msle" and c.optimizer == "adam" for c in extras)


def test_depths_that_do_not_fit_the_profile_are_skipped_with_a_reason():
    plan = plan_sweep("paper", paths.GRIDS / "paper.yaml")
    assert len(plan.skipped) == 2 and all("does not fit 200×200" in r for _, r in plan.skipped)
    assert len(plan_sweep("default", paths.GRIDS / "paper.yaml").skipped) == 0


# --- run identity ----------------------------------------------------------------------------


def _ids(plan) -> dict[str, str]:
    return {spec.label: rid for spec, rid in plan.runs}


def test_seeds_are_a_sweep_dimension_with_a_fixed_data_seed(tmp_path):
    grid = write_grid(tmp_path / "g.yaml", [("mse", "adam", 2), ("msle", "adam", 2)])
    plan = plan_sweep("tiny", grid, seeds=(0, 1, 2))
    assert [(s.label, s.seed) for s, _ in plan.runs] == [
        (label, seed) for label in ("MSE+Adam+ReLU+2", "MSLE+Adam+ReLU+2") for seed in (0, 1, 2)
    ]
    assert len({rid for _, rid in plan.runs}) == 6 and all(s.data_seed == 0 for s, _ in plan.runs)
    assert [s.seed for s, _ in plan.baselines] == [0, 1, 2]  # one shared baseline per training seed
    assert {s.run_label for s, _ in plan.runs} >= {"MSE+Adam+ReLU+2 · seed 0", "MSLE+Adam+ReLU+2 · seed 2"}
    # adding a seed reruns nothing that exists, and the profile's seed count is not part of any id
    fewer = plan_sweep("tiny", grid, seeds=(0, 1))
    assert {rid for _, rid in fewer.runs} < {rid for _, rid in plan.runs}
    assert plan_sweep("tiny", grid).seeds == (0,)  # tiny: one seed
    # the data seed moves every run (other phantoms, split and key)
    other = plan_sweep("tiny", grid, seeds=(0, 1, 2), data_seed=1)
    assert not {rid for _, rid in other.runs} & {rid for _, rid in plan.runs}
    saved = json.loads(plan.to_json())
    assert saved["seeds"] == [0, 1, 2] and saved["data_seed"] == 0 and saved["runs"][1]["seed"] == 1


def test_the_profile_seed_count_is_not_part_of_a_run_id(tmp_path, monkeypatch):
    from dataclasses import replace

    grid = write_grid(tmp_path / "g.yaml", [("mse", "adam", 2)])
    before = plan_sweep("tiny", grid).runs[0][1]
    monkeypatch.setitem(profiles.PROFILES, "tiny", replace(profiles.PROFILES["tiny"], seeds=4))
    plan = plan_sweep("tiny", grid)
    assert plan.seeds == (0, 1, 2, 3) and plan.runs[0][1] == before


@pytest.mark.parametrize(
    ("text", "seeds"), [("3", (0, 1, 2)), ("0,3,7", (0, 3, 7)), ("5,", (5,)), ("7, 2", (2, 7)), ("1", (0,))]
)
def test_seeds_option_takes_a_count_or_a_list(text, seeds):
    assert profiles.parse_seeds(text) == seeds


@pytest.mark.parametrize("text", ["x", "0", "-1", "1,1", "2,-3", ","])
def test_bad_seeds_are_an_error_that_shows_the_valid_forms(text):
    with pytest.raises(AecryptError, match=r"e\.g\. 0,"):
        profiles.parse_seeds(text)


def test_a_grid_extra_can_pin_its_own_seeds(tmp_path):
    grid = write_grid(
        tmp_path / "g.yaml",
        [("mse", "adam", 2)],
        [{"loss": "msle", "optimizer": "adam", "depth": 2, "activation": "relu", "seeds": [4, 5]}],
    )
    plan = plan_sweep("tiny", grid, seeds=(0,))
    assert [(s.label, s.seed) for s, _ in plan.runs] == [
        ("MSE+Adam+ReLU+2", 0),
        ("MSLE+Adam+ReLU+2", 4),
        ("MSLE+Adam+ReLU+2", 5),
    ]
    assert [s.seed for s, _ in plan.baselines] == [0, 4, 5]
    both = write_grid(
        tmp_path / "b.yaml",
        [],
        [{"loss": "mse", "optimizer": "adam", "depth": 2, "activation": "relu", "seed": 1, "seeds": [2]}],
    )
    with pytest.raises(AecryptError, match="`seed` or `seeds`, not both"):
        grids.load_grid(both)


def test_the_reference_runs_follow_the_lowest_mean_mse(tmp_path):
    grid = write_grid(tmp_path / "g.yaml", [("mse", "adam", 2), ("msle", "adam", 2)])
    plan = plan_sweep("tiny", grid, seeds=(0, 1))
    rows = [
        {"label": s.label, "seed": s.seed, "status": "ok", "mse": mse}
        for (s, _), mse in zip(plan.runs, [0.02, 0.03, 0.01, 0.05], strict=True)
    ]  # MSE mean 0.025 vs MSLE mean 0.03: the best single run (0.01) is MSLE's, the best mean is MSE's
    refs = plan_references(plan, pd.DataFrame(rows))
    assert [(s.label, s.seed, s.with_cipher) for s, _ in refs] == [
        ("MSE+Adam+ReLU+2", 0, False),
        ("MSE+Adam+ReLU+2", 1, False),
    ]
    assert not {rid for _, rid in refs} & {rid for _, rid in plan.runs}


def test_run_ids_change_exactly_with_their_inputs(tmp_path, monkeypatch):
    grid = write_grid(tmp_path / "g.yaml", [("mse", "adam", 2), ("msle", "adam", 2)])
    base = _ids(plan_sweep("tiny", grid))
    assert base == _ids(plan_sweep("tiny", grid))  # stable
    # one grid entry changed: only that run's id is new
    changed = _ids(plan_sweep("tiny", write_grid(tmp_path / "g2.yaml", [("mse", "adam", 2), ("msle", "sgd", 2)])))
    assert changed["MSE+Adam+ReLU+2"] == base["MSE+Adam+ReLU+2"] and "MSLE+Adam+ReLU+2" not in changed
    # the template's code changed: every id is new
    nb = json.loads(paths.TEMPLATE.read_text())
    nb["cells"].append(
        {
            "cell_type": "code",
            "metadata": {},
            "source": "print('one more line')",
            "outputs": [],
            "execution_count": None,
        }
    )
    (tmp_path / "t.ipynb").write_text(json.dumps(nb))
    assert not set(_ids(plan_sweep("tiny", grid, template=tmp_path / "t.ipynb")).values()) & set(base.values())
    # the source a run imports changed: every id is new
    monkeypatch.setattr(identity, "source_hash", lambda *args: "edited")
    assert not set(_ids(plan_sweep("tiny", grid)).values()) & set(base.values())


def _pending_after(tiny_sweep) -> tuple[int, int]:
    root, _ = tiny_sweep
    plan = plan_sweep("tiny", paths.GRIDS / "tiny.yaml")
    return len(plan.pending(paths.profile_dir("tiny", root))), len(plan.runs) + len(plan.baselines)


#: Exactly what a combination's run executes of aecrypt: the paper, the data loaders, and the ground floor.
RUN_MODULES = {
    "aecrypt",
    "aecrypt.budget",  # the paper's training budget: the profiles take its batch size and split
    "aecrypt.cachekeys",  # the data set's array cache is keyed by it
    "aecrypt.data",
    "aecrypt.data.class_folders",
    "aecrypt.data.codecs",
    "aecrypt.data.dataset",
    "aecrypt.data.dicom_files",
    "aecrypt.data.embedded",
    "aecrypt.data.medmnist_npz",
    "aecrypt.data.nih_release",
    "aecrypt.data.readers",
    "aecrypt.data.specs",
    "aecrypt.data.splits",
    "aecrypt.data.synthetic",
    "aecrypt.figures",
    "aecrypt.figures.runstrip",
    "aecrypt.paper",
    "aecrypt.paper.batches",
    "aecrypt.paper.choices",
    "aecrypt.paper.cipher",
    "aecrypt.paper.classification",
    "aecrypt.paper.experiment",
    "aecrypt.paper.metrics",
    "aecrypt.paper.models",
    "aecrypt.paper.parameters",
    "aecrypt.paper.retrieval",
    "aecrypt.paper.runfiles",
    "aecrypt.paper.runmetrics",
    "aecrypt.paths",
    "aecrypt.profiles",
    "aecrypt.runtime",
}


def test_a_run_identity_holds_exactly_the_modules_a_run_executes():
    """No link, book, stats, audit, coursework or CLI code enters a run's id: a new module in the template's
    import closure fails this test until it is added here on purpose."""
    assert set(identity.imported_modules()) == RUN_MODULES
    # the shared baseline draws nothing
    assert set(identity.imported_modules(paths.NOTEBOOKS / "baseline.ipynb")) == RUN_MODULES - {
        "aecrypt.figures",
        "aecrypt.figures.runstrip",
    }


@pytest.mark.parametrize(
    "module",
    [
        "figures/paper_figures.py",
        "book/pages/claims.py",
        "book/build.py",
        "cli/main.py",
        "runs/sweep.py",
        "runs/identity.py",
        "link/packets.py",
        "link/pngfiles.py",
        "stats/claims.py",
        "audit/record.py",
        "coursework/assignments.py",
    ],
)
def test_an_edit_outside_what_a_run_executes_reruns_nothing(tiny_sweep, package_copy, module):
    assert _pending_after(tiny_sweep) == (0, 3)
    (package_copy / module).write_text((package_copy / module).read_text() + "\n_EDITED = 1\n")
    assert _pending_after(tiny_sweep) == (0, 3)


@pytest.mark.parametrize("module", ["paper/models.py", "data/synthetic.py", "figures/runstrip.py", "__init__.py"])
def test_an_edit_to_code_a_run_executes_reruns_every_run(tiny_sweep, package_copy, module):
    """A statement that runs when the module is imported; models and synthetic are imported through experiment
    and data, not by the template itself."""
    (package_copy / module).write_text((package_copy / module).read_text() + "\nprint(end='')\n")
    pending, total = _pending_after(tiny_sweep)
    # runstrip is drawn by combination runs only: the shared baseline does not import it
    assert pending == (total - 1 if module == "figures/runstrip.py" else total)


#: Edits to what a run imports but does not read: each reran every run before a run's id hashed the code its
#: template reaches, definition by definition, and its own vocabulary entries and profile settings by value.
_PARAMETERS_SOURCE = (paths.PACKAGE / "paper" / "parameters.py").read_text()
_LEARNING_RATE_ENTRY = _PARAMETERS_SOURCE[
    _PARAMETERS_SOURCE.index('    "learning_rate": {') : _PARAMETERS_SOURCE.index('    "depth": {')
]
UNREAD = {
    "a profile's description": (
        "profiles.py",
        'description="tests and CI: seconds per run"',
        'description="reworded: what the tests and CI run"',
    ),
    "a new record's path": (
        "paths.py",
        "\n\ndef profile_dir(",
        '\n\ndef brand_new_json(root):\n    return root / "n.json"\n\n\ndef profile_dir(',
    ),
    "a new optimizer": ("paper/choices.py", '    "nadam": "Nadam",\n', '    "nadam": "Nadam",\n    "lion": "Lion",\n'),
    "a new loss": ("paper/choices.py", '"huber": "HUBER"}', '"huber": "HUBER", "log_cosh": "LOG_COSH"}'),
    # the learning rate was added this way: an optional run parameter the optimizer takes
    "a new optional run parameter": (
        "paper/parameters.py",
        '    "depth": {\n',
        '    "beta_1": {"default": None, "type": "float", "templates": ["experiment"], "level": "combination",'
        ' "optional": True, "label": " b1={}", "role": "optimizer", "help": "Adam\'s"},\n    "depth": {\n',
    ),
    "the learning rate, as before it was added": ("paper/parameters.py", _LEARNING_RATE_ENTRY, ""),
    "a parameter's help reworded": (
        "paper/parameters.py",
        "{choices} (the paper: 2, 3, 5)",
        "{choices} (2, 3 and 5 in the paper)",
    ),
}


@pytest.mark.parametrize("case", UNREAD)
def test_an_edit_to_what_no_run_reads_reruns_nothing(tiny_sweep, package_copy, case):
    module, old, new = UNREAD[case]
    text = (package_copy / module).read_text()
    assert text.count(old) == 1, f"the edit's anchor moved in {module}"
    (package_copy / module).write_text(text.replace(old, new))
    assert _pending_after(tiny_sweep) == (0, 3)


def test_what_a_run_reads_of_the_vocabulary_and_its_profile_still_reruns_it(tiny_sweep, package_copy, monkeypatch):
    """Its own optimizer's entry (what Keras class it builds) reruns the runs that use it; a profile's setting
    reruns that profile's runs; the body of a function a run calls reruns every run."""
    choices_py = package_copy / "paper" / "choices.py"
    text = choices_py.read_text()
    choices_py.write_text(text.replace('"adam": "Adam"', '"adam": "Nadam"'))
    root, _ = tiny_sweep
    plan = plan_sweep("tiny", paths.GRIDS / "tiny.yaml")
    pending = {s.label for s, _ in plan.pending(paths.profile_dir("tiny", root))}
    adam = {s.label for s, _ in plan.runs if s.optimizer == "adam"}
    assert adam and pending == adam  # the baseline uses no optimizer of the vocabulary
    choices_py.write_text(text)
    assert _pending_after(tiny_sweep) == (0, 3)
    with monkeypatch.context() as patch:
        patch.setitem(profiles.PROFILES, "tiny", dataclasses.replace(profiles.PROFILES["tiny"], clf_epochs=3))
        assert _pending_after(tiny_sweep) == (3, 3)
    models = package_copy / "paper" / "models.py"
    models.write_text(
        models.read_text().replace(
            "OPTIMIZERS[validate_optimizer(name)])(**options)",
            "OPTIMIZERS[validate_optimizer(name)])(**({'learning_rate': 0.5} | options))",
        )
    )
    assert _pending_after(tiny_sweep)[0] >= 2  # the combinations' runs (the baseline trains no autoencoder)


def test_comments_docstrings_and_layout_rerun_nothing(tiny_sweep, package_copy):
    models = package_copy / "paper" / "models.py"
    text = models.read_text().replace('"""The paper\'s', '"""Reworded: the paper\'s', 1)
    models.write_text("# a new comment\n" + text.replace("    return Autoencoder(", "\n    return Autoencoder(", 1))
    assert models.read_text() != (paths.ROOT / "aecrypt" / "paper" / "models.py").read_text()
    assert _pending_after(tiny_sweep)[0] == 0


@pytest.mark.parametrize("distribution", ["keras", "tensorflow", "numpy", "scikit-learn", "pillow", "scipy", "pydicom"])
def test_a_new_version_of_any_library_a_run_reaches_reruns_every_run(tiny_sweep, monkeypatch, distribution):
    """The distributions come from the run's imports and their requirements (read from metadata), not from a
    list. scikit-image is not among them: a run computes SSIM and PSNR itself (`metrics.ssim_per_image`, held to
    scikit-image's values by tests/test_metrics.py), so a new scikit-image cannot change a run's numbers."""
    reached = closure.distributions(closure.third_party_imports(identity.imported_modules()))
    assert "scikit-image" not in reached
    assert distribution in reached
    real = closure.version
    monkeypatch.setattr(closure, "version", lambda name: "99.0" if name == distribution else real(name))
    assert _pending_after(tiny_sweep) == (3, 3)


def test_a_library_no_run_reaches_or_another_backend(tiny_sweep, monkeypatch):
    real = closure.version
    monkeypatch.setattr(closure, "version", lambda name: "99.0" if name in ("amqtt", "paho-mqtt") else real(name))
    assert _pending_after(tiny_sweep) == (0, 3)  # the link's libraries are not in a run's identity
    monkeypatch.setattr(closure, "version", real)
    monkeypatch.setenv("KERAS_BACKEND", "jax")
    assert _pending_after(tiny_sweep) == (3, 3)


def test_the_cpu_is_recorded_but_not_part_of_the_id(tiny_sweep, monkeypatch):
    root, _ = tiny_sweep
    env = json.loads(next(paths.runs_dir("tiny", root).glob("*/env.json")).read_text())
    assert env["cpu"]["model"] and isinstance(env["cpu"]["vector_extensions"], list)
    monkeypatch.setenv("ONEDNN_MAX_CPU_ISA", "AVX2")
    assert _pending_after(tiny_sweep)[0] == 0


def test_real_data_fingerprint_follows_the_content(tmp_path):
    from tests.test_data import make_folder

    root = make_folder(tmp_path / "xr", n=6)
    spec = RunSpec("tiny", f"folder:{root}", loss="mse", optimizer="adam", depth=2)
    first = identity.data_fingerprint(spec)
    from PIL import Image

    Image.fromarray(np.zeros((48, 48), np.uint8)).save(root / "NORMAL" / "normal_0.png")
    assert identity.data_fingerprint(spec) != first


# --- sweeps ----------------------------------------------------------------------------------


def test_a_sweep_writes_complete_runs_and_the_summary(tiny_sweep):
    root, report = tiny_sweep
    # two combinations at two training seeds, a shared baseline per seed, and the best combination's reference
    # run without the cipher at each seed
    assert report.executed == 8 and not report.failures
    summary = pd.read_csv(paths.summary_csv("tiny", root))
    assert list(summary["status"]) == ["ok"] * 4 and set(summary["label"]) == {"MSE+Adam+ReLU+2", "MSLE+Adam+ReLU+2"}
    # every run is its own row, named with its seed: no seed's result replaces another's
    assert sorted(summary["run_label"]) == sorted(
        f"{label} · seed {s}" for label in ("MSE+Adam+ReLU+2", "MSLE+Adam+ReLU+2") for s in TINY_SEEDS
    )
    assert summary["run_id"].is_unique and (summary["data_seed"] == 0).all()
    for column in (
        "mse",
        "mae",
        "psnr",
        "ssim",
        "loss_at_1",
        "loss_at_2",
        "recall",
        "precision",
        "f1",
        "auc",
        "train_accuracy",
        "test_accuracy",
        "cipher_max_error",
        "seconds_per_epoch",
        "total_seconds",
    ):
        assert summary[column].notna().all(), column
    assert (summary["cipher_max_error"] < 1e-5).all() and (summary["latent_to_image_ratio"] == 16).all()
    assert (summary["cipher_pixel_max_difference"] < 1e-5).all()  # ReLU latents: the cipher only rounds
    run = paths.runs_dir("tiny", root) / summary["run_id"].iloc[0]
    for name in (
        "experiment.ipynb",
        "params.json",
        "metrics.json",
        "history.csv",
        "roc.csv",
        "confusion.csv",
        "samples.npz",
        "env.json",
        "data.json",
        "kernel.log",
    ):
        assert (run / name).is_file(), name
    history = pd.read_csv(run / "history.csv")
    assert set(history["model"]) == {"autoencoder", "classifier"}
    # the classifier on the original images ran once per seed and both combinations of a seed carry its numbers
    assert summary.groupby("seed")["baseline_run_id"].nunique().eq(1).all()
    assert summary["baseline_run_id"].nunique() == len(TINY_SEEDS)
    baseline = paths.runs_dir("tiny", root) / summary["baseline_run_id"].iloc[0]
    assert set(pd.read_csv(baseline / "history.csv")["model"]) == {"classifier_original"}
    assert json.loads((baseline / "metrics.json").read_text())["auc"] == summary["original_auc"].iloc[0]
    # the reference runs: the best combination by mean MSE, decoded without the cipher, at every seed; they
    # train the same autoencoder (same loss) and, as the cipher only rounds, reach the same classifier AUC
    refs = summary[summary["nocipher_run_id"].notna()]
    assert set(refs["label"]) == {summary.groupby("label")["mse"].mean().idxmin()} and len(refs) == len(TINY_SEEDS)
    assert np.allclose(refs["nocipher_final_loss"], refs["final_loss"])
    assert np.allclose(refs["nocipher_auc"], refs["auc"], atol=1e-6)
    ref_config = json.loads(
        (paths.runs_dir("tiny", root) / refs["nocipher_run_id"].iloc[0] / "config.json").read_text()
    )
    assert ref_config["with_cipher"] is False
    for stage in ("startup", "data", "autoencoder", "retrieve", "classifier", "metrics"):
        assert (summary[f"seconds_{stage}"] > 0).all(), stage
    assert (summary["peak_rss_mb"] > 100).all()
    assert {"loss", "val_loss", "mse", "mae"} <= set(history.columns)
    env = json.loads((run / "env.json").read_text())
    assert env["keras_backend"] == "tensorflow" and env["threads"] == "1"
    assert not list(paths.runs_dir("tiny", root).glob(".tmp-*"))


def test_a_second_sweep_executes_nothing(tiny_sweep):
    root, _ = tiny_sweep
    before = {p.name: p.stat().st_mtime_ns for p in paths.runs_dir("tiny", root).iterdir()}
    again = sweep.run_sweep("tiny", paths.GRIDS / "tiny.yaml", results_root=root, seeds=TINY_SEEDS)
    assert again.executed == 0 and again.cached == 8
    assert {p.name: p.stat().st_mtime_ns for p in paths.runs_dir("tiny", root).iterdir()} == before


def test_a_changed_grid_entry_reruns_only_that_run(tiny_sweep, tmp_path):
    root, _ = tiny_sweep
    grid = write_grid(tmp_path / "g.yaml", [("mse", "adam", 2), ("msle", "rmsprop", 2)])
    report = sweep.run_sweep("tiny", grid, results_root=root, seeds=(0,), references=False)
    assert report.executed == 1 and report.cached == 2  # the baseline is shared, not rerun
    summary = table.collect("tiny", root)
    assert set(summary["label"]) == {"MSE+Adam+ReLU+2", "MSLE+RMSprop+ReLU+2"}
    # restore for later tests
    sweep.run_sweep("tiny", paths.GRIDS / "tiny.yaml", results_root=root, seeds=TINY_SEEDS)


def test_dask_cluster_gives_the_same_summary_as_local_workers(tiny_sweep, tmp_path):
    from dask.distributed import LocalCluster

    root, _ = tiny_sweep
    with LocalCluster(n_workers=1, threads_per_worker=1, processes=True, dashboard_address=None) as cluster:
        report = sweep.run_sweep(
            "tiny",
            paths.GRIDS / "tiny.yaml",
            scheduler=cluster.scheduler_address,
            results_root=tmp_path,
            seeds=(0,),
            references=False,
        )
    assert report.executed == 3 and not report.failures
    local = table.collect("tiny", root)
    local = metric_frame(local[local["seed"] == 0].reset_index(drop=True))
    remote = metric_frame(table.collect("tiny", tmp_path))
    # same ids (same inputs) and, with fixed seeds and deterministic ops, identical metrics
    pd.testing.assert_frame_equal(local, remote)


def _cli(*args, **kwargs):
    return subprocess.run([sys.executable, "-m", "aecrypt", *args], capture_output=True, text=True, **kwargs)


def test_a_failing_run_is_recorded_and_does_not_stop_the_others(tmp_path):
    bad_key = tmp_path / "key.png"
    bad_key.write_bytes(b"not a picture")
    grid = write_grid(
        tmp_path / "g.yaml",
        [("mse", "adam", 2)],
        [
            {
                "loss": "msle",
                "optimizer": "adam",
                "depth": 2,
                "activation": "relu",
                "key_image": str(bad_key),
                "note": "broken key",
            }
        ],
    )
    out = _cli(
        "sweep",
        "--profile",
        "tiny",
        "--grid",
        str(grid),
        "--results",
        str(tmp_path / "r"),
        "--no-references",
        timeout=600,
    )
    assert out.returncode == 1
    assert "1 run(s) failed:" in out.stderr and "cannot be read as an image" in out.stderr
    assert "[3/3]" in out.stderr and "elapsed" in out.stderr and "left" in out.stderr  # progress lines
    summary = pd.read_csv(tmp_path / "r" / "tiny" / "summary.csv", keep_default_na=False)
    status = dict(zip(summary["label"], summary["status"], strict=True))
    assert status == {"MSE+Adam+ReLU+2": "ok", "MSLE+Adam+ReLU+2": "failed"}
    assert "cannot be read as an image" in summary.loc[summary["status"] == "failed", "error"].iloc[0]
    failed = list((tmp_path / "r" / "tiny" / "failed").iterdir())
    assert len(failed) == 1 and (failed[0] / "experiment.ipynb").is_file()


def test_kill_minus_nine_leaves_no_partial_run_and_a_rerun_finishes_the_rest(tmp_path):
    grid = write_grid(tmp_path / "g.yaml", [("mse", "adam", 2), ("msle", "adam", 2)])
    results = tmp_path / "r"
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "aecrypt.cli",
            "sweep",
            "--profile",
            "tiny",
            "--grid",
            str(grid),
            "--workers",
            "1",
            "--results",
            str(results),
            "--no-references",
            "--quiet",
        ],
        start_new_session=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    runs_dir = paths.runs_dir("tiny", results)
    deadline = time.time() + 300
    while time.time() < deadline and not [p for p in runs_dir.glob("*") if not p.name.startswith(".")]:
        time.sleep(0.2)
    os.killpg(proc.pid, signal.SIGKILL)  # the sweep, its workers and their kernels
    proc.wait()
    done = [p for p in runs_dir.iterdir() if not p.name.startswith(".")]
    assert 1 <= len(done) < 3 and all(folder.is_complete(p) for p in done)
    report = sweep.run_sweep("tiny", grid, results_root=results, references=False)
    assert report.executed == 3 - len(done) and report.cached == len(done)
    assert list(table.collect("tiny", results)["status"]) == ["ok", "ok"]
    assert not list(runs_dir.glob(".tmp-*"))


def test_quiet_prints_nothing_and_results_rewrites_the_table(tiny_sweep):
    root, _ = tiny_sweep
    out = _cli("sweep", "--profile", "tiny", "--results", str(root), "--seeds", "2", "--quiet", timeout=300)
    assert out.returncode == 0 and "sweep" not in out.stderr
    paths.summary_csv("tiny", root).unlink()
    out = _cli("results", "--profile", "tiny", "--results", str(root), timeout=300)
    assert out.returncode == 0 and paths.summary_csv("tiny", root).is_file()


def test_a_run_made_by_hand_can_be_added(tiny_sweep, tmp_path):
    import papermill

    root, _ = tiny_sweep
    papermill.execute_notebook(
        str(paths.TEMPLATE),
        str(tmp_path / "out.ipynb"),
        progress_bar=False,
        parameters={
            "profile": "tiny",
            "loss": "mae",
            "optimizer": "rmsprop",
            "depth": 2,
            "output_dir": str(tmp_path / "my-run"),
        },
    )
    out = _cli(
        "add",
        str(tmp_path / "my-run"),
        "--profile",
        "tiny",
        "--notebook",
        str(tmp_path / "out.ipynb"),
        "--results",
        str(root),
        timeout=300,
    )
    assert out.returncode == 0, out.stderr
    summary = table.collect("tiny", root)
    added = summary[summary["label"] == "MAE+RMSprop+ReLU+2"]
    assert len(added) == 1 and added["status"].iloc[0] == "ok" and added["note"].iloc[0] == "added by hand"
    assert (paths.runs_dir("tiny", root) / added["run_id"].iloc[0] / "experiment.ipynb").is_file()
    out = _cli("add", str(tmp_path), "--profile", "tiny", "--results", str(root), timeout=300)
    assert out.returncode == 2 and "has no config.json" in out.stderr


def test_runs_whose_baseline_is_missing_keep_empty_original_columns(tiny_sweep, tmp_path):
    import shutil

    root, _ = tiny_sweep
    copy = tmp_path / "results"
    shutil.copytree(root, copy)
    summary = table.collect("tiny", copy)
    lost = summary.loc[summary["seed"] == 1, "baseline_run_id"].iloc[0]
    shutil.rmtree(paths.runs_dir("tiny", copy) / lost)  # seed 1's baseline
    again = table.collect("tiny", copy)
    assert len(again) == len(summary) and (again["status"] == "ok").all()  # the combinations themselves are fine
    seed1 = again["seed"] == 1
    assert again.loc[seed1, "original_auc"].isna().all() and again.loc[seed1, "baseline_run_id"].isna().all()
    assert again.loc[~seed1, "original_auc"].notna().all()  # seed 0's baseline is still there


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["data", "--size", "0"], "size must be a whole number ≥ 11, got 0"),
        (["data", "--n-images", "-5"], "number of images must be a whole number ≥ 2"),
        (["data", "--seed", "-1"], "data seed must be a whole number ≥ 0, got -1"),
        (["sweep", "--profile", "tiny", "--workers", "0"], "workers must be a whole number ≥ 1"),
        (["sweep", "--profile", "tiny", "--data-seed", "-1"], "data seed must be a whole number ≥ 0"),
        (["sweep", "--profile", "tiny", "--seeds", "x"], "--seeds 'x' is neither a count"),
    ],
)
def test_bad_command_line_values_are_one_line_errors(args, message, tmp_path):
    out = _cli(*args, "--results", str(tmp_path), timeout=120) if args[0] == "sweep" else _cli(*args, timeout=120)
    lines = out.stderr.strip().splitlines()
    assert out.returncode == 2 and len(lines) == 1 and lines[0].startswith("aecrypt: error: ")
    assert message in lines[0]
    assert not (tmp_path / "tiny" / "runs").exists()  # nothing ran


def test_an_unreachable_scheduler_says_how_to_start_one(tmp_path, monkeypatch):
    monkeypatch.setattr(sweep, "SCHEDULER_TIMEOUT", "1s")
    with pytest.raises(AecryptError, match=r"cannot reach a dask scheduler at tcp://127\.0\.0\.1:1 .*dask scheduler"):
        sweep.run_sweep("tiny", paths.GRIDS / "tiny.yaml", scheduler="tcp://127.0.0.1:1", results_root=tmp_path)
    assert (tmp_path / "tiny" / "plan.json").is_file()  # the plan is kept; a rerun with a scheduler continues


def test_valid_choices_are_spelled_right():
    with pytest.raises(AecryptError, match="valid losses: mse"):
        choices.validate_loss("l1")
    with pytest.raises(AecryptError, match="valid optimizers: adam"):
        choices.validate_optimizer("lbfgs")


def test_a_build_on_smaller_images_runs_every_combination_at_one_smaller_size(tmp_path):
    """PneumoniaMNIST's 28×28 under the tiny profile's 32×32: one size for the whole build, depth 5 (which
    needs a multiple of 16) skipped with the reason; runs at the profile's size keep their parameters."""
    rng = np.random.default_rng(0)
    arrays = {}
    for split, n in (("train", 60), ("val", 12), ("test", 28)):
        arrays[f"{split}_images"] = (rng.random((n, 28, 28)) * 255).astype(np.uint8)
        arrays[f"{split}_labels"] = (np.arange(n) % 2).reshape(n, 1)
    np.savez(tmp_path / "pneumoniamnist.npz", **arrays)
    grid = tmp_path / "grid.yaml"
    grid.write_text("grid: {loss: mse, optimizer: adam, depth: [2, 5], activation: relu}\n")
    data = f"medmnist:{tmp_path / 'pneumoniamnist.npz'}"

    plan = plan_sweep("tiny", grid, data)
    assert plan.size == 28 and "28×28" in plan.size_note
    assert [s.image_size for s, _ in plan.runs + plan.baselines] == [28, 28]
    assert all(s.parameters()["overrides"] == {"size": 28} for s, _ in plan.runs + plan.baselines)
    [(combo, reason)] = plan.skipped
    assert combo.depth == 5 and "does not fit 28×28" in reason and "smaller than the profile's size" in reason
    assert "overrides" not in plan_sweep("tiny", grid).runs[0][0].parameters()  # synthetic: the profile's

    report = sweep.run_sweep("tiny", grid, data, results_root=tmp_path / "results", references=False)
    assert not report.failures
    results = Results("tiny", tmp_path / "results")
    assert results.settings.size == 28 and results.ok["status"].tolist() == ["ok"]
    assert "28×28 images, not the profile's 32×32" in page.banner_text(results)
    run = results.run_dir(results.ok["run_id"].iloc[0])
    assert json.loads((run / "config.json").read_text())["profile_settings"]["size"] == 28
    assert any("not the profile's 32×32" in n for n in json.loads((run / "data.json").read_text())["notes"])
    assert "MedMNIST v2" in page.banner_text(results)  # the attribution follows the data


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["data", "--data", "nih:{tmp}?finding="], "nih: finding= has no value; give a name (e.g. finding=Pneumonia)"),
        (["data", "--data", "folder:{tmp}?negative=A&negative=B"], "negative is given 2 times; give it once"),
        (["data", "--data", "medmnist:{tmp}"], "cannot be read as .npz"),
        (["data", "--data", "synthetic", "--size", "100000"], "GiB as float32, but"),
        (["data", "--profile", "tiny", "--seed", "x"], "aecrypt data: argument --seed: invalid int value: 'x'"),
        (["nosuch"], "invalid choice: 'nosuch' (choose from"),
        (["fetch", "nih", "--parts", "1", "--to", "{tmp}/a-file"], "is a file; give a folder to download into"),
        (["fetch", "medmnist", "pneumoniamnist", "--size", "32", "--to", "{tmp}"], "invalid choice: 32"),
        (["sweep", "--profile", "tiny", "--scheduler", "notaurl", "--results", "{tmp}"], "is not a scheduler address"),
        (["sweep", "--profile", "tiny", "--scheduler", "foo://h:1", "--results", "{tmp}"], "unknown address scheme"),
        (["sweep", "--profile", "tiny", "--grid", "{tmp}", "--results", "{tmp}"], "is a folder, not a grid file"),
        (["sweep", "--profile", "tiny", "--results", "{tmp}/a-file/results"], "a-file/results/tiny: Not a directory"),
    ],
)
def test_more_bad_inputs_are_one_line_errors_that_change_nothing(args, message, tmp_path, capsys):
    """Usage errors exit 2; a folder that cannot be written is found at run time and exits 1."""
    (tmp_path / "a-file").write_text("not a folder")
    before = sorted(p.name for p in tmp_path.iterdir())
    try:
        rc = cli.main([a.format(tmp=tmp_path) for a in args])
    except SystemExit as exc:  # argparse's own usage errors
        rc = exc.code
    lines = capsys.readouterr().err.strip().splitlines()
    assert rc == (1 if "Not a directory" in message else 2), (rc, lines)
    assert len(lines) == 1 and lines[0].startswith("aecrypt: error: "), lines
    assert message in lines[0]
    assert sorted(p.name for p in tmp_path.iterdir()) == before  # nothing written, nothing lost


# --- the progress estimate ---------------------------------------------------------------------------------


def _simulated_sweep(todo, cost, workers=2):
    """(finish time, spec) of each run as `workers` take them in order, each run lasting cost(spec) s."""
    free, done = [0.0] * workers, []
    for spec, _ in todo:
        i = int(np.argmin(free))
        free[i] += cost(spec)
        done.append((free[i], spec))
    return sorted(done, key=lambda item: item[0])


def test_the_progress_estimate_weights_what_is_left_by_each_runs_cost():
    """The default sweep on two workers with its runs' measured costs (the default build's medians on a 2-core
    EPYC: depth 2 56 s, depth 3 78 s, depth 5 199 s, a baseline about 30 s): from half-way, the estimate of the
    time left is within 20 % of the truth (counting runs alone said 245 s with 430 s to go)."""
    plan = plan_sweep("default", paths.GRIDS / "paper.yaml")
    todo = sweep.costliest_first(plan.pending(Path("/nonexistent")))
    assert todo[0][0].is_baseline and todo[1][0].depth == 5 and todo[-1][0].depth == 2  # the long runs first
    kinds = [(spec.template, spec.depth) for spec, _ in todo[:4]]
    assert len(set(kinds)) == 4  # one of each kind early: a baseline, depths 5, 3, 2

    def cost(spec):
        return 30.0 if spec.is_baseline else {2: 56.0, 3: 78.0, 5: 199.0}[spec.depth]

    timeline = _simulated_sweep(todo, cost)
    progress = sweep.Progress(len(todo), (spec for spec, _ in todo))
    end = timeline[-1][0]
    for n, (when, spec) in enumerate(timeline, 1):
        progress.finished(folder.RunResult("id", spec, True, seconds=cost(spec)))
        if len(timeline) // 2 <= n <= len(timeline) - 2:  # from half-way, until the last runs are running
            assert progress.left(when) == pytest.approx(end - when, rel=0.2), n
        if n == len(timeline) // 2:
            naive = when / n * (len(timeline) - n)  # counting runs alone, as before
            assert not naive == pytest.approx(end - when, rel=0.2)
