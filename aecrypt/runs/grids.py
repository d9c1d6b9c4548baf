"""Grid files (grids/*.yaml): which combinations a sweep runs, validated with every problem reported at once."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import yaml

from aecrypt import UsageError, paths
from aecrypt.paper import choices

GRID_TOP_KEYS = {"name", "description", "grid", "extra"}
COMBINATION_KEYS = {"loss", "optimizer", "depth", "activation"}
OPTIONAL_KEYS = {"bottleneck"}  # a grid or an extra may give it; absent: 0, the paper's latent
EXTRA_KEYS = COMBINATION_KEYS | OPTIONAL_KEYS | {"note", "key_image", "seed", "seeds"}


VALIDATORS: dict[str, Callable] = {
    "loss": choices.validate_loss,
    "optimizer": choices.validate_optimizer,
    "activation": choices.validate_activation,
    "bottleneck": choices.validate_bottleneck,
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
    bottleneck: int = 0  # channels of the bottleneck variant's latent (0: the paper's latent)

    @property
    def label(self) -> str:
        return choices.combination_label(self.loss, self.optimizer, self.activation, self.depth, self.bottleneck)


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
    except UsageError as exc:
        problems.append(f"{where}: {exc}")


def load_grid(path: str | Path) -> Grid:
    """Read and validate a grid file; every problem is reported at once, before anything runs."""
    path = Path(path)
    if not path.is_file():
        available = sorted(p.name for p in paths.GRIDS.glob("*.yaml"))
        what = "is a folder, not a grid file" if path.is_dir() else "does not exist"
        raise UsageError(f"grid file {path} {what}; grids in {paths.GRIDS}: {available}")
    try:
        raw = yaml.safe_load(path.read_text()) or {}
    except yaml.YAMLError as exc:
        raise UsageError(f"grid file {path} is not valid YAML: {exc}") from None
    problems: list[str] = []
    if not isinstance(raw, dict):
        raise UsageError(f"grid file {path} must be a mapping with keys {sorted(GRID_TOP_KEYS)}")
    if unknown := set(raw) - GRID_TOP_KEYS:
        problems.append(f"unknown top-level key(s) {sorted(unknown)}; valid: {sorted(GRID_TOP_KEYS)}")
    combos: list[Combination] = []
    grid = raw.get("grid") or {}
    if grid:
        if unknown := set(grid) - COMBINATION_KEYS - OPTIONAL_KEYS:
            valid = sorted(COMBINATION_KEYS | OPTIONAL_KEYS)
            problems.append(f"grid: unknown key(s) {sorted(unknown)}; valid: {valid}")
        if missing := COMBINATION_KEYS - set(grid):
            problems.append(f"grid: missing key(s) {sorted(missing)}")
        for key in (COMBINATION_KEYS | OPTIONAL_KEYS) & set(grid):
            values = grid[key] if isinstance(grid[key], list) else [grid[key]]
            if not values:
                problems.append(f"grid: {key} has no values")
            for v in values:
                _check_value(key, v, f"grid.{key}", problems)
        if not problems:
            keys = ("loss", "optimizer", "depth", "activation", "bottleneck")
            lists = [grid.get(k, [0]) if isinstance(grid.get(k, [0]), list) else [grid[k]] for k in keys]
            combos += [
                Combination(str(lo).lower(), str(o).lower(), d, str(a).lower(), bottleneck=b)
                for lo, o, d, a, b in itertools.product(*lists)
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
        for key in COMBINATION_KEYS | (OPTIONAL_KEYS & set(entry)):
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
                int(entry.get("bottleneck", 0)) if isinstance(entry.get("bottleneck", 0), int) else 0,
            )
        )
    if not combos and not problems:
        problems.append("the grid has no combinations: give `grid:` lists and/or `extra:` entries")
    if problems:
        raise UsageError(f"grid file {path} has {len(problems)} problem(s):\n  - " + "\n  - ".join(problems))
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
