"""A run's identity: a content hash of exactly what can change its result — its parameters (training and
data seeds included), the profile's run settings (numerics included), the template's code cells, the
`aecrypt` code the template can execute (`runs.closure.reached_code_hash`: the definitions its code reaches in
the modules it imports; the link, book, stats, audit, coursework and CLI are outside them), its own entries of
the vocabulary (`BY_VALUE`), the version of every installed distribution that those imports reach (and of the Keras
backend, named by KERAS_BACKEND), and the data. The CPU is recorded in each run's env.json, not here. A
finished run is never recomputed; a change to any of these gives a new id."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

from aecrypt import cachekeys, paths
from aecrypt.runs import closure
from aecrypt.runs.spec import TEMPLATES, RunSpec, template_path


def code_cells(template: Path, parameters: bool = True) -> list[str]:
    """The source of each code cell; without the `parameters` cell if asked."""
    nb = json.loads(Path(template).read_text())
    return [
        c["source"] if isinstance(c["source"], str) else "".join(c["source"])
        for c in nb["cells"]
        if c["cell_type"] == "code" and (parameters or "parameters" not in c.get("metadata", {}).get("tags", []))
    ]


def template_hash(template: Path = paths.TEMPLATE) -> str:
    """Hash of the template's code cells (not of its outputs or metadata), but its parameters cell: a run's
    parameters are hashed by value (`RunSpec.parameters`), and the cell's defaults are those of
    `paper.parameters`, which a test holds it to."""
    return cachekeys.key(code_cells(template, parameters=False))


def imported_modules(template: Path = paths.TEMPLATE) -> list[str]:
    """Every `aecrypt` module the template's code imports, directly or through other modules."""
    return closure.closure(closure.imports_of_code(code_cells(template)))


def source_hash(template: Path = paths.TEMPLATE) -> str:
    """Hash of the `aecrypt` code the template can execute (`closure.reached_code_hash`), but for what `BY_VALUE`
    hashes by value."""
    return closure.reached_code_hash(imported_modules(template), code_cells(template), BY_VALUE)


def backend_package() -> str:
    """The distribution of the Keras backend a run will use (KERAS_BACKEND, default tensorflow): Keras imports
    it by name at run time, so no import statement shows it."""
    backend = os.environ.get("KERAS_BACKEND", "tensorflow")
    return {"jax": "jax", "torch": "torch", "tensorflow": "tensorflow"}.get(backend, backend)


def template_versions(template: Path = paths.TEMPLATE) -> dict[str, str]:
    """The backend's name, and the version of every distribution the template's imports reach."""
    names = closure.third_party_imports(imported_modules(template), code_cells(template))
    return {"backend": os.environ.get("KERAS_BACKEND", "tensorflow")} | closure.versions(names | {backend_package()})


def data_fingerprint(spec: RunSpec) -> str:
    """Synthetic data is a pure function of (size, count, data seed) and the generator's source, which the
    source hash covers; real data is hashed by content."""
    n_images = spec.profile.images_for(spec.data)
    if spec.data == "synthetic":
        key = ["synthetic", spec.image_size, n_images, spec.data_seed]
        return cachekeys.key(key, length=16)
    from aecrypt.data.dataset import load_dataset

    return load_dataset(spec.data, spec.image_size, n_images, spec.data_seed).fingerprint


@dataclass(frozen=True)
class Fingerprints:
    """The inputs shared by every run of a sweep, computed once per template: its code, the code of the
    modules it imports, and the versions of what those reach."""

    templates: dict[str, tuple[str, str, dict[str, str]]]  # name -> (code hash, source hash, versions)

    @classmethod
    def now(cls, template: Path | None = None) -> Fingerprints:
        """`template` replaces notebooks/experiment.ipynb (tests)."""
        found = {}
        for name in TEMPLATES:
            path = template if (template and name == "experiment") else template_path(name)
            found[name] = (template_hash(path), source_hash(path), template_versions(path))
        return cls(found)


#: What a run reads whose *value* its id hashes instead of the code that defines it, so that adding to it reruns
#: no run: definition ("module:NAME") → what is hashed. Everything else a run executes is hashed as code
#: (`closure.reached_code_hash`); this is the one place the exceptions are said.
#: The vocabulary's tables (in aecrypt.paper.choices), each by the run parameter that picks its entry.
VOCABULARY = {"loss": "LOSSES", "optimizer": "OPTIMIZERS", "activation": "ACTIVATIONS"}
BY_VALUE = {
    "aecrypt.profiles:PROFILES": "the run's profile's settings (Profile.run_settings: not its description)",
    "aecrypt.paper.parameters:PARAMETERS": "how the run reads each parameter it passes (PARAMETER_BEHAVIOUR)",
    **{f"aecrypt.paper.choices:{table}": f"the run's {kind}'s entry" for kind, table in VOCABULARY.items()},
}


#: What of a passed parameter's entry changes how a run reads it (its default, notebooks, level and help do not:
#: its value is passed).
PARAMETER_BEHAVIOUR = ("type", "optional", "positive", "choices", "role", "label")


def vocabulary_entries(spec: RunSpec) -> dict:
    """The run's own entries of the tables hashed by value (`BY_VALUE`): what it reads of them."""
    passed = spec.parameters()
    table = closure.literal("aecrypt.paper.parameters", "PARAMETERS")
    entries: dict = {"parameters": {n: {k: table[n].get(k) for k in PARAMETER_BEHAVIOUR} for n in passed if n in table}}
    for kind, name in VOCABULARY.items():
        if kind in passed:
            entries[kind] = closure.literal("aecrypt.paper.choices", name)[passed[kind]]
    return entries


def run_id(spec: RunSpec, fingerprints: Fingerprints, data_fp: str) -> str:
    code, source, versions = fingerprints.templates[spec.template]
    payload = {
        "vocabulary": vocabulary_entries(spec),
        "template": spec.template,
        "parameters": spec.parameters(),
        "profile": spec.profile.run_settings(),
        "template_code": code,
        "source": source,
        "versions": versions,
        "data": data_fp,
    }
    return cachekeys.key(payload, length=16)
