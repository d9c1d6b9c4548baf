"""Executing one run: the template notebook through papermill, in a scratch folder, in the worker's warm kernel
(`runs.kernels`) or a fresh kernel process of its own; its files come back as bytes, so a worker needs no shared
file system."""

from __future__ import annotations

import contextlib
import os
import tempfile
import time
from pathlib import Path

from aecrypt import runtime
from aecrypt.paths import RUN_FILES
from aecrypt.runs import kernels
from aecrypt.runs.folder import RunResult, files_of
from aecrypt.runs.spec import RunSpec


def compute_run(
    spec: RunSpec,
    rid: str,
    template_text: str,
    threads: int | None = 1,
    capture_stderr: bool = True,
    warm: bool | None = None,
) -> RunResult:
    """Execute the template for one run in a scratch folder and return its files. Runs anywhere
    aecrypt is installed (a local worker process or a dask worker). The kernel's stderr (TensorFlow's
    start-up chatter, warnings) goes to kernel.log in the run folder when `capture_stderr`. With `warm` the run
    goes to this worker's kernel for `threads` (reset first, `runs.kernels`), else to a kernel of its own; None:
    warm unless AECRYPT_FRESH_KERNELS=1."""
    import papermill
    from papermill.exceptions import PapermillExecutionError

    started, started_wall = time.perf_counter(), time.time()
    warm = kernels.wanted() if warm is None else warm
    with tempfile.TemporaryDirectory(prefix=f"aecrypt-{rid}-") as scratch:
        scratch = Path(scratch)
        template = scratch / "template.ipynb"
        template.write_text(template_text)
        out_dir = scratch / "run"
        params = spec.parameters() | {"output_dir": str(out_dir), "threads": threads or 0}
        error = ""
        log = scratch / RUN_FILES.kernel_log
        execute = dict(
            parameters=params,
            kernel_name="python3",
            # the notebook has written its files; a graceful kernel shutdown only adds ~1 s per run
            shutdown_kernel="immediate",
            progress_bar=False,
            log_output=False,
            cwd=str(scratch),
        )
        try:
            if warm:
                execute["km"] = _warm_kernel(threads or 0, scratch, log if capture_stderr else None, started_wall)
                redirect = contextlib.nullcontext()
            else:
                # C-level output (TensorFlow's start-up log) goes to kernel.log, not into the notebook
                execute["extra_arguments"] = kernels.KERNEL_ARGUMENTS
                redirect = runtime.stderr_to(log) if capture_stderr else contextlib.nullcontext()
            with redirect:
                papermill.execute_notebook(str(template), str(scratch / RUN_FILES.notebook), **execute)
        except PapermillExecutionError as exc:
            error = f"{exc.ename}: {exc.evalue}"
        except Exception as exc:  # a dead kernel, a missing package: record it, never stop the sweep
            error = f"{type(exc).__name__}: {exc}"
            if warm:
                kernels.discard(threads or 0)  # the next run starts a fresh kernel
        files = files_of(out_dir) if out_dir.is_dir() else {}
        for name in (RUN_FILES.notebook, RUN_FILES.kernel_log):
            if (scratch / name).is_file():
                files[name] = (scratch / name).read_bytes()
    result = RunResult(rid, spec, False, files, error, time.perf_counter() - started, os.uname().nodename)
    result.ok = not error and result.has_required_files
    if not error and not result.ok:
        result.error = "the notebook finished without writing its result files"
    return result


def _warm_kernel(threads: int, scratch: Path, log: Path | None, started: float) -> kernels.WarmKernel:
    """This worker's kernel, reset for a run in `scratch`."""
    return kernels.ready(threads, lambda warm: warm.begin_run(str(scratch), str(log or ""), started))
