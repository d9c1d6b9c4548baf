"""A run's parameters, defined once (importable without Keras).

From `PARAMETERS` come the configuration a run executes (`experiment.RunConfig`), a sweep's run
(`runs.spec.RunSpec`), the keys a grid file takes and `aecrypt sweep --set` (`runs.grids`), the results table's
columns, and the parameter cells of the two notebooks (`parameter_cell`: a test fails when a notebook's cell
drifts from it; `python -m aecrypt.paper.parameters` rewrites them).

A run's id hashes the entries of the parameters it passes (`runs.identity.BY_VALUE`), not this table. An
*optional* parameter is passed only when it is set, and its default means "as before the parameter existed"
(None, 0 or ""), so adding one — as `learning_rate` was added — reruns no run.

Each entry: `default`; `type` (str, int, float, bool); `templates` that take it; `level` — who sets it: the
build (one value for every run of a sweep), a combination (what a grid varies) or the run (the sweep's
reference runs and codec baselines); `optional`; `choices`, the table of `paper.choices` its value must be in;
`positive` for numbers that must be > 0; `label`, how a set value shows in the combination's name; `role`,
where a model takes it ("optimizer": a keyword argument of the optimizer's constructor); `help`, one line
for the notebook (`{choices}` in it lists the valid values).

Example
-------
>>> label({"loss": "mse", "optimizer": "adam", "depth": 3, "activation": "relu", "learning_rate": 0.01})
'MSE+Adam+ReLU+3 lr=0.01'
>>> coerce("learning_rate", "1e-3")
0.001
"""

from __future__ import annotations

import dataclasses
import json
import math
from collections.abc import Mapping
from pathlib import Path

from aecrypt import UsageError
from aecrypt.paper import choices

PARAMETERS = {
    "profile": {
        "default": "tiny",
        "type": "str",
        "templates": ["experiment", "baseline"],
        "level": "build",
        "help": "how big each run is: a name in aecrypt.profiles",
    },
    "data": {
        "default": "",
        "type": "str",
        "templates": ["experiment", "baseline"],
        "level": "build",
        "help": "empty: the profile default source; or synthetic, nih:DIR, folder:DIR, ...",
    },
    "loss": {
        "default": "mse",
        "type": "str",
        "templates": ["experiment"],
        "level": "combination",
        "choices": "LOSSES",
        "help": "{choices}",
    },
    "optimizer": {
        "default": "adam",
        "type": "str",
        "templates": ["experiment"],
        "level": "combination",
        "choices": "OPTIMIZERS",
        "help": "{choices}",
    },
    "learning_rate": {
        "default": None,
        "type": "float",
        "templates": ["experiment"],
        "level": "combination",
        "optional": True,
        "positive": True,
        "label": " lr={}",
        "role": "optimizer",
        "help": "the autoencoder optimizer's; None: Keras's default for that optimizer (as the paper)",
    },
    "depth": {
        "default": 3,
        "type": "int",
        "templates": ["experiment"],
        "level": "combination",
        "choices": "DEPTHS",
        "help": "encoder convolutions, {choices} (the paper: 2, 3, 5)",
    },
    "bottleneck": {
        "default": 0,
        "type": "int",
        "templates": ["experiment"],
        "level": "combination",
        "optional": True,
        "choices": "BOTTLENECKS",
        "label": " k={}",
        "help": "{choices}; 0: the paper's latent, k: a 1×1 convolution to k channels",
    },
    "activation": {
        "default": "relu",
        "type": "str",
        "templates": ["experiment"],
        "level": "combination",
        "choices": "ACTIVATIONS",
        "help": "{choices}",
    },
    "seed": {
        "default": 0,
        "type": "int",
        "templates": ["experiment", "baseline"],
        "level": "build",
        "help": "training seed: initial weights, data order (varies across a build)",
    },
    "data_seed": {
        "default": 0,
        "type": "int",
        "templates": ["experiment", "baseline"],
        "level": "build",
        "help": "phantoms, train/val/test split, paper-cipher key (fixed per build)",
    },
    "key_image": {
        "default": "",
        "type": "str",
        "templates": ["experiment"],
        "level": "combination",
        "optional": True,
        "help": "empty: key drawn from the data seed; or a path to any image file",
    },
    "with_cipher": {
        "default": True,
        "type": "bool",
        "templates": ["experiment"],
        "level": "run",
        "help": "False: decode latents without the cipher (the sweep's reference run)",
    },
    "codec": {
        "default": "",
        "type": "str",
        "templates": ["baseline"],
        "level": "run",
        "optional": True,
        "help": 'empty: the original images; or every image through a codec first, e.g. "webp:37"',
    },
}
#: What a notebook takes besides the run's parameters: where it writes, its threads, and profile settings for
#: one run. A run's id hashes none of the first two; of the overrides, a sweep passes only a smaller image size,
#: which it hashes (`RunSpec.parameters`).
EXECUTION = {
    "output_dir": {"experiment": "run-output", "baseline": "baseline-output"},
    "threads": "0: all cores; the sweep sets 1 per parallel run",
    "overrides": 'profile settings for this run only, e.g. {"n_images": 1000, "ae_epochs": 1}',
}
TYPES = {"str": str, "int": int, "float": float, "bool": bool}
_ABSENT = (None, 0, "", False)
if bad := [n for n, e in PARAMETERS.items() if e.get("optional") and e["default"] not in _ABSENT]:
    raise AssertionError(f"optional parameters must default to none (None, 0, ''): {bad}")


def names(template: str = "experiment", level: str | None = None) -> list[str]:
    """The parameters a template takes (of one level, if given), in the table's order."""
    return [n for n, e in PARAMETERS.items() if template in e["templates"] and (level is None or e["level"] == level)]


def combination_names(optional: bool | None = None) -> list[str]:
    """What a grid may vary: every combination-level parameter (only the required or optional ones, if asked)."""
    found = names("experiment", "combination")
    return found if optional is None else [n for n in found if bool(PARAMETERS[n].get("optional")) == optional]


def default(name: str):
    return PARAMETERS[name]["default"]


def is_set(name: str, value) -> bool:
    """Whether an optional parameter is given (the others always are)."""
    return not PARAMETERS[name].get("optional") or value not in _ABSENT


def coerce(name: str, value):
    """The value in its canonical form (choices lower-cased, numbers from text), or a UsageError naming what is
    valid. An optional parameter's default passes as itself."""
    if name not in PARAMETERS:
        raise UsageError(f"unknown run parameter {name!r}; valid: {', '.join(PARAMETERS)}")
    entry = PARAMETERS[name]
    if entry.get("optional") and value in (None, ""):
        return entry["default"]
    value = _typed(name, entry["type"], value)
    if entry.get("positive") and not (value > 0 and math.isfinite(value)):
        raise UsageError(f"{name} must be a finite number > 0, got {value!r}")
    if table := entry.get("choices"):
        valid = getattr(choices, table)
        if isinstance(valid, dict):
            value = value.lower()
            if value not in valid:
                raise UsageError(f"unknown {name} {value!r}; valid: {', '.join(valid)}")
        elif value not in valid:
            raise UsageError(f"{name} {value!r} is not valid; valid: {', '.join(map(str, valid))}")
    return value


def _typed(name: str, kind: str, value):
    want = TYPES[kind]
    if kind == "bool" and isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    if (isinstance(value, bool) and kind != "bool") or value is None:
        raise UsageError(f"{name} must be {kind}, got {value!r}")
    try:
        if kind == "int" and isinstance(value, float) and value != int(value):
            raise ValueError
        return want(value) if kind != "bool" else _strict_bool(value)
    except (TypeError, ValueError, OverflowError):
        raise UsageError(f"{name} must be {'a whole number' if kind == 'int' else kind}, got {value!r}") from None


def _strict_bool(value) -> bool:
    if not isinstance(value, bool):
        raise ValueError
    return value


def given(values: Mapping, template: str = "experiment") -> dict:
    """What a run passes to its template (and what its id hashes): every parameter the template takes, the
    optional ones only when set."""
    return {n: values[n] for n in names(template) if is_set(n, values[n])}


def options(values: Mapping, role: str) -> dict:
    """The set parameters a model takes as keyword arguments (`role`, e.g. "optimizer")."""
    return {n: values[n] for n, e in PARAMETERS.items() if e.get("role") == role and is_set(n, values[n])}


def label(values: Mapping) -> str:
    """A combination's name: the paper's (e.g. MSLE+Adagrad+ReLU+2), then each set optional parameter that
    names itself (e.g. " k=4", " lr=0.01")."""
    base = choices.combination_label(values["loss"], values["optimizer"], values["activation"], values["depth"])
    return base + "".join(
        e["label"].format(values[n]) for n, e in PARAMETERS.items() if "label" in e and is_set(n, values.get(n))
    )


def fields(first: Mapping[str, type] | None = None, last: list[tuple] = ()) -> list[tuple]:
    """Dataclass fields for every parameter, with its type and default, keyword-only; `first` replaces
    parameters' types and makes them required and positional (e.g. the profile of a sweep's run, an object);
    `last` adds fields after them."""
    first = dict(first or {})
    made: list[tuple] = [*first.items(), ("_", dataclasses.KW_ONLY)]
    for n, e in PARAMETERS.items():
        if n not in first:
            made.append((n, TYPES[e["type"]], dataclasses.field(default=e["default"])))
    return made + list(last)


def describe(name: str, sep: str = ", ") -> str:
    """A parameter's help line, with its valid values where it has a table of them."""
    entry = PARAMETERS[name]
    return entry["help"].format(choices=sep.join(map(str, getattr(choices, entry.get("choices", ""), ()))))


def parameter_cell(template: str) -> str:
    """The source of a notebook's `parameters` cell: every parameter it takes with its default and help, then
    where it writes, its threads and its overrides."""
    lines = ["# Parameters (papermill overrides these; generated from aecrypt.paper.parameters)"]
    for n in names(template):
        lines.append(_line(n, PARAMETERS[n]["default"], describe(n, " | ")))
    lines.append(_line("output_dir", EXECUTION["output_dir"][template], ""))
    lines.append(_line("threads", 0, EXECUTION["threads"]))
    lines.append(_line("overrides", {}, EXECUTION["overrides"]))
    return "\n".join(lines)


def _line(name: str, value, help_text: str) -> str:
    code = f"{name} = {value!r}" if not isinstance(value, str) else f"{name} = {json.dumps(value, ensure_ascii=False)}"
    return f"{code:<25} # {help_text}" if help_text else code


def write_cells(folder: Path) -> list[Path]:
    """Rewrite the `parameters` cell of each template notebook in `folder` from the table; returns those changed."""
    changed = []
    for template in ("experiment", "baseline"):
        path = folder / f"{template}.ipynb"
        nb = json.loads(path.read_text())
        cell = next(c for c in nb["cells"] if "parameters" in c.get("metadata", {}).get("tags", []))
        new = parameter_cell(template)
        if "".join(cell["source"]) != new:
            cell["source"] = new.splitlines(keepends=True)
            path.write_text(json.dumps(nb, indent=1, ensure_ascii=False) + "\n")
            changed.append(path)
    return changed


if __name__ == "__main__":
    from aecrypt import paths

    for path in write_cells(paths.NOTEBOOKS):
        print(f"rewrote the parameters cell of {path}")
