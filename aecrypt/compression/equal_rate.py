"""Diagnosis at equal rate: the bottleneck variant (grids/bottleneck.yaml) and the classifier on JPEG and
WebP images whose mean rate matches each bottleneck's uint8 latent, all as runs of the same templates and
cache as the build's, at the build's training seeds; then every method's AUC against the classifier on the
original images, and each codec's against the bottleneck at the same rate, with the statistics' intervals
(test-split and seed parts) and Holm's correction over the family."""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from aecrypt import paths
from aecrypt.compression import wire
from aecrypt.compression.curves import Match, matched_setting
from aecrypt.files import read_json
from aecrypt.paper import choices
from aecrypt.runs import folder
from aecrypt.runs.identity import run_id
from aecrypt.runs.plan import Plan, plan_sweep
from aecrypt.runs.spec import RunSpec
from aecrypt.stats.components import Build, Run

log = logging.getLogger(__name__)

GRID = paths.GRIDS / "bottleneck.yaml"
CODECS = ("jpeg", "webp")
ORIGINAL = "original images"


def target_bpp(size: int, depth: int, bottleneck: int) -> float:
    """The rate of a bottleneck's uint8 latent (with its offset and scale): what the codecs are matched to."""
    return wire.bpp(wire.latent_payload_bytes(choices.latent_shape(size, depth, bottleneck), "uint8"), size)


@dataclass
class EqualRatePlan:
    bottleneck: Plan
    matches: list[tuple[str, Match]]  # (bottleneck label, the codec's match at its rate)
    codec_runs: list[tuple[RunSpec, str]] = field(default_factory=list)

    @property
    def all_runs(self) -> list[tuple[RunSpec, str]]:
        return self.bottleneck.baselines + self.bottleneck.runs + self.codec_runs

    def pending(self, pdir: Path) -> list[tuple[RunSpec, str]]:
        return [(s, rid) for s, rid in self.all_runs if not folder.is_complete(pdir / "runs" / rid)]


def plan_equal_rate(profile, data: str, seeds, data_seed: int, test_images) -> EqualRatePlan:
    """The bottleneck grid at the build's data and seeds, and for each of its rates the codec runs that match it
    (matched on the test images' mean rate; a codec that cannot go that low is recorded, not run)."""
    plan = plan_sweep(profile, GRID, data, tuple(seeds), data_seed)
    size = plan.size
    smaller = size if size != plan.profile.size else 0
    matches, codec_runs = [], []
    for spec in {s.label: s for s, _ in plan.runs}.values():
        target = target_bpp(size, spec.depth, spec.bottleneck)
        for codec in CODECS:
            match = matched_setting(codec, test_images, target)
            matches.append((spec.label, match))
            if match.reached:
                for seed in plan.seeds:
                    run = RunSpec.baseline(plan.profile, plan.data, seed, data_seed, smaller, codec=match.spec)
                    codec_runs.append((run, run_id(run, plan.fingerprints, plan.data_fingerprint)))
    return EqualRatePlan(plan, matches, codec_runs)


def _run(pdir: Path, spec: RunSpec, rid: str, label: str) -> Run | None:
    run_dir = pdir / "runs" / rid
    if not folder.is_complete(run_dir):
        return None
    scores = pd.read_csv(run_dir / paths.RUN_FILES.scores)
    return Run(label, spec.seed, read_json(run_dir / paths.RUN_FILES.metrics), scores)


def collect_runs(plan: EqualRatePlan, pdir: Path, paper_runs: list[Run]) -> tuple[list[Run], pd.DataFrame]:
    """The finished runs of the plan (and the paper autoencoder's, given) as statistics runs, and one row per run:
    method, kind, rate, seed, AUC, image quality."""
    targets = {s.label: target_bpp(plan.bottleneck.size, s.depth, s.bottleneck) for s, _ in plan.bottleneck.runs}
    named = [(s, rid, ORIGINAL, "original", math.nan) for s, rid in plan.bottleneck.baselines]
    named += [(s, rid, s.label, "bottleneck", targets[s.label]) for s, rid in plan.bottleneck.runs]
    target_of = {m.spec: (label, m) for label, m in plan.matches if m.reached}
    for s, rid in plan.codec_runs:
        label, match = target_of[s.codec]
        named.append((s, rid, f"{s.codec} (at {label})", "codec", match.target))
    runs, rows = [], []
    for spec, rid, label, kind, target in named:
        run = _run(pdir, spec, rid, label)
        if run is None:
            continue
        runs.append(run)
        rows.append(_row(run, kind, target, rid))
    for run in paper_runs:
        runs.append(run)
        rows.append(_row(run, "autoencoder", math.nan, str(run.values.get("run_id", ""))))
    return runs, pd.DataFrame(rows)


def _row(run: Run, kind: str, target: float, rid: str) -> dict:
    v = run.values
    size = math.isqrt(int(v.get("image_elements") or 0)) or None
    latent_bpp = (
        wire.bpp(v["latent_elements"] + wire.UINT8_SIDE_BYTES, size) if size and "latent_elements" in v else None
    )
    return {
        "method": run.label,
        "kind": kind,
        "seed": run.seed,
        "target_bpp": target,
        "bpp": v.get("codec_bpp", latent_bpp),
        "auc": v.get("auc"),
        "mse": v.get("mse"),
        "psnr": v.get("psnr"),
        "ssim": v.get("ssim"),
        "run_id": rid,
    }


def comparisons(runs: list[Run], matches: list[tuple[str, Match]]) -> pd.DataFrame:
    """Every method's AUC minus the original images' classifier, and each codec's minus the bottleneck at its
    rate: estimate, 95 % interval, two-sided p and Holm's adjusted p over the whole family."""
    from statsmodels.stats.multitest import multipletests

    build = Build(runs)
    pairs = [(label, ORIGINAL) for label in build.labels if label != ORIGINAL]
    pairs += [(f"{m.codec}:{m.setting} (at {label})", label) for label, m in matches if m.reached]
    rows = []
    for a, b in pairs:
        if a not in build.index or b not in build.index:
            continue
        est = build.difference(a, b, "auc")
        low, high = est.interval()
        p = min(1.0, 2 * min(est.p_above(), est.p_below())) if est.measured else math.nan
        rows.append({"method": a, "against": b, "auc_difference": est.estimate, "low": low, "high": high, "p": p})
    table = pd.DataFrame(rows, columns=["method", "against", "auc_difference", "low", "high", "p"])
    measured = table["p"].notna()
    table["p_holm"] = math.nan
    if measured.any():
        table.loc[measured, "p_holm"] = multipletests(table.loc[measured, "p"], method="holm")[1]
    table["verdict"] = [
        "cannot tell" if not (p <= 0.05) else ("higher" if d > 0 else "lower")
        for p, d in zip(table["p_holm"], table["auc_difference"], strict=True)
    ]
    return table
