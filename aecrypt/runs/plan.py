"""Planning a sweep: every run of a grid at every training seed with its id, computed before anything
runs; the shared baselines; and, once the combinations are in, the reference runs without the cipher."""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from pathlib import Path

import pandas as pd

from aecrypt import UsageError
from aecrypt.data.dataset import fit_size
from aecrypt.data.specs import parse_spec
from aecrypt.paper import choices
from aecrypt.profiles import Profile, as_profile
from aecrypt.runs import folder
from aecrypt.runs.grids import Combination, Grid, load_grid
from aecrypt.runs.identity import Fingerprints, data_fingerprint, run_id
from aecrypt.runs.spec import RunSpec
from aecrypt.runs.table import best_combination


def resolve_data(spec: str) -> str:
    """Absolute, normalised data spec (run notebooks execute in scratch folders)."""
    return str(parse_spec(spec))


@dataclass
class Plan:
    profile: Profile
    data: str
    grid: Grid
    runs: list[tuple[RunSpec, str]]  # (spec, run id), in grid order
    skipped: list[tuple[Combination, str]] = field(default_factory=list)
    baselines: list[tuple[RunSpec, str]] = field(default_factory=list)  # one per training seed, shared
    seeds: tuple[int, ...] = (0,)  # the build's training seeds
    data_seed: int = 0
    references: list[tuple[RunSpec, str]] = field(default_factory=list)  # no-cipher runs, planned after
    size: int = 0  # the build's image size (the profile's unless the images are smaller)
    size_note: str = ""  # why the size is not the profile's
    fingerprints: Fingerprints | None = None  # what every run id of the plan hashed, kept for the references
    data_fingerprint: str = ""

    def pending(self, profile_dir: Path) -> list[tuple[RunSpec, str]]:
        """Baselines and runs without a complete folder: what a sweep would execute (baselines first)."""
        return [(s, rid) for s, rid in self.baselines + self.runs if not folder.is_complete(profile_dir / "runs" / rid)]

    def to_json(self) -> str:
        return json.dumps(
            {
                "profile": self.profile.name,
                "data": self.data,
                "seeds": list(self.seeds),
                "data_seed": self.data_seed,
                "size": self.size,
                "size_note": self.size_note,
                "grid": self.grid.name,
                "grid_description": self.grid.description,
                "runs": [spec.entry(rid) for spec, rid in self.runs],
                "baselines": [{"run_id": rid, **spec.parameters()} for spec, rid in self.baselines],
                "references": [spec.entry(rid) for spec, rid in self.references],
                "skipped": [
                    {"label": c.label, **dict(c.values), "note": c.note, "reason": reason} for c, reason in self.skipped
                ],
            },
            indent=2,
        )


def plan_sweep(
    profile: Profile | str,
    grid_path: str | Path,
    data: str | None = None,
    seeds: tuple[int, ...] | None = None,
    data_seed: int = 0,
    template: Path | None = None,
    settings: dict[str, list] | None = None,
) -> Plan:
    """Validate everything and compute every run id, before anything runs: every combination at every
    training seed (the profile's, or `seeds`), the data seed fixed; one baseline per training seed. `settings`
    give combination parameters values for the whole grid (`grids.load_grid`)."""
    p = as_profile(profile)
    if not isinstance(data_seed, int) or data_seed < 0:
        raise UsageError(f"the data seed must be a whole number ≥ 0, got {data_seed!r}")
    seeds = tuple(seeds) if seeds is not None else p.training_seeds
    if not seeds or any(not isinstance(s, int) or s < 0 for s in seeds):
        raise UsageError(f"training seeds must be whole numbers ≥ 0 (e.g. 0, 1, 2), got {list(seeds)}")
    grid = load_grid(grid_path, settings)
    data_spec = resolve_data(data or p.default_data)
    size, size_note = fit_size(p.size, data_spec)
    smaller = size if size != p.size else 0  # a RunSpec carries a size only when it is not the profile's
    specs, skipped, baseline_specs = expand(p, grid, data_spec, seeds, data_seed, size)
    fingerprints = Fingerprints.now(template)
    data_fp = data_fingerprint(RunSpec(p, data_spec, data_seed=data_seed, size=smaller))
    planned = [(spec, run_id(spec, fingerprints, data_fp)) for spec in specs]
    baselines = [(spec, run_id(spec, fingerprints, data_fp)) for spec in baseline_specs]
    return Plan(
        p, data_spec, grid, planned, skipped, baselines, seeds, data_seed, [], size, size_note, fingerprints, data_fp
    )


def expand(
    p: Profile, grid: Grid, data_spec: str, seeds: tuple[int, ...], data_seed: int, size: int
) -> tuple[list[RunSpec], list[tuple[Combination, str]], list[RunSpec]]:
    """The grid's runs at `size` (every combination at each of its training seeds, in grid order), the combinations
    that size cannot hold with the reason, and one baseline per training seed used: the specs, without ids."""
    smaller = size if size != p.size else 0
    planned, skipped = [], []
    used_seeds: set[int] = set()
    for c in grid.combinations:
        if c.depth not in choices.valid_depths(size):
            why = f"depth {c.depth} does not fit {size}×{size} images (valid depths: {choices.valid_depths(size)})"
            skipped.append((c, why + (" — the images are smaller than the profile's size" if smaller else "")))
            continue
        values = dict(c.values)
        if values.get("key_image"):
            values["key_image"] = str(Path(values["key_image"]).resolve())
        for run_seed in c.seeds or seeds:
            spec = RunSpec(p, data_spec, **values, seed=run_seed, data_seed=data_seed, size=smaller, note=c.note)
            planned.append(spec)
            used_seeds.add(run_seed)
    baselines = [RunSpec.baseline(p, data_spec, s, data_seed, smaller) for s in sorted(used_seeds)]
    return planned, skipped, baselines


def plan_references(plan: Plan, summary: pd.DataFrame) -> list[tuple[RunSpec, str]]:
    """The reference runs, planned once the sweep's runs are in: the best autoencoder combination (lowest
    mean MSE, `table.best_combination`, as the pages name it) decoded *without* the cipher, at each of its
    seeds, so its classifier shows what the cipher alone costs."""
    best = best_combination(summary)
    if best is None:
        return []
    refs = []
    for spec, _ in plan.runs:
        if spec.label == best:
            ref = replace(spec, with_cipher=False, note="reference: the best autoencoder decoded without the cipher")
            refs.append((ref, run_id(ref, plan.fingerprints, plan.data_fingerprint)))
    return refs
