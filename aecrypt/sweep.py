"""Grids, the sweep (process pool or dask.distributed), progress, and the results table."""

from __future__ import annotations

import itertools
import json
import os
import sys
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field
from multiprocessing import get_context
from pathlib import Path

import pandas as pd
import yaml

from . import AecryptError, choices, paths, runs
from .data import parse_spec
from .profiles import get_profile

GRID_TOP_KEYS = {"name", "description", "grid", "extra"}
COMBINATION_KEYS = {"loss", "optimizer", "depth", "activation"}
EXTRA_KEYS = COMBINATION_KEYS | {"note", "key_image", "seed"}
VALIDATORS: dict[str, Callable] = {
    "loss": choices.validate_loss,
    "optimizer": choices.validate_optimizer,
    "activation": choices.validate_activation,
}


@dataclass(frozen=True)
class Combination:
    loss: str
    optimizer: str
    depth: int
    activation: str
    note: str = ""
    key_image: str = ""
    seed: int | None = None


@dataclass
class Grid:
    name: str
    description: str
    combinations: list[Combination]


def _check_value(key: str, value, where: str, problems: list[str]) -> None:
    if key == "depth":
        if not isinstance(value, int) or value not in choices.DEPTHS:
            problems.append(f"{where}: depth {value!r} is not one of {list(choices.DEPTHS)}")
        return
    try:
        VALIDATORS[key](value)
    except AecryptError as exc:
        problems.append(f"{where}: {exc}")


def load_grid(path: str | Path) -> Grid:
    """Read and validate a grid file; every problem is reported at once, before anything runs."""
    path = Path(path)
    if not path.is_file():
        available = sorted(p.name for p in paths.GRIDS.glob("*.yaml"))
        raise AecryptError(f"grid file {path} does not exist; grids in {paths.GRIDS}: {available}")
    try:
        raw = yaml.safe_load(path.read_text()) or {}
    except yaml.YAMLError as exc:
        raise AecryptError(f"grid file {path} is not valid YAML: {exc}") from None
    problems: list[str] = []
    if not isinstance(raw, dict):
        raise AecryptError(f"grid file {path} must be a mapping with keys {sorted(GRID_TOP_KEYS)}")
    if unknown := set(raw) - GRID_TOP_KEYS:
        problems.append(f"unknown top-level key(s) {sorted(unknown)}; valid: {sorted(GRID_TOP_KEYS)}")
    combos: list[Combination] = []
    grid = raw.get("grid") or {}
    if grid:
        if unknown := set(grid) - COMBINATION_KEYS:
            problems.append(f"grid: unknown key(s) {sorted(unknown)}; valid: {sorted(COMBINATION_KEYS)}")
        if missing := COMBINATION_KEYS - set(grid):
            problems.append(f"grid: missing key(s) {sorted(missing)}")
        for key in COMBINATION_KEYS & set(grid):
            values = grid[key] if isinstance(grid[key], list) else [grid[key]]
            if not values:
                problems.append(f"grid: {key} has no values")
            for v in values:
                _check_value(key, v, f"grid.{key}", problems)
        if not problems:
            keys = ("loss", "optimizer", "depth", "activation")
            lists = [grid[k] if isinstance(grid[k], list) else [grid[k]] for k in keys]
            combos += [
                Combination(str(lo).lower(), str(o).lower(), d, str(a).lower())
                for lo, o, d, a in itertools.product(*lists)
            ]
    for i, entry in enumerate(raw.get("extra") or []):
        where = f"extra[{i}]"
        if not isinstance(entry, dict):
            problems.append(f"{where}: must be a mapping with keys {sorted(COMBINATION_KEYS)}")
            continue
        if unknown := set(entry) - EXTRA_KEYS:
            problems.append(f"{where}: unknown key(s) {sorted(unknown)}; valid: {sorted(EXTRA_KEYS)}")
        if missing := COMBINATION_KEYS - set(entry):
            problems.append(f"{where}: missing key(s) {sorted(missing)}")
            continue
        for key in COMBINATION_KEYS:
            _check_value(key, entry[key], where, problems)
        combos.append(
            Combination(
                str(entry["loss"]).lower(),
                str(entry["optimizer"]).lower(),
                entry["depth"],
                str(entry["activation"]).lower(),
                str(entry.get("note", "")),
                str(entry.get("key_image", "")),
                entry.get("seed"),
            )
        )
    if not combos and not problems:
        problems.append("the grid has no combinations: give `grid:` lists and/or `extra:` entries")
    if problems:
        raise AecryptError(f"grid file {path} has {len(problems)} problem(s):\n  - " + "\n  - ".join(problems))
    unique = list(dict.fromkeys(combos))
    return Grid(str(raw.get("name", path.stem)), str(raw.get("description", "")), unique)


def resolve_data(spec: str) -> str:
    """Absolute, normalised data spec (run notebooks execute in scratch folders)."""
    return str(parse_spec(spec))


@dataclass
class Plan:
    profile: str
    data: str
    grid: Grid
    runs: list[tuple[runs.RunSpec, str]]  # (spec, run id), in grid order
    skipped: list[tuple[Combination, str]] = field(default_factory=list)
    baselines: list[tuple[runs.RunSpec, str]] = field(default_factory=list)  # one per seed, shared

    def pending(self, profile_dir: Path) -> list[tuple[runs.RunSpec, str]]:
        """Baselines and runs without a complete folder: what a sweep would execute (baselines first)."""
        return [(s, rid) for s, rid in self.baselines + self.runs if not runs.is_complete(profile_dir / "runs" / rid)]

    def to_json(self) -> str:
        return json.dumps(
            {
                "profile": self.profile,
                "data": self.data,
                "grid": self.grid.name,
                "grid_description": self.grid.description,
                "runs": [
                    {"run_id": rid, **spec.parameters(), "note": spec.note, "label": spec.label}
                    for spec, rid in self.runs
                ],
                "baselines": [{"run_id": rid, **spec.parameters()} for spec, rid in self.baselines],
                "skipped": [
                    {
                        "label": runs.combination_label(c.loss, c.optimizer, c.activation, c.depth),
                        "loss": c.loss,
                        "optimizer": c.optimizer,
                        "depth": c.depth,
                        "activation": c.activation,
                        "note": c.note,
                        "reason": reason,
                    }
                    for c, reason in self.skipped
                ],
            },
            indent=2,
        )


def plan_sweep(
    profile: str, grid_path: str | Path, data: str | None = None, seed: int = 0, template: Path | None = None
) -> Plan:
    """Validate everything and compute every run id, before anything runs."""
    p = get_profile(profile)
    grid = load_grid(grid_path)
    data_spec = resolve_data(data or p.default_data)
    fingerprints = runs.Fingerprints.now(template)
    planned, skipped = [], []
    data_fps: dict[int, str] = {}
    for c in grid.combinations:
        if c.depth not in choices.valid_depths(p.size):
            skipped.append(
                (
                    c,
                    f"depth {c.depth} does not fit {p.size}×{p.size} images "
                    f"(valid depths: {choices.valid_depths(p.size)})",
                )
            )
            continue
        key_image = str(Path(c.key_image).resolve()) if c.key_image else ""
        run_seed = seed if c.seed is None else int(c.seed)
        spec = runs.RunSpec(profile, data_spec, c.loss, c.optimizer, c.depth, c.activation, run_seed, key_image, c.note)
        if run_seed not in data_fps:
            data_fps[run_seed] = runs.data_fingerprint(spec)
        planned.append((spec, runs.run_id(spec, fingerprints, data_fps[run_seed])))
    baselines = []
    for run_seed, data_fp in data_fps.items():
        spec = runs.RunSpec.baseline(profile, data_spec, run_seed)
        baselines.append((spec, runs.run_id(spec, fingerprints, data_fp)))
    return Plan(profile, data_spec, grid, planned, skipped, baselines)


class Progress:
    """One line per finished run: done/total, elapsed, estimate of what is left."""

    def __init__(self, total: int, quiet: bool = False, stream=sys.stderr):
        self.total, self.quiet, self.stream = total, quiet, stream
        self.done, self.started = 0, time.perf_counter()

    def say(self, text: str) -> None:
        if not self.quiet:
            print(text, file=self.stream, flush=True)

    def finished(self, result: runs.RunResult) -> None:
        self.done += 1
        elapsed = time.perf_counter() - self.started
        left = elapsed / self.done * (self.total - self.done)
        state = "ok" if result.ok else f"FAILED ({result.error.splitlines()[0][:120]})"
        self.say(
            f"[{self.done}/{self.total}] {result.spec.label} {state} in {result.seconds:.0f} s · "
            f"elapsed {elapsed:.0f} s · ~{left:.0f} s left"
        )


def _local_results(todo, texts: dict[str, str], workers: int, threads: int) -> Iterable[runs.RunResult]:
    # spawn, not fork: a forked copy of a process that imported TensorFlow or zmq is not safe
    with ProcessPoolExecutor(max_workers=workers, mp_context=get_context("spawn")) as pool:
        futures = [pool.submit(runs.compute_run, spec, rid, texts[spec.template], threads) for spec, rid in todo]
        for future in as_completed(futures):
            yield future.result()


def _dask_results(todo, texts: dict[str, str], scheduler: str, threads: int) -> Iterable[runs.RunResult]:
    from dask.distributed import Client
    from dask.distributed import as_completed as dask_completed

    with Client(scheduler) as client:
        futures = [
            client.submit(
                runs.compute_run, spec, rid, texts[spec.template], threads, False, pure=False, key=f"run-{rid}"
            )
            for spec, rid in todo
        ]
        for future in dask_completed(futures):
            yield future.result()


def default_workers() -> int:
    return max(1, (os.cpu_count() or 1))


@dataclass
class SweepReport:
    plan: Plan
    executed: int
    cached: int
    failures: list[tuple[str, str]]  # (label, error)
    seconds: float
    summary_path: Path


def run_sweep(
    profile: str,
    grid_path: str | Path,
    data: str | None = None,
    workers: int | None = None,
    scheduler: str | None = None,
    quiet: bool = False,
    results_root: Path | None = None,
    seed: int = 0,
    threads: int | None = None,
) -> SweepReport:
    started = time.perf_counter()
    plan = plan_sweep(profile, grid_path, data, seed)
    pdir = paths.profile_dir(profile, results_root)
    pdir.mkdir(parents=True, exist_ok=True)
    runs.clean_partial(pdir)
    todo = plan.pending(pdir)
    n_all = len(plan.runs) + len(plan.baselines)
    workers = workers or min(default_workers(), max(1, len(todo)))
    threads = threads or max(1, (os.cpu_count() or 1) // workers)
    progress = Progress(len(todo), quiet)
    where = f"dask scheduler {scheduler}" if scheduler else f"{workers} local worker(s) × {threads} thread(s)"
    progress.say(
        f"sweep {plan.grid.name} · profile {profile} · data {plan.data}: {len(plan.runs)} run(s) + "
        f"{len(plan.baselines)} shared baseline(s), {n_all - len(todo)} cached, "
        + (f"{len(todo)} to run on {where}" if todo else "nothing to run")
        + (f"; {len(plan.skipped)} skipped" if plan.skipped else "")
    )
    for combo, reason in plan.skipped:
        progress.say(f"  skipped {combo.loss}+{combo.optimizer}+{combo.activation}+{combo.depth}: {reason}")
    (pdir / "plan.json").write_text(plan.to_json())
    failures = []
    if todo:
        texts = {name: runs.template_path(name).read_text() for name in runs.TEMPLATES}
        if scheduler:
            results = _dask_results(todo, texts, scheduler, threads)
        else:
            results = _local_results(todo, texts, workers, threads)
        for result in results:
            runs.store_run(result, pdir)
            if not result.ok:
                failures.append((result.spec.label, result.error))
            progress.finished(result)
    summary_path = write_summary(profile, results_root)
    report = SweepReport(plan, len(todo), n_all - len(todo), failures, time.perf_counter() - started, summary_path)
    progress.say(
        f"done in {report.seconds:.0f} s: {report.executed} executed, {report.cached} cached, "
        f"{len(failures)} failed · table: {summary_path}"
    )
    return report


def _read_json(path: Path) -> dict:
    return json.loads(path.read_text()) if path.is_file() else {}


def collect(profile: str, results_root: Path | None = None) -> pd.DataFrame:
    """One row per planned combination (from plan.json, in grid order) plus runs added by hand:
    parameters, status (ok / failed / missing / skipped), error, and every metric."""
    pdir = paths.profile_dir(profile, results_root)
    plan = _read_json(pdir / "plan.json") or {"runs": [], "skipped": []}
    entries = plan["runs"] + _read_json(pdir / "added.json").get("runs", [])
    if not entries and not plan["skipped"]:
        raise AecryptError(f"no runs in {pdir}; run `aecrypt sweep --profile {profile}` first")
    originals = _baseline_metrics(pdir, plan.get("baselines", []))
    rows = []
    for entry in entries:
        rid = entry["run_id"]
        ok_dir, failed_dir = pdir / "runs" / rid, pdir / "failed" / rid
        row = {
            k: entry.get(k)
            for k in ("run_id", "label", "loss", "optimizer", "depth", "activation", "seed", "note", "data")
        }
        row["profile"] = profile
        if runs.is_complete(ok_dir):
            row |= {"status": "ok", "error": ""} | _read_json(ok_dir / "metrics.json")
            row["run_seconds"] = _read_json(ok_dir / "status.json").get("seconds")
            # a baseline that failed or has not run leaves its columns empty, not absent
            row |= originals.get((entry.get("data"), entry.get("seed")), dict.fromkeys(BASELINE_COLUMNS))
        elif failed_dir.is_dir():
            row |= {"status": "failed", "error": _read_json(failed_dir / "status.json").get("error", "")}
        else:
            row |= {"status": "missing", "error": "not run yet"}
        rows.append(row)
    for entry in plan.get("skipped", []):
        rows.append(
            {k: entry.get(k) for k in ("label", "loss", "optimizer", "depth", "activation", "note")}
            | {"profile": profile, "status": "skipped", "error": entry["reason"]}
        )
    return pd.DataFrame(rows)


BASELINE_METRICS = ("auc", "recall", "precision", "f1", "accuracy", "train_accuracy", "test_accuracy")
BASELINE_COLUMNS = tuple(f"original_{k}" for k in BASELINE_METRICS) + ("baseline_run_id",)


def _baseline_metrics(pdir: Path, baselines: list[dict]) -> dict[tuple, dict]:
    """(data, seed) -> the shared baseline's metrics as original_* columns, and its run id."""
    out = {}
    for entry in baselines:
        folder = pdir / "runs" / entry["run_id"]
        if runs.is_complete(folder):
            m = _read_json(folder / "metrics.json")
            values = [m.get(k) for k in BASELINE_METRICS] + [entry["run_id"]]
            out[(entry["data"], entry["seed"])] = dict(zip(BASELINE_COLUMNS, values, strict=True))
    return out


def write_summary(profile: str, results_root: Path | None = None) -> Path:
    table = collect(profile, results_root)
    out = paths.summary_csv(profile, results_root)
    tmp = out.with_suffix(".tmp")
    table.to_csv(tmp, index=False)
    os.replace(tmp, out)
    return out


def add_run(folder: Path, profile: str, notebook: Path | None = None, results_root: Path | None = None) -> str:
    """Add a run made by hand (papermill ... -p output_dir FOLDER) to a profile's results."""
    spec = runs.spec_from_run_folder(Path(folder))
    if spec.profile != profile:
        raise AecryptError(f"{folder} was run with profile {spec.profile!r}, not {profile!r}")
    rid = runs.run_id(spec, runs.Fingerprints.now(), runs.data_fingerprint(spec))
    files = {p.relative_to(folder).as_posix(): p.read_bytes() for p in Path(folder).rglob("*") if p.is_file()}
    if notebook:
        files["experiment.ipynb"] = Path(notebook).read_bytes()
    pdir = paths.profile_dir(profile, results_root)
    runs.store_run(runs.RunResult(rid, spec, True, files, host="by hand"), pdir)
    added_path = pdir / "added.json"
    added = _read_json(added_path).get("runs", [])
    if rid not in {a["run_id"] for a in added}:
        added.append({"run_id": rid, **spec.parameters(), "note": spec.note, "label": spec.label})
    added_path.write_text(json.dumps({"runs": added}, indent=2))
    write_summary(profile, results_root)
    return rid
