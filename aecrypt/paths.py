"""Every path the project reads or writes, named in one place."""

from __future__ import annotations

import os
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent
ROOT = PACKAGE.parent
NOTEBOOKS = ROOT / "notebooks"
TEMPLATE = NOTEBOOKS / "experiment.ipynb"
GRIDS = ROOT / "grids"
BOOK = ROOT / "book"
STYLE = PACKAGE / "aecrypt.mplstyle"
#: The trained models a run folder keeps (`aecrypt encrypt/decrypt` and the cipher audit load them).
RUN_MODELS = {"encoder": "encoder.keras", "decoder": "decoder.keras", "classifier": "classifier.keras"}
# The shared real samples live beside the checkout, never inside it.
SHARED_DATA = ROOT.parent / "shared" / "data"


def results_root() -> Path:
    """Where sweeps write; AECRYPT_RESULTS overrides (tests, book builds of other folders)."""
    return Path(os.environ.get("AECRYPT_RESULTS", ROOT / "results")).resolve()


def data_cache() -> Path:
    """Preprocessed-array cache; AECRYPT_CACHE overrides."""
    return Path(os.environ.get("AECRYPT_CACHE", ROOT / ".cache" / "data")).resolve()


def profile_dir(profile: str, root: Path | None = None) -> Path:
    return (root or results_root()) / profile


def runs_dir(profile: str, root: Path | None = None) -> Path:
    return profile_dir(profile, root) / "runs"


def summary_csv(profile: str, root: Path | None = None) -> Path:
    return profile_dir(profile, root) / "summary.csv"


def link_json(root: Path | None = None) -> Path:
    """The last `make bench-link` record (the book's "The link" page reads it)."""
    return (root or results_root()) / "link.json"


def bench_json(root: Path | None = None) -> Path:
    """The last `make bench` record of this machine (the book's Performance page reads it)."""
    return (root or results_root()) / "bench.json"
