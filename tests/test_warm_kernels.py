"""Warm kernels (runs.kernels): a run executed in a kernel that has just run another run gives bit-for-bit the
numbers of the same run in a fresh kernel (the design's condition for a warm worker), and a kernel that dies is
replaced for the next run."""

from __future__ import annotations

import io
import json

import nbformat
import pandas as pd
import pytest

from aecrypt import profiles
from aecrypt.runs import kernels
from aecrypt.runs.execute import compute_run
from aecrypt.runs.spec import RunSpec, template_path

TINY = profiles.get_profile("tiny")
#: What a run measures of its machine rather than computes: seconds and memory.
MACHINE = ("second", "rss")


def numbers(result) -> dict:
    """Every value a run computes: its metrics (timings and memory left out), its training histories without
    their seconds, and its classifier's test scores."""
    metrics = json.loads(result.files["metrics.json"])
    history = pd.read_csv(io.BytesIO(result.files["history.csv"])).drop(columns="seconds")
    return {
        "metrics": {k: v for k, v in metrics.items() if not any(m in k for m in MACHINE)},
        "history": history.astype(object).where(history.notna(), "nan").to_dict("list"),  # NaN == NaN
        "scores": result.files["scores.csv"],
    }


@pytest.fixture
def fresh_worker():
    """This test process as a worker with no warm kernel yet, and none left behind."""
    for threads in list(kernels._KERNELS):
        kernels.discard(threads)
    yield
    for threads in list(kernels._KERNELS):
        kernels.discard(threads)


def test_a_run_after_another_in_a_warm_kernel_is_bit_for_bit_the_run_in_a_fresh_one(fresh_worker):
    text = template_path("experiment").read_text()
    first = RunSpec(TINY, "synthetic", loss="mse", optimizer="adagrad", depth=2, seed=1)
    second = RunSpec(TINY, "synthetic", loss="msle", optimizer="rmsprop", depth=3, seed=0)
    alone = compute_run(second, "alone", text, 1, warm=False)
    before = compute_run(first, "before", text, 1)
    kernel = kernels._KERNELS[1].provisioner.pid
    after = compute_run(second, "after", text, 1)
    assert alone.ok and before.ok and after.ok, (alone.error, before.error, after.error)
    assert kernels._KERNELS[1].provisioner.pid == kernel  # the same kernel ran both
    warm, fresh = numbers(after), numbers(alone)
    assert len(warm["metrics"]) > 30
    assert warm == fresh
    # the clock starts at the run, not at the kernel's launch; each run's log is its own
    assert (
        json.loads(after.files["metrics.json"])["seconds_startup"]
        < json.loads(alone.files["metrics.json"])["seconds_startup"]
    )
    assert b"cudart_stub" in before.files["kernel.log"] and b"cudart_stub" not in after.files["kernel.log"]


def _notebook(*cells: str) -> str:
    kernelspec = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb = nbformat.v4.new_notebook(metadata={"kernelspec": kernelspec, "language_info": {"name": "python"}})
    nb.cells = [nbformat.v4.new_code_cell("output_dir = ''\nthreads = 0", metadata={"tags": ["parameters"]})]
    nb.cells += [nbformat.v4.new_code_cell(c) for c in cells]
    return nbformat.writes(nb)


def test_a_kernel_that_dies_in_a_run_is_replaced_for_the_next(fresh_worker):
    spec = RunSpec(TINY, "synthetic", loss="mse", optimizer="adam", depth=2)
    dies = compute_run(spec, "dies", _notebook("import os, signal", "os.kill(os.getpid(), signal.SIGKILL)"), 1)
    assert not dies.ok and "DeadKernelError" in dies.error
    assert 1 not in kernels._KERNELS
    lives = compute_run(spec, "lives", _notebook("import os", "print(os.getcwd())"), 1)
    assert lives.error == "the notebook finished without writing its result files"  # it ran to its end
    out = nbformat.reads(lives.files["experiment.ipynb"].decode(), 4).cells[-1].outputs[0]["text"]
    assert "aecrypt-lives-" in out  # in its own scratch folder
