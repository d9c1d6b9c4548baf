"""One run: its identity (a content hash), its execution (papermill, in its own kernel process)
and its result folder, written atomically.

Run id = hash of exactly what can change a run's result: its parameters, the profile's settings
(numerics included: precision policy, XLA), the template's code cells, the source of every `aecrypt`
module the template imports directly or through other modules (found from the import graph, so the
book's figures, report and build are outside it), the versions of Keras, its backend and NumPy, and
the data fingerprint. A finished run is never recomputed; a change to any of those gives a new id.
"""

from __future__ import annotations

import ast
import contextlib
import hashlib
import json
import os
import shutil
import tempfile
import time
import uuid
from dataclasses import asdict, dataclass, field
from importlib import metadata
from pathlib import Path

from . import AecryptError, choices, paths, runtime
from .choices import combination_label
from .profiles import get_profile

RUN_FILES_REQUIRED = ("metrics.json", "params.json", "history.csv", "roc.csv", "confusion.csv")
#: The notebooks a run can execute (in notebooks/): one combination, or the shared baseline.
TEMPLATES = ("experiment", "baseline")
BASELINE_PARAMETERS = ("profile", "data", "seed", "data_seed")


@dataclass(frozen=True)
class RunSpec:
    """The parameters of one run, as its template notebook takes them."""

    profile: str
    data: str
    loss: str = ""
    optimizer: str = ""
    depth: int = 0
    activation: str = "relu"
    seed: int = 0  # the training seed: initial weights and data order; varies across a build's seeds
    key_image: str = ""
    data_seed: int = 0  # phantoms, the split and the paper-cipher key: fixed per build
    with_cipher: bool = True  # False: the reference run that decodes latents without the cipher
    size: int = 0  # image side when the build's images are smaller than the profile's (0: the profile's)
    note: str = ""  # why this combination is in the grid (not hashed: it does not change the result)
    template: str = "experiment"

    @classmethod
    def baseline(cls, profile: str, data: str, seed: int, data_seed: int = 0, size: int = 0) -> RunSpec:
        """The classifier on the original images, shared by every combination of (data, profile, training
        seed, data seed) of a build."""
        return cls(profile, data, activation="", seed=seed, data_seed=data_seed, size=size, template="baseline")

    @property
    def is_baseline(self) -> bool:
        return self.template == "baseline"

    @property
    def label(self) -> str:
        """The combination (what results aggregate over seeds by); the baseline's names the images."""
        if self.is_baseline:
            return "original images"
        return combination_label(self.loss, self.optimizer, self.activation, self.depth)

    @property
    def run_label(self) -> str:
        """One run: the combination, its training seed, and "no cipher" for the reference runs."""
        extra = "" if self.with_cipher else " · no cipher"
        return f"{self.label} · seed {self.seed}{extra}"

    @property
    def image_size(self) -> int:
        return self.size or get_profile(self.profile).size

    def parameters(self) -> dict:
        """What papermill passes to the template (and what the id hashes). A smaller image size travels as
        the template's profile override, and only when set (so runs at the profile's size keep their ids)."""
        params = {k: v for k, v in asdict(self).items() if k not in ("note", "template", "size")}
        if self.is_baseline:
            params = {k: params[k] for k in BASELINE_PARAMETERS}
        return params | ({"overrides": {"size": self.size}} if self.size else {})


def template_path(name: str) -> Path:
    if name not in TEMPLATES:
        raise AecryptError(f"unknown run template {name!r}; valid: {', '.join(TEMPLATES)}")
    return paths.NOTEBOOKS / f"{name}.ipynb"


def _code_cells(template: Path) -> list[str]:
    nb = json.loads(template.read_text())
    return [
        c["source"] if isinstance(c["source"], str) else "".join(c["source"])
        for c in nb["cells"]
        if c["cell_type"] == "code"
    ]


def template_hash(template: Path = paths.TEMPLATE) -> str:
    """Hash of the template's code cells and parameters (not of its outputs or metadata)."""
    return hashlib.sha256(json.dumps(_code_cells(template)).encode()).hexdigest()


def _module_file(module: str) -> Path | None:
    """The source file of an `aecrypt` module (a package's __init__.py), or None if there is none."""
    parts = module.split(".")[1:]
    base = paths.PACKAGE.joinpath(*parts)
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


def _imports(tree: ast.AST, module: str, is_package: bool) -> set[str]:
    """`aecrypt` modules a piece of code imports, anywhere in it (function-level imports included).
    `from X import name` counts X.name when that is a module, else X."""
    package = module if is_package else module.rpartition(".")[0]
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                anchor = package.split(".")
                anchor = anchor[: len(anchor) - (node.level - 1)]
                base = ".".join(anchor + ([node.module] if node.module else []))
            else:
                base = node.module or ""
            found.add(base)
            found |= {f"{base}.{a.name}" for a in node.names}
    return {name for name in found if name.split(".")[0] == "aecrypt" and _module_file(name)}


def _with_parents(module: str) -> set[str]:
    """Importing a.b.c runs a/__init__ and a/b/__init__ first."""
    parts = module.split(".")
    return {".".join(parts[:i]) for i in range(1, len(parts) + 1)}


def imported_modules(template: Path = paths.TEMPLATE) -> list[str]:
    """Every `aecrypt` module the template's code imports, directly or through other modules."""
    todo = set()
    for cell in _code_cells(template):
        try:
            tree = ast.parse(cell)
        except SyntaxError:  # IPython magics: their imports are not followed
            continue
        todo |= _imports(tree, "__main__", False)
    seen: set[str] = set()
    while todo:
        module = todo.pop()
        for name in _with_parents(module) - seen:
            seen.add(name)
            source = _module_file(name)
            todo |= _imports(ast.parse(source.read_text()), name, source.name == "__init__.py") - seen
    return sorted(seen)


def _code_only(source: str) -> str:
    """The code of a module without comments, docstrings or layout (its AST), which is what can change a
    result: rewording a docstring or reformatting a module reruns nothing."""
    tree = ast.parse(source)
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        if isinstance(body, list) and body and isinstance(body[0], ast.Expr):
            value = body[0].value
            if isinstance(value, ast.Constant) and isinstance(value.value, str):
                node.body = body[1:] or [ast.Pass()]
    return ast.dump(tree)


def source_hash(template: Path = paths.TEMPLATE) -> str:
    """Hash of the code of every `aecrypt` module the template imports (the import graph)."""
    h = hashlib.sha256()
    for module in imported_modules(template):
        source = _module_file(module)
        h.update(source.relative_to(paths.PACKAGE).as_posix().encode())
        h.update(_code_only(source.read_text()).encode())
    return h.hexdigest()


def _version(package: str) -> str:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return "not installed"


def numerics_versions() -> dict[str, str]:
    """Versions that can change a run's numbers: Keras, its backend (named by KERAS_BACKEND, default
    tensorflow) and NumPy. Read from package metadata, so planning a sweep imports none of them."""
    backend = os.environ.get("KERAS_BACKEND", "tensorflow")
    backend_package = {"jax": "jax", "torch": "torch", "tensorflow": "tensorflow"}.get(backend, backend)
    return {
        "keras": _version("keras"),
        "backend": backend,
        backend: _version(backend_package),
        "numpy": _version("numpy"),
    }


def data_fingerprint(spec: RunSpec) -> str:
    """Synthetic data is a pure function of (size, count, data seed) and the generator's source, which the
    source hash covers; real data is hashed by content."""
    p = get_profile(spec.profile)
    if spec.data == "synthetic":
        key = ["synthetic", spec.image_size, p.n_images, spec.data_seed]
        return hashlib.sha256(json.dumps(key).encode()).hexdigest()[:16]
    from .data import load_dataset

    return load_dataset(spec.data, spec.image_size, p.n_images, spec.data_seed).fingerprint


@dataclass(frozen=True)
class Fingerprints:
    """The inputs shared by every run of a sweep, computed once: per template, its code and the source
    of the modules it imports; and the numerics versions."""

    templates: dict[str, tuple[str, str]]  # name -> (template code hash, imported source hash)
    versions: dict[str, str]

    @classmethod
    def now(cls, template: Path | None = None) -> Fingerprints:
        """`template` replaces notebooks/experiment.ipynb (tests)."""
        found = {}
        for name in TEMPLATES:
            path = template if (template and name == "experiment") else template_path(name)
            found[name] = (template_hash(path), source_hash(path))
        return cls(found, numerics_versions())


def run_id(spec: RunSpec, fingerprints: Fingerprints, data_fp: str) -> str:
    code, source = fingerprints.templates[spec.template]
    payload = {
        "template": spec.template,
        "parameters": spec.parameters(),
        "profile": get_profile(spec.profile).run_settings(),
        "template_code": code,
        "source": source,
        "versions": fingerprints.versions,
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
            with runtime.stderr_to(log) if capture_stderr else contextlib.nullcontext():
                papermill.execute_notebook(
                    str(template),
                    str(scratch / "experiment.ipynb"),
                    parameters=params,
                    kernel_name="python3",
                    # C-level output (TensorFlow's start-up log) goes to kernel.log, not into the notebook
                    extra_arguments=["--IPKernelApp.capture_fd_output=False"],
                    # the notebook has written its files; a graceful kernel shutdown only adds ~1 s per run
                    shutdown_kernel="immediate",
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
    params = result.spec.parameters() | {
        "label": result.spec.label,
        "run_label": result.spec.run_label,
        "note": result.spec.note,
        "run_id": result.run_id,
    }
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
    overrides = dict(cfg.get("overrides") or {})
    size = int(overrides.pop("size", 0))  # the build's smaller image size is a setting a sweep makes too
    if overrides:
        raise AecryptError(
            f"{folder} was run with profile overrides {cfg['overrides']}: its numbers are not comparable with the "
            f"{cfg['profile']!r} sweep; rerun it without overrides (other than size) to add it"
        )
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
        seed=int(cfg["seed"]),
        key_image=cfg.get("key_image", ""),
        data_seed=int(cfg.get("data_seed", 0)),
        with_cipher=bool(cfg.get("with_cipher", True)),
        size=size,
        note="added by hand",
    )
