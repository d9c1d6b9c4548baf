"""The `parameters` cell of each run notebook (notebooks/experiment.ipynb and baseline.ipynb), written from the
one run definition, `paper.parameters`: every parameter the notebook takes with its default and help, then what
the notebook takes besides (`EXECUTION`). A test fails when a notebook's cell drifts from it;
`python -m aecrypt.paper.cells` rewrites them."""

from __future__ import annotations

import json
from pathlib import Path

from aecrypt.paper.parameters import PARAMETERS, describe, names

#: What a notebook takes besides the run's parameters: where it writes, its threads, and profile settings for
#: one run. A run's id hashes none of the first two; of the overrides, a sweep passes only a smaller image size,
#: which it hashes (`RunSpec.parameters`).
EXECUTION = {
    "output_dir": {"experiment": "run-output", "baseline": "baseline-output"},
    "threads": "0: all cores; the sweep sets 1 per parallel run",
    "overrides": 'profile settings for this run only, e.g. {"n_images": 1000, "ae_epochs": 1}',
}


def parameter_cell(template: str) -> str:
    """The source of a notebook's `parameters` cell: every parameter it takes with its default and help, then
    where it writes, its threads and its overrides.

    Parameters
    ----------
    template : {"experiment", "baseline"}
        The notebook.

    Returns
    -------
    str
        Python source, one assignment per line, each with its help as a comment (strings written as JSON).

    Examples
    --------
    >>> cell = parameter_cell("baseline").splitlines()
    >>> print(cell[0], *cell[-3:], sep="\\n")
    # Parameters (papermill overrides these; generated from aecrypt.paper.parameters)
    output_dir = "baseline-output"
    threads = 0               # 0: all cores; the sweep sets 1 per parallel run
    overrides = {}            # profile settings for this run only, e.g. {"n_images": 1000, "ae_epochs": 1}
    """
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
    """Rewrite the `parameters` cell of each template notebook in `folder` from the table; returns those changed.

    Parameters
    ----------
    folder : pathlib.Path
        Holds experiment.ipynb and baseline.ipynb, each with a cell tagged "parameters".

    Returns
    -------
    list of pathlib.Path
        The notebooks rewritten; a notebook whose cell already matches `parameter_cell` is left as it is.

    Examples
    --------
    >>> import tempfile
    >>> notebook = {"cells": [{"cell_type": "code", "metadata": {"tags": ["parameters"]}, "source": []}]}
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     for template in ("experiment", "baseline"):
    ...         _ = (Path(tmp) / f"{template}.ipynb").write_text(json.dumps(notebook))
    ...     first, again = write_cells(Path(tmp)), write_cells(Path(tmp))
    >>> [p.name for p in first], again
    (['experiment.ipynb', 'baseline.ipynb'], [])
    """
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
