"""A run's parameters, defined once (importable without Keras).

From `PARAMETERS` come the configuration a run executes (`experiment.RunConfig`), a sweep's run
(`runs.spec.RunSpec`), the keys a grid file takes and `aecrypt sweep --set` (`runs.grids`), the results table's
columns, and the parameter cells of the two notebooks (`paper.cells`: a test fails when a notebook's cell
drifts from it; `python -m aecrypt.paper.cells` rewrites them).

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
import math
from collections.abc import Mapping

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
TYPES = {"str": str, "int": int, "float": float, "bool": bool}
_ABSENT = (None, 0, "", False)
if bad := [n for n, e in PARAMETERS.items() if e.get("optional") and e["default"] not in _ABSENT]:
    raise AssertionError(f"optional parameters must default to none (None, 0, ''): {bad}")


def names(template: str = "experiment", level: str | None = None) -> list[str]:
    """The parameters a template takes (of one level, if given), in the table's order.

    Parameters
    ----------
    template : {"experiment", "baseline"}, optional
        The notebook: a combination's run or the classifier baseline.
    level : {"build", "combination", "run"}, optional
        Only the parameters set at this level; None: all.

    Returns
    -------
    list of str
        Parameter names.

    Examples
    --------
    >>> names("baseline")
    ['profile', 'data', 'seed', 'data_seed', 'codec']
    >>> names("experiment", "run")
    ['with_cipher']
    """
    return [n for n, e in PARAMETERS.items() if template in e["templates"] and (level is None or e["level"] == level)]


def combination_names(optional: bool | None = None) -> list[str]:
    """What a grid may vary: every combination-level parameter (only the required or optional ones, if asked).

    Parameters
    ----------
    optional : bool, optional
        True: only the optional ones; False: only the required ones; None: both.

    Returns
    -------
    list of str
        Parameter names, in the table's order.

    Examples
    --------
    >>> combination_names(optional=False)
    ['loss', 'optimizer', 'depth', 'activation']
    >>> combination_names(optional=True)
    ['learning_rate', 'bottleneck', 'key_image']
    """
    found = names("experiment", "combination")
    return found if optional is None else [n for n in found if bool(PARAMETERS[n].get("optional")) == optional]


def default(name: str):
    """A parameter's default value.

    Parameters
    ----------
    name : str
        A key of `PARAMETERS` (an unknown one raises KeyError).

    Returns
    -------
    str, int, float, bool or None
        Its default; for an optional parameter one of None, 0 and "", meaning "not set".

    Examples
    --------
    >>> default("depth"), default("learning_rate"), default("profile")
    (3, None, 'tiny')
    """
    return PARAMETERS[name]["default"]


def is_set(name: str, value) -> bool:
    """Whether an optional parameter is given (the others always are).

    Parameters
    ----------
    name : str
        A key of `PARAMETERS`.
    value : object
        Its value; for an optional parameter None, 0, "" and False mean not set.

    Returns
    -------
    bool
        True for every required parameter, whatever its value.

    Examples
    --------
    >>> is_set("learning_rate", None), is_set("learning_rate", 0.01), is_set("bottleneck", 0), is_set("depth", 0)
    (False, True, False, True)
    """
    return not PARAMETERS[name].get("optional") or value not in _ABSENT


def coerce(name: str, value):
    """The value in its canonical form (choices lower-cased, numbers from text), or a UsageError naming what is
    valid. An optional parameter's default passes as itself.

    Parameters
    ----------
    name : str
        A key of `PARAMETERS`.
    value : object
        The value as given: its type, text of it ("3", "1e-3", "true"/"false" in any case for a bool), or None
        or "" for an optional parameter not set. A bool never passes as a number, nor 2.5 as an int.

    Returns
    -------
    str, int, float, bool or None
        The value of the parameter's type, within its choices and > 0 where it must be positive.

    Raises
    ------
    UsageError
        For an unknown parameter, or a value of the wrong type, outside its choices, or not a finite number > 0
        where that is required.

    Examples
    --------
    >>> coerce("loss", "MSE"), coerce("depth", "3"), coerce("with_cipher", "False"), coerce("learning_rate", "")
    ('mse', 3, False, None)
    >>> coerce("depth", 6)
    Traceback (most recent call last):
        ...
    aecrypt.UsageError: depth 6 is not valid; valid: 2, 3, 4, 5
    """
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
    optional ones only when set.

    Parameters
    ----------
    values : Mapping
        A value for every parameter the template takes (a missing one raises KeyError).
    template : {"experiment", "baseline"}, optional
        The notebook.

    Returns
    -------
    dict
        Name → value, in the table's order, without the optional parameters that are not set.

    Examples
    --------
    >>> values = {n: default(n) for n in PARAMETERS}
    >>> given(values, "baseline")
    {'profile': 'tiny', 'data': '', 'seed': 0, 'data_seed': 0}
    >>> [n for n in given(values | {"learning_rate": 0.01}) if PARAMETERS[n].get("optional")]
    ['learning_rate']
    """
    return {n: values[n] for n in names(template) if is_set(n, values[n])}


def options(values: Mapping, role: str) -> dict:
    """The set parameters a model takes as keyword arguments (`role`, e.g. "optimizer").

    Parameters
    ----------
    values : Mapping
        A value for every parameter that has the role.
    role : str
        Where a model takes them; "optimizer": keyword arguments of the optimizer's constructor.

    Returns
    -------
    dict
        Name → value of the parameters with that role that are set; empty leaves the library's defaults.

    Examples
    --------
    >>> options({"learning_rate": 0.01}, "optimizer"), options({"learning_rate": None}, "optimizer")
    ({'learning_rate': 0.01}, {})
    """
    return {n: values[n] for n, e in PARAMETERS.items() if e.get("role") == role and is_set(n, values[n])}


def label(values: Mapping) -> str:
    """A combination's name: the paper's (e.g. MSLE+Adagrad+ReLU+2), then each set optional parameter that
    names itself (e.g. " k=4", " lr=0.01").

    Parameters
    ----------
    values : Mapping
        At least loss, optimizer, activation and depth; optional parameters may be left out.

    Returns
    -------
    str
        `choices.combination_label`, then the labels of the set optional parameters in the table's order.

    Examples
    --------
    >>> label({"loss": "msle", "optimizer": "adagrad", "activation": "relu", "depth": 2})
    'MSLE+Adagrad+ReLU+2'
    >>> label({"loss": "mse", "optimizer": "adam", "activation": "relu", "depth": 3, "bottleneck": 4,
    ...        "learning_rate": 0.01})
    'MSE+Adam+ReLU+3 lr=0.01 k=4'
    """
    base = choices.combination_label(values["loss"], values["optimizer"], values["activation"], values["depth"])
    return base + "".join(
        e["label"].format(values[n]) for n, e in PARAMETERS.items() if "label" in e and is_set(n, values.get(n))
    )


def fields(first: Mapping[str, type] | None = None, last: list[tuple] = ()) -> list[tuple]:
    """Dataclass fields for every parameter, with its type and default, keyword-only; `first` replaces
    parameters' types and makes them required and positional (e.g. the profile of a sweep's run, an object);
    `last` adds fields after them.

    Parameters
    ----------
    first : Mapping of str to type, optional
        Fields that come first, required and positional (a parameter named here is not repeated).
    last : list of tuple, optional
        Field specs, as `dataclasses.make_dataclass` takes them, appended at the end (keyword-only too).

    Returns
    -------
    list of tuple
        Field specs for `dataclasses.make_dataclass`.

    Examples
    --------
    >>> Run = dataclasses.make_dataclass("Run", fields({"profile": object}, [("notes", str, "")]))
    >>> run = Run("tiny", depth=2)
    >>> run.profile, run.depth, run.learning_rate, run.with_cipher, run.notes
    ('tiny', 2, None, True, '')
    """
    first = dict(first or {})
    made: list[tuple] = [*first.items(), ("_", dataclasses.KW_ONLY)]
    for n, e in PARAMETERS.items():
        if n not in first:
            made.append((n, TYPES[e["type"]], dataclasses.field(default=e["default"])))
    return made + list(last)


def describe(name: str, sep: str = ", ") -> str:
    """A parameter's help line, with its valid values where it has a table of them.

    Parameters
    ----------
    name : str
        A key of `PARAMETERS`.
    sep : str, optional
        Between the valid values.

    Returns
    -------
    str
        The entry's help, its ``{choices}`` replaced by the values of its `paper.choices` table.

    Examples
    --------
    >>> describe("depth", " | ")
    'encoder convolutions, 2 | 3 | 4 | 5 (the paper: 2, 3, 5)'
    >>> describe("seed")
    'training seed: initial weights, data order (varies across a build)'
    """
    entry = PARAMETERS[name]
    return entry["help"].format(choices=sep.join(map(str, getattr(choices, entry.get("choices", ""), ()))))
