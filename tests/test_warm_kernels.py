"""Warm kernels (runs.kernels): a run executed in a kernel that has just run another run gives bit-for-bit the
numbers of the same run in a fresh kernel (the design's condition for a warm worker), and a kernel that dies is
replaced for the next run; a book page after another in a warm kernel sees nothing of it and gives what a fresh
kernel gives; a forked process shuts its kernel down when it leaves."""

from __future__ import annotations

import io
import json
import os
import tempfile

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


def _page(*cells: str) -> nbformat.NotebookNode:
    return nbformat.v4.new_notebook(
        cells=[nbformat.v4.new_code_cell(c) for c in cells],
        metadata={"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}},
    )


def test_a_page_after_another_in_a_warm_kernel_sees_nothing_of_it_and_gives_what_a_fresh_kernel_gives(
    fresh_worker, tmp_path
):
    from jupyter_cache.executors.utils import single_nb_execution

    from aecrypt.book.build import _execute_in_warm_kernel

    first_dir, second_dir = tmp_path / "first", tmp_path / "second"
    first_dir.mkdir(), second_dir.mkdir()
    before = _page("import json\nleft = 'by the page before'", "left")
    reads = ["import os\nprint(os.getcwd())", "print(sorted(k for k in dir() if not k.startswith('_')))", "1 + 1"]
    result = _execute_in_warm_kernel(before, str(first_dir), timeout=120, allow_errors=False)
    assert result.err is None and result.nb.cells[1].outputs[0]["data"]["text/plain"] == "'by the page before'"
    kernel = kernels._KERNELS[kernels.PAGES].provisioner.pid
    warm = _execute_in_warm_kernel(_page(*reads), str(second_dir), timeout=120, allow_errors=False)
    assert kernels._KERNELS[kernels.PAGES].provisioner.pid == kernel  # the same kernel ran both pages
    fresh = single_nb_execution(_page(*reads), str(second_dir), timeout=120, allow_errors=False)
    assert warm.err is None and fresh.err is None
    outputs = [[{k: v for k, v in out.items()} for out in cell.outputs] for cell in warm.nb.cells]
    assert outputs == [[{k: v for k, v in out.items()} for out in cell.outputs] for cell in fresh.nb.cells]
    assert outputs[0][0]["text"].strip() == str(second_dir)  # in the page's own folder
    assert "left" not in outputs[1][0]["text"] and "json" not in outputs[1][0]["text"]  # nothing of the last page's
    assert [cell.execution_count for cell in warm.nb.cells] == [1, 2, 3]  # numbered as in a fresh kernel


def _start_a_kernel(send) -> None:
    send.send(kernels.kernel(kernels.PAGES).home.name)


def test_a_forked_process_shuts_its_kernel_down_when_it_leaves(fresh_worker):
    """Sphinx reads the pages in forked processes, which leave without atexit: each shuts its own kernel down
    (its folder is removed with it; a kernel left behind would only die, later, by its parent poller)."""
    import multiprocessing

    kernels._close_with_process()  # as a process that has run a kernel before forking has registered itself
    context = multiprocessing.get_context("fork")
    receive, send = context.Pipe(duplex=False)
    child = context.Process(target=_start_a_kernel, args=(send,))
    child.start()
    home = receive.recv()
    child.join(60)
    assert child.exitcode == 0 and home.startswith(tempfile.gettempdir())
    assert not os.path.exists(home)
