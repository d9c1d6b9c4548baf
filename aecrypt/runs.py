"""One run: its identity (a content hash), its execution (papermill, in its own kernel process)
and its result folder, written atomically.

Run id = hash(parameters, profile settings, template notebook, aecrypt source, data fingerprint).
A finished run is never recomputed; any change to those inputs gives a new id.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import sys
import tempfile
import time
import uuid
from dataclasses import asdict, dataclass, field
from pathlib import Path

from . import AecryptError, choices, paths
from .profiles import get_profile

RUN_FILES_REQUIRED = ("metrics.json", "params.json", "history.csv", "roc.csv", "confusion.csv")


def combination_label(loss: str, optimizer: str, activation: str, depth: int) -> str:
    """The paper's way of naming a combination, e.g. MSLE+Adagrad+ReLU+2."""
    opt = {
        "adam": "Adam",
        "adagrad": "Adagrad",
        "rmsprop": "RMSprop",
        "sgd": "SGD",
        "adamw": "AdamW",
        "nadam": "Nadam",
    }.get(optimizer, optimizer)
    act = {"relu": "ReLU", "elu": "ELU", "selu": "SELU", "gelu": "GELU"}.get(activation, activation.capitalize())
    return f"{loss.upper()}+{opt}+{act}+{depth}"


@dataclass(frozen=True)
class RunSpec:
    """The parameters of one run, as the template notebook takes them."""

    profile: str
    data: str
    loss: str
    optimizer: str
    depth: int
    activation: str = "relu"
    seed: int = 0
    key_image: str = ""
    note: str = ""  # why this combination is in the grid (not hashed: it does not change the result)

    @property
    def label(self) -> str:
        return combination_label(self.loss, self.optimizer, self.activation, self.depth)

    def parameters(self) -> dict:
        return {k: v for k, v in asdict(self).items() if k != "note"}


def _hash_files(files: list[Path], root: Path) -> str:
    h = hashlib.sha256()
    for f in sorted(files):
        h.update(f.relative_to(root).as_posix().encode())
        h.update(f.read_bytes())
    return h.hexdigest()


def source_hash() -> str:
    """Hash of the aecrypt package source (every .py and the style file)."""
    files = [p for p in paths.PACKAGE.rglob("*") if p.suffix in (".py", ".mplstyle") and "__pycache__" not in p.parts]
    return _hash_files(files, paths.PACKAGE)


def template_hash(template: Path = paths.TEMPLATE) -> str:
    """Hash of the template's code cells and parameters (not of its outputs or metadata)."""
    nb = json.loads(template.read_text())
    code = [
        c["source"] if isinstance(c["source"], str) else "".join(c["source"])
        for c in nb["cells"]
        if c["cell_type"] == "code"
    ]
    return hashlib.sha256(json.dumps(code).encode()).hexdigest()


def data_fingerprint(spec: RunSpec) -> str:
    """Synthetic data is a pure function of (size, count, seed) and the generator's source, which the
    source hash covers; real data is hashed by content."""
    p = get_profile(spec.profile)
    if spec.data == "synthetic":
        return hashlib.sha256(json.dumps(["synthetic", p.size, p.n_images, spec.seed]).encode()).hexdigest()[:16]
    from .data import load_dataset

    return load_dataset(spec.data, p.size, p.n_images, spec.seed).fingerprint


@dataclass(frozen=True)
class Fingerprints:
    """The inputs shared by every run of a sweep, computed once."""

    source: str
    template: str

    @classmethod
    def now(cls, template: Path = paths.TEMPLATE) -> Fingerprints:
        return cls(source_hash(), template_hash(template))


def run_id(spec: RunSpec, fingerprints: Fingerprints, data_fp: str) -> str:
    payload = {
        "parameters": spec.parameters(),
        "profile": get_profile(spec.profile).to_dict(),
        "source": fingerprints.source,
        "template": fingerprints.template,
        "data": data_fp,
    }
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()[:16]


@dataclass
class RunResult:
    """What a worker sends back: the run folder's files as bytes (so no shared file system is needed)."""

    run_id: str
    spec: RunSpec
    ok: bool
    files: dict[str, bytes] = field(default_factory=dict)
    error: str = ""
    seconds: float = 0.0
    host: str = ""


@contextlib.contextmanager
def _stderr_to(path: Path):
    """Send this process's stderr (and so the kernel's, which inherits it) to a file."""
    sys.stderr.flush()
    saved = os.dup(2)
    with open(path, "wb") as log:
        os.dup2(log.fileno(), 2)
        try:
            yield
        finally:
            sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)


def compute_run(
    spec: RunSpec, rid: str, template_text: str, threads: int | None = 1, capture_stderr: bool = True
) -> RunResult:
    """Execute the template for one run in a scratch folder and return its files. Runs anywhere
    aecrypt is installed (a local worker process or a dask worker). The kernel's stderr (TensorFlow's
    start-up chatter, warnings) goes to kernel.log in the run folder when `capture_stderr`."""
    import papermill
    from papermill.exceptions import PapermillExecutionError

    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix=f"aecrypt-{rid}-") as scratch:
        scratch = Path(scratch)
        template = scratch / "template.ipynb"
        template.write_text(template_text)
        out_dir = scratch / "run"
        params = spec.parameters() | {"output_dir": str(out_dir), "threads": threads or 0}
        error = ""
        log = scratch / "kernel.log"
        try:
            with _stderr_to(log) if capture_stderr else contextlib.nullcontext():
                papermill.execute_notebook(
                    str(template),
                    str(scratch / "experiment.ipynb"),
                    parameters=params,
                    kernel_name="python3",
                    # C-level output (TensorFlow's start-up log) goes to kernel.log, not into the notebook
                    extra_arguments=["--IPKernelApp.capture_fd_output=False"],
                    progress_bar=False,
                    log_output=False,
                    cwd=str(scratch),
                )
        except PapermillExecutionError as exc:
            error = f"{exc.ename}: {exc.evalue}"
        except Exception as exc:  # a dead kernel, a missing package: record it, never stop the sweep
            error = f"{type(exc).__name__}: {exc}"
        files = {}
        if out_dir.is_dir():
            files = {p.relative_to(out_dir).as_posix(): p.read_bytes() for p in out_dir.rglob("*") if p.is_file()}
        for name in ("experiment.ipynb", "kernel.log"):
            if (scratch / name).is_file():
                files[name] = (scratch / name).read_bytes()
    ok = not error and all(name in files for name in RUN_FILES_REQUIRED if name != "params.json")
    if not error and not ok:
        error = "the notebook finished without writing its result files"
    return RunResult(rid, spec, ok, files, error, time.perf_counter() - started, os.uname().nodename)


def store_run(result: RunResult, profile_dir: Path) -> Path:
    """Write a finished run atomically: into a temporary folder, then one rename. A failed run goes
    to failed/<id>/ (kept for its notebook and error) and is retried by the next sweep."""
    params = result.spec.parameters() | {"label": result.spec.label, "note": result.spec.note, "run_id": result.run_id}
    status = {"ok": result.ok, "error": result.error, "seconds": result.seconds, "host": result.host}
    target = profile_dir / ("runs" if result.ok else "failed") / result.run_id
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.parent / f".tmp-{result.run_id}-{uuid.uuid4().hex[:8]}"
    tmp.mkdir()
    for name, content in result.files.items():
        (tmp / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp / name).write_bytes(content)
    (tmp / "params.json").write_text(json.dumps(params, indent=2))
    (tmp / "status.json").write_text(json.dumps(status, indent=2))
    if target.exists():
        shutil.rmtree(target)
    os.replace(tmp, target)
    if result.ok:  # an earlier failure of the same run is now obsolete
        shutil.rmtree(profile_dir / "failed" / result.run_id, ignore_errors=True)
    return target


def is_complete(run_dir: Path) -> bool:
    return all((run_dir / name).is_file() for name in RUN_FILES_REQUIRED)


def clean_partial(profile_dir: Path) -> int:
    """Remove temporary folders left by a killed sweep; return how many."""
    removed = 0
    for parent in (profile_dir / "runs", profile_dir / "failed"):
        for tmp in parent.glob(".tmp-*") if parent.is_dir() else []:
            shutil.rmtree(tmp, ignore_errors=True)
            removed += 1
    return removed


def spec_from_run_folder(folder: Path) -> RunSpec:
    """Recover the spec of a run made by hand (papermill ... -p output_dir FOLDER) from its config.json."""
    config = folder / "config.json"
    if not config.is_file():
        raise AecryptError(
            f"{folder} is not a finished run: it has no config.json (the template's last cell writes it)"
        )
    cfg = json.loads(config.read_text())
    missing = [n for n in RUN_FILES_REQUIRED if n != "params.json" and not (folder / n).is_file()]
    if missing:
        raise AecryptError(f"{folder} lacks {missing}; rerun the notebook to the end")
    choices.validate_loss(cfg["loss"])
    return RunSpec(
        cfg["profile"],
        cfg["data"],
        cfg["loss"],
        cfg["optimizer"],
        int(cfg["depth"]),
        cfg["activation"],
        int(cfg["seed"]),
        cfg.get("key_image", ""),
        note="added by hand",
    )
