"""The results table, results/<profile>/summary.csv: one row per planned run, with the shared baseline's
and the reference run's columns; and which combination is best (the one definition the sweep's reference
runs and every page use)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pandas as pd

from aecrypt import UsageError, paths
from aecrypt.files import read_json, write_atomic
from aecrypt.paper import parameters
from aecrypt.paths import RUN_FILES
from aecrypt.runs import folder

#: A row's combination columns: the parameters a grid varies (`paper.parameters`).
COMBINATION = tuple(parameters.combination_names())


def collect(profile: str, results_root: Path | None = None) -> pd.DataFrame:
    """One row per planned run (combination × training seed, from plan.json, in grid order) plus runs added
    by hand: parameters, status (ok / failed / missing / skipped), error, and every metric; the shared
    baseline of the run's seed as original_* columns and, for the best combination, its reference run
    without the cipher as nocipher_* columns."""
    pdir = paths.profile_dir(profile, results_root)
    plan = read_json(paths.plan_json(profile, results_root)) or {"runs": [], "skipped": []}
    entries = plan["runs"] + read_json(paths.added_json(profile, results_root)).get("runs", [])
    if not entries and not plan["skipped"]:
        raise UsageError(f"no runs in {pdir}; run `aecrypt sweep --profile {profile}` first")
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
            k: entry.get(k) for k in ("run_id", "label", "run_label", *COMBINATION, "seed", "data_seed", "note", "data")
        }
        row["data_seed"] = row["data_seed"] or 0
        row |= {n: parameters.default(n) for n in COMBINATION if row[n] is None}  # optional ones not set
        row["run_label"] = row["run_label"] or f"{row['label']} · seed {row['seed']}"
        row["profile"] = profile
        if folder.is_complete(ok_dir):
            row |= {"status": "ok", "error": ""} | read_json(ok_dir / RUN_FILES.metrics)
            row["run_seconds"] = read_json(ok_dir / RUN_FILES.status).get("seconds")
            # a baseline or reference that failed or has not run leaves its columns empty, not absent
            row |= originals.get((row["data"], row["seed"], row["data_seed"]), dict.fromkeys(BASELINE_COLUMNS))
            row |= references.get((row["label"], row["seed"]), dict.fromkeys(NOCIPHER_COLUMNS))
        elif failed_dir.is_dir():
            row |= {"status": "failed", "error": read_json(failed_dir / RUN_FILES.status).get("error", "")}
        else:
            row |= {"status": "missing", "error": "not run yet"}
        rows.append(row)
    for entry in plan.get("skipped", []):
        rows.append(
            {k: entry.get(k) for k in ("label", *COMBINATION, "note")}
            | {"profile": profile, "status": "skipped", "error": entry["reason"]}
        )
    return pd.DataFrame(rows)


BASELINE_METRICS = (
    "auc",
    "recall",
    "precision",
    "f1",
    "accuracy",
    "train_accuracy",
    "test_accuracy",
    "clf_steps",
    "clf_images_seen",
)
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
        run_dir = pdir / "runs" / entry["run_id"]
        if folder.is_complete(run_dir):
            m = read_json(run_dir / RUN_FILES.metrics)
            out[key(entry)] = {f"{prefix}_{k}": m.get(k) for k in names} | {f"{id_prefix}_run_id": entry["run_id"]}
    return out


def write_summary(profile: str, results_root: Path | None = None) -> Path:
    return write_atomic(paths.summary_csv(profile, results_root), collect(profile, results_root).to_csv(index=False))


def best_combination(summary: pd.DataFrame, metric: str = "mse", lowest: bool = True) -> str | None:
    """The combination with the best mean `metric` over its finished seeds (ties: grid order), or None where
    no run finished: by default the best autoencoder, the lowest mean test MSE."""
    ok = summary[summary["status"] == "ok"]
    if ok.empty:
        return None
    means = ok.groupby("label", sort=False)[metric].mean()
    return str(means.idxmin() if lowest else means.idxmax())
