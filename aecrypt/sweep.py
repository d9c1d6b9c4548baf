"""Grids, the sweep (process pool or dask.distributed), progress, and the results table."""

from __future__ import annotations

import itertools
import json
import os
import sys
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field, replace
from multiprocessing import get_context
from pathlib import Path

import pandas as pd
import yaml

from . import AecryptError, choices, paths, runs
from .data import fit_size, parse_spec
from .profiles import get_profile

GRID_TOP_KEYS = {"name", "description", "grid", "extra"}
COMBINATION_KEYS = {"loss", "optimizer", "depth", "activation"}
EXTRA_KEYS = COMBINATION_KEYS | {"note", "key_image", "seed", "seeds"}
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
    seeds: tuple[int, ...] | None = None  # training seeds for this combination only (default: the build's)


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
        what = "is a folder, not a grid file" if path.is_dir() else "does not exist"
        raise AecryptError(f"grid file {path} {what}; grids in {paths.GRIDS}: {available}")
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
        seeds = _extra_seeds(entry, where, problems)
        combos.append(
            Combination(
                str(entry["loss"]).lower(),
                str(entry["optimizer"]).lower(),
                entry["depth"],
                str(entry["activation"]).lower(),
                str(entry.get("note", "")),
                str(entry.get("key_image", "")),
                seeds,
            )
        )
    if not combos and not problems:
        problems.append("the grid has no combinations: give `grid:` lists and/or `extra:` entries")
    if problems:
        raise AecryptError(f"grid file {path} has {len(problems)} problem(s):\n  - " + "\n  - ".join(problems))
    unique = list(dict.fromkeys(combos))
    return Grid(str(raw.get("name", path.stem)), str(raw.get("description", "")), unique)


def _extra_seeds(entry: dict, where: str, problems: list[str]) -> tuple[int, ...] | None:
    """An extra's own training seeds: `seed: 3` or `seeds: [0, 1, 2]` (not both)."""
    if "seed" in entry and "seeds" in entry:
        problems.append(f"{where}: give `seed` or `seeds`, not both")
        return None
    raw = [entry["seed"]] if "seed" in entry else entry.get("seeds")
    if raw is None:
        return None
    if not isinstance(raw, list) or not raw or not all(isinstance(s, int) and s >= 0 for s in raw):
        problems.append(f"{where}: seeds must be a non-empty list of whole numbers >= 0, got {raw!r}")
        return None
    return tuple(sorted(set(raw)))


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
    baselines: list[tuple[runs.RunSpec, str]] = field(default_factory=list)  # one per training seed, shared
    seeds: tuple[int, ...] = (0,)  # the build's training seeds
    data_seed: int = 0
    references: list[tuple[runs.RunSpec, str]] = field(default_factory=list)  # no-cipher runs, planned after
    size: int = 0  # the build's image size (the profile's unless the images are smaller)
    size_note: str = ""  # why the size is not the profile's

    def pending(self, profile_dir: Path) -> list[tuple[runs.RunSpec, str]]:
        """Baselines and runs without a complete folder: what a sweep would execute (baselines first)."""
        return [(s, rid) for s, rid in self.baselines + self.runs if not runs.is_complete(profile_dir / "runs" / rid)]

    def to_json(self) -> str:
        return json.dumps(
            {
                "profile": self.profile,
                "data": self.data,
                "seeds": list(self.seeds),
                "data_seed": self.data_seed,
                "size": self.size,
                "size_note": self.size_note,
                "grid": self.grid.name,
                "grid_description": self.grid.description,
                "runs": [_entry(spec, rid) for spec, rid in self.runs],
                "baselines": [{"run_id": rid, **spec.parameters()} for spec, rid in self.baselines],
                "references": [_entry(spec, rid) for spec, rid in self.references],
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


def _entry(spec: runs.RunSpec, rid: str) -> dict:
    return {"run_id": rid, **spec.parameters(), "note": spec.note, "label": spec.label, "run_label": spec.run_label}


def plan_sweep(
    profile: str,
    grid_path: str | Path,
    data: str | None = None,
    seeds: tuple[int, ...] | None = None,
    data_seed: int = 0,
    template: Path | None = None,
) -> Plan:
    """Validate everything and compute every run id, before anything runs: every combination at every
    training seed (the profile's, or `seeds`), the data seed fixed; one baseline per training seed."""
    p = get_profile(profile)
    if not isinstance(data_seed, int) or data_seed < 0:
        raise AecryptError(f"the data seed must be a whole number ≥ 0, got {data_seed!r}")
    seeds = tuple(seeds) if seeds is not None else p.training_seeds
    if not seeds or any(not isinstance(s, int) or s < 0 for s in seeds):
        raise AecryptError(f"training seeds must be whole numbers ≥ 0 (e.g. 0, 1, 2), got {list(seeds)}")
    grid = load_grid(grid_path)
    data_spec = resolve_data(data or p.default_data)
    size, size_note = fit_size(p.size, data_spec)
    smaller = size if size != p.size else 0  # a RunSpec carries a size only when it is not the profile's
    fingerprints = runs.Fingerprints.now(template)
    data_fp = runs.data_fingerprint(runs.RunSpec(profile, data_spec, data_seed=data_seed, size=smaller))
    planned, skipped = [], []
    used_seeds: set[int] = set()
    for c in grid.combinations:
        if c.depth not in choices.valid_depths(size):
            why = f"depth {c.depth} does not fit {size}×{size} images (valid depths: {choices.valid_depths(size)})"
            skipped.append((c, why + (" — the images are smaller than the profile's size" if smaller else "")))
            continue
        key_image = str(Path(c.key_image).resolve()) if c.key_image else ""
        for run_seed in c.seeds or seeds:
            spec = runs.RunSpec(
                profile,
                data_spec,
                c.loss,
                c.optimizer,
                c.depth,
                c.activation,
                seed=run_seed,
                key_image=key_image,
                data_seed=data_seed,
                size=smaller,
                note=c.note,
            )
            planned.append((spec, runs.run_id(spec, fingerprints, data_fp)))
            used_seeds.add(run_seed)
    baselines = []
    for run_seed in sorted(used_seeds):
        spec = runs.RunSpec.baseline(profile, data_spec, run_seed, data_seed, smaller)
        baselines.append((spec, runs.run_id(spec, fingerprints, data_fp)))
    return Plan(profile, data_spec, grid, planned, skipped, baselines, seeds, data_seed, size=size, size_note=size_note)


def best_by_mse(summary: pd.DataFrame) -> str | None:
    """The combination with the lowest mean test MSE over its finished seeds (ties: grid order)."""
    ok = summary[summary["status"] == "ok"]
    if ok.empty:
        return None
    means = ok.groupby("label", sort=False)["mse"].mean()
    return str(means.idxmin())


def plan_references(plan: Plan, summary: pd.DataFrame) -> list[tuple[runs.RunSpec, str]]:
    """The reference runs, planned once the sweep's runs are in: the best autoencoder combination (lowest
    mean MSE) decoded *without* the cipher, at each of its seeds, so its classifier shows what the cipher
    alone costs."""
    best = best_by_mse(summary)
    if best is None:
        return []
    fingerprints = runs.Fingerprints.now()
    smaller = plan.size if plan.size != get_profile(plan.profile).size else 0
    data_fp = runs.data_fingerprint(runs.RunSpec(plan.profile, plan.data, data_seed=plan.data_seed, size=smaller))
    refs = []
    for spec, _ in plan.runs:
        if spec.label == best:
            ref = replace(spec, with_cipher=False, note="reference: the best autoencoder decoded without the cipher")
            refs.append((ref, runs.run_id(ref, fingerprints, data_fp)))
    return refs


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
            f"[{self.done}/{self.total}] {result.spec.run_label} {state} in {result.seconds:.0f} s · "
            f"elapsed {elapsed:.0f} s · ~{left:.0f} s left"
        )


def _local_results(todo, texts: dict[str, str], workers: int, threads: int) -> Iterable[runs.RunResult]:
    # spawn, not fork: a forked copy of a process that imported TensorFlow or zmq is not safe
    with ProcessPoolExecutor(max_workers=workers, mp_context=get_context("spawn")) as pool:
        futures = [pool.submit(runs.compute_run, spec, rid, texts[spec.template], threads) for spec, rid in todo]
        for future in as_completed(futures):
            yield future.result()


#: How long to try to reach a dask scheduler before saying so.
SCHEDULER_TIMEOUT = "10s"


def _dask_results(todo, texts: dict[str, str], scheduler: str, threads: int) -> Iterable[runs.RunResult]:
    from dask.distributed import Client
    from dask.distributed import as_completed as dask_completed

    try:
        client = Client(scheduler, timeout=SCHEDULER_TIMEOUT)
    except (OSError, TimeoutError) as exc:
        raise AecryptError(
            f"cannot reach a dask scheduler at {scheduler} within {SCHEDULER_TIMEOUT} ({type(exc).__name__}); start "
            f"one with `dask scheduler` and workers with `dask worker {scheduler}`, or leave out --scheduler to run "
            "on local worker processes"
        ) from None
    with client:
        futures = [
            client.submit(
                runs.compute_run, spec, rid, texts[spec.template], threads, False, pure=False, key=f"run-{rid}"
            )
            for spec, rid in todo
        ]
        for future in dask_completed(futures):
            yield future.result()


def check_scheduler_address(address: str) -> None:
    """A dask scheduler address that cannot be one (no port, an unknown protocol) is an error before any
    planning, not a traceback from inside dask."""
    from distributed.comm.addressing import parse_address, parse_host_port
    from distributed.comm.registry import get_backend

    try:
        protocol, location = parse_address(address)
        get_backend(protocol)  # an unknown protocol lists the known ones
        if protocol in ("tcp", "tls"):
            parse_host_port(location)
    except ValueError as exc:
        raise AecryptError(
            f"--scheduler {address!r} is not a scheduler address ({exc}); e.g. tcp://host:8786"
        ) from None


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
    seeds: tuple[int, ...] | None = None,
    threads: int | None = None,
    data_seed: int = 0,
    references: bool = True,
) -> SweepReport:
    """Run what is missing: the baselines and every combination at every training seed, then (unless
    `references` is False) the reference runs of the best combination without the cipher, chosen from the
    finished runs."""
    started = time.perf_counter()
    if workers is not None and (not isinstance(workers, int) or workers < 1):
        raise AecryptError(f"workers must be a whole number ≥ 1 (parallel runs), got {workers!r}")
    if scheduler:
        check_scheduler_address(scheduler)
    plan = plan_sweep(profile, grid_path, data, seeds, data_seed)
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
        f"sweep {plan.grid.name} · profile {profile} · data {plan.data} (data seed {plan.data_seed}) · training "
        f"seeds {', '.join(map(str, plan.seeds))}: {len(plan.runs)} run(s) + {len(plan.baselines)} shared "
        f"baseline(s), {n_all - len(todo)} cached, "
        + (f"{len(todo)} to run on {where}" if todo else "nothing to run")
        + (f"; {len(plan.skipped)} skipped" if plan.skipped else "")
    )
    if plan.size_note:
        progress.say(f"  size: {plan.size_note}")
    for combo, reason in plan.skipped:
        progress.say(f"  skipped {combo.loss}+{combo.optimizer}+{combo.activation}+{combo.depth}: {reason}")
    (pdir / "plan.json").write_text(plan.to_json())
    texts = {name: runs.template_path(name).read_text() for name in runs.TEMPLATES}

    def execute(batch) -> list[tuple[str, str]]:
        failed = []
        if not batch:
            return failed
        results = (
            _dask_results(batch, texts, scheduler, threads)
            if scheduler
            else _local_results(batch, texts, min(workers, len(batch)), threads)
        )
        for result in results:
            runs.store_run(result, pdir)
            if not result.ok:
                failed.append((result.spec.run_label, result.error))
            progress.finished(result)
        return failed

    failures = execute(todo)
    write_summary(profile, results_root)
    plan.references = plan_references(plan, collect(profile, results_root)) if references else []
    (pdir / "plan.json").write_text(plan.to_json())
    refs_todo = [(s, rid) for s, rid in plan.references if not runs.is_complete(pdir / "runs" / rid)]
    if refs_todo:
        progress.total += len(refs_todo)
        progress.say(f"reference: {plan.references[0][0].label} without the cipher, {len(refs_todo)} run(s)")
        failures += execute(refs_todo)
    summary_path = write_summary(profile, results_root)
    executed = len(todo) + len(refs_todo)
    n_all += len(plan.references)
    report = SweepReport(plan, executed, n_all - executed, failures, time.perf_counter() - started, summary_path)
    progress.say(
        f"done in {report.seconds:.0f} s: {report.executed} executed, {report.cached} cached, "
        f"{len(failures)} failed · table: {summary_path}"
    )
    return report


def _read_json(path: Path) -> dict:
    return json.loads(path.read_text()) if path.is_file() else {}


def collect(profile: str, results_root: Path | None = None) -> pd.DataFrame:
    """One row per planned run (combination × training seed, from plan.json, in grid order) plus runs added
    by hand: parameters, status (ok / failed / missing / skipped), error, and every metric; the shared
    baseline of the run's seed as original_* columns and, for the best combination, its reference run
    without the cipher as nocipher_* columns."""
    pdir = paths.profile_dir(profile, results_root)
    plan = _read_json(pdir / "plan.json") or {"runs": [], "skipped": []}
    entries = plan["runs"] + _read_json(pdir / "added.json").get("runs", [])
    if not entries and not plan["skipped"]:
        raise AecryptError(f"no runs in {pdir}; run `aecrypt sweep --profile {profile}` first")
    originals = _merged_metrics(
        pdir,
        plan.get("baselines", []),
        BASELINE_METRICS,
        ("original", "baseline"),
        lambda e: (e["data"], e["seed"], e.get("data_seed", 0)),
    )
    references = _merged_metrics(
        pdir, plan.get("references", []), NOCIPHER_METRICS, ("nocipher", "nocipher"), lambda e: (e["label"], e["seed"])
    )
    rows = []
    for entry in entries:
        rid = entry["run_id"]
        ok_dir, failed_dir = pdir / "runs" / rid, pdir / "failed" / rid
        row = {
            k: entry.get(k)
            for k in (
                "run_id",
                "label",
                "run_label",
                "loss",
                "optimizer",
                "depth",
                "activation",
                "seed",
                "data_seed",
                "key_image",
                "note",
                "data",
            )
        }
        row["data_seed"] = row["data_seed"] or 0
        row["run_label"] = row["run_label"] or f"{row['label']} · seed {row['seed']}"
        row["profile"] = profile
        if runs.is_complete(ok_dir):
            row |= {"status": "ok", "error": ""} | _read_json(ok_dir / "metrics.json")
            row["run_seconds"] = _read_json(ok_dir / "status.json").get("seconds")
            # a baseline or reference that failed or has not run leaves its columns empty, not absent
            row |= originals.get((row["data"], row["seed"], row["data_seed"]), dict.fromkeys(BASELINE_COLUMNS))
            row |= references.get((row["label"], row["seed"]), dict.fromkeys(NOCIPHER_COLUMNS))
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
NOCIPHER_METRICS = ("auc", "mse", "recall", "precision", "f1", "test_accuracy", "final_loss")
NOCIPHER_COLUMNS = tuple(f"nocipher_{k}" for k in NOCIPHER_METRICS) + ("nocipher_run_id",)


def _merged_metrics(
    pdir: Path, entries: list[dict], names: tuple, prefixes: tuple[str, str], key: Callable[[dict], tuple]
) -> dict[tuple, dict]:
    """Metrics of finished shared runs (baselines, references) as columns `<prefix>_<metric>` and
    `<id prefix>_run_id`, by `key(entry)`: the rows of summary.csv they belong to."""
    prefix, id_prefix = prefixes
    out = {}
    for entry in entries:
        folder = pdir / "runs" / entry["run_id"]
        if runs.is_complete(folder):
            m = _read_json(folder / "metrics.json")
            out[key(entry)] = {f"{prefix}_{k}": m.get(k) for k in names} | {f"{id_prefix}_run_id": entry["run_id"]}
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
    if not spec.with_cipher:
        raise AecryptError(f"{folder} ran without the cipher: reference runs are planned by the sweep, not added")
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
        added.append(_entry(spec, rid))
    added_path.write_text(json.dumps({"runs": added}, indent=2))
    write_summary(profile, results_root)
    return rid
