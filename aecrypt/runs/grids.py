"""Grid files (grids/*.yaml): which combinations a sweep runs, validated with every problem reported at once."""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from pathlib import Path

import yaml

from aecrypt import UsageError, paths
from aecrypt.paper import parameters

GRID_TOP_KEYS = {"name", "description", "grid", "extra"}
#: What a grid varies, from the run's definition (`paper.parameters`): the required keys of every combination,
#: and the optional ones (absent: their defaults, as the paper).
COMBINATION_KEYS = set(parameters.combination_names(optional=False))
OPTIONAL_KEYS = set(parameters.combination_names(optional=True))
EXTRA_KEYS = COMBINATION_KEYS | OPTIONAL_KEYS | {"note", "seed", "seeds"}


@dataclass(frozen=True)
class Combination:
    """One point of a grid: its values of the combination parameters (`paper.parameters`; the optional ones
    only where given), why it is there, and its own training seeds (default: the build's)."""

    values: tuple[tuple[str, object], ...]
    note: str = ""
    seeds: tuple[int, ...] | None = None

    @classmethod
    def of(cls, values: dict, note: str = "", seeds: tuple[int, ...] | None = None) -> Combination:
        given = {n: values[n] for n in parameters.combination_names() if parameters.is_set(n, values.get(n))}
        return cls(tuple(given.items()), note, seeds)

    @property
    def settings(self) -> dict:
        """Every combination parameter: the given values, the defaults for the rest."""
        return {n: parameters.default(n) for n in parameters.combination_names()} | dict(self.values)

    def __getattr__(self, name: str):
        """Each combination parameter by name (c.depth, c.optimizer), given or default."""
        if name in parameters.combination_names():
            return self.settings[name]
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")

    @property
    def label(self) -> str:
        return parameters.label(self.settings)


@dataclass
class Grid:
    name: str
    description: str
    combinations: list[Combination]


def _checked(values: dict, where: str, problems: list[str]) -> dict:
    """The values in canonical form; each invalid one is a problem, reported with the rest."""
    out = {}
    for key, value in values.items():
        try:
            out[key] = parameters.coerce(key, value)
        except UsageError as exc:
            problems.append(f"{where}: {exc}")
    return out


def _as_list(value) -> list:
    return value if isinstance(value, list) else [value]


def load_grid(path: str | Path, settings: dict[str, list] | None = None) -> Grid:
    """Read and validate a grid file; every problem is reported at once, before anything runs. `settings`
    (`aecrypt sweep --set NAME=VALUE[,VALUE...]`) gives a combination parameter its values for every
    combination, in place of the file's: several values multiply the grid."""
    path, settings = Path(path), dict(settings or {})
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
    points: list[tuple[dict, str, tuple | None]] = []  # (values, note, seeds)
    grid = raw.get("grid") or {}
    if grid:
        if unknown := set(grid) - COMBINATION_KEYS - OPTIONAL_KEYS:
            valid = sorted(COMBINATION_KEYS | OPTIONAL_KEYS)
            problems.append(f"grid: unknown key(s) {sorted(unknown)}; valid: {valid}")
        if missing := COMBINATION_KEYS - set(grid):
            problems.append(f"grid: missing key(s) {sorted(missing)}")
        lists = {}
        for key in [k for k in parameters.combination_names() if k in grid]:  # the definition's order
            if not _as_list(grid[key]):
                problems.append(f"grid: {key} has no values")
            lists[key] = [_checked({key: v}, f"grid.{key}", problems).get(key) for v in _as_list(grid[key])]
        if not problems:
            points += [(dict(zip(lists, combo, strict=True)), "", None) for combo in itertools.product(*lists.values())]
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
        values = _checked({k: entry[k] for k in (COMBINATION_KEYS | OPTIONAL_KEYS) & set(entry)}, where, problems)
        points.append((values, str(entry.get("note", "")), _extra_seeds(entry, where, problems)))
    for key, values in settings.items():
        if key not in COMBINATION_KEYS | OPTIONAL_KEYS:
            problems.append(
                f"--set {key}: not a parameter a grid varies; valid: {sorted(COMBINATION_KEYS | OPTIONAL_KEYS)}"
            )
        else:
            settings[key] = [_checked({key: v}, f"--set {key}", problems).get(key) for v in values]
    if not points and not problems:
        problems.append("the grid has no combinations: give `grid:` lists and/or `extra:` entries")
    if problems:
        raise UsageError(f"grid file {path} has {len(problems)} problem(s):\n  - " + "\n  - ".join(problems))
    combos = []
    for values, note, seeds in points:
        for setting in itertools.product(*settings.values()):
            combos.append(Combination.of(values | dict(zip(settings, setting, strict=True)), note, seeds))
    unique = list(dict.fromkeys(combos))
    labels = [c.label for c in unique]
    if twins := sorted({label for label in labels if labels.count(label) > 1}):
        raise UsageError(
            f"grid file {path}: several combinations are named {twins[0]!r} (they differ only in a parameter the "
            "name leaves out, such as key_image): the results would merge them; give them one value each"
        )
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
