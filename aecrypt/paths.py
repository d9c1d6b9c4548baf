"""Every path the project reads or writes, named in one place: the source tree's folders, the results
folders, and the names of the files in a run folder and a profile's results."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent
#: True when the package runs from a clone (make setup's editable install): templates, grids, pages and
#: results are the clone's. An installed wheel reads its templates and grids from the package (setup.py copies
#: them in) and writes results, caches and builds under the working folder, or under AECRYPT_HOME where set,
#: never into site-packages.
IN_CLONE = (PACKAGE.parent / "pyproject.toml").is_file() and (PACKAGE.parent / "notebooks").is_dir()
ROOT = PACKAGE.parent if IN_CLONE else Path(os.environ.get("AECRYPT_HOME") or Path.cwd()).resolve()
RESOURCES = PACKAGE.parent if IN_CLONE else PACKAGE / "resources"
NOTEBOOKS = RESOURCES / "notebooks"
TEMPLATE = NOTEBOOKS / "experiment.ipynb"
GRIDS = RESOURCES / "grids"
BOOK = ROOT / "book"
STYLE = PACKAGE / "figures" / "aecrypt.mplstyle"
# The shared real samples live beside the checkout, never inside it.
SHARED_DATA = ROOT.parent / "shared" / "data"


@dataclass(frozen=True)
class RunFiles:
    """The files of a run folder, results/<profile>/runs/<run-id>/ (the run contract of the shared design notes,
    ../shared/DESIGN.md beside a checkout; not part of the repository)."""

    params: str = "params.json"  # what the sweep passed, with the label and run id
    config: str = "config.json"  # the run's configuration and the profile's settings as it ran
    status: str = "status.json"  # ok, error, seconds, host
    data: str = "data.json"  # the data's summary and split sizes
    metrics: str = "metrics.json"  # every scalar, stage timings, peak memory
    env: str = "env.json"  # versions and the CPU (not part of the run's id)
    history: str = "history.csv"  # per-epoch losses of the autoencoder and classifier
    roc: str = "roc.csv"
    scores: str = "scores.csv"  # one row per test image
    confusion: str = "confusion.csv"
    samples: str = "samples.npz"  # the first test images at every stage (Fig. 4)
    paper_key: str = "paper_key.json"  # the recipe of the paper-cipher key, never the key
    notebook: str = "experiment.ipynb"  # the executed template
    kernel_log: str = "kernel.log"  # the kernel's stderr (TensorFlow's start-up lines)
    encoder: str = "encoder.keras"
    decoder: str = "decoder.keras"
    classifier: str = "classifier.keras"

    @property
    def required(self) -> tuple[str, ...]:
        """What a complete run folder has (a baseline writes no models or samples)."""
        return (self.metrics, self.params, self.history, self.roc, self.confusion)

    @property
    def models(self) -> dict[str, str]:
        """The trained models a combination's folder keeps (`aecrypt encrypt/decrypt` and the audit load them)."""
        return {"encoder": self.encoder, "decoder": self.decoder, "classifier": self.classifier}


RUN_FILES = RunFiles()


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


def failed_dir(profile: str, root: Path | None = None) -> Path:
    return profile_dir(profile, root) / "failed"


def summary_csv(profile: str, root: Path | None = None) -> Path:
    """The one table every figure reads."""
    return profile_dir(profile, root) / "summary.csv"


def plan_json(profile: str, root: Path | None = None) -> Path:
    """The sweep's plan: every run with its id, the baselines, the references, what was skipped."""
    return profile_dir(profile, root) / "plan.json"


def added_json(profile: str, root: Path | None = None) -> Path:
    """Runs added by hand (`aecrypt add`)."""
    return profile_dir(profile, root) / "added.json"


def audit_json(profile: str, root: Path | None = None) -> Path:
    """The cipher audit's record (`aecrypt audit`)."""
    return profile_dir(profile, root) / "audit.json"


def audit_samples(profile: str, root: Path | None = None) -> Path:
    """The audit's example pictures, for the *Is it secure?* page."""
    return profile_dir(profile, root) / "audit_samples.npz"


def link_json(profile: str, root: Path | None = None) -> Path:
    """The last `make bench-link` record of a profile's runs (the book's "The link" page reads it)."""
    return profile_dir(profile, root) / "link.json"


def shaped_json(profile: str, root: Path | None = None) -> Path:
    """The link measured through a shaped network namespace (`make bench-shaped`; "The link" page reads it)."""
    return profile_dir(profile, root) / "shaped.json"


def convergence_json(profile: str, root: Path | None = None) -> Path:
    """The long runs' record (`make bench-convergence`): how far each trained and what it measured."""
    return profile_dir(profile, root) / "convergence.json"


#: The long runs (aecrypt.runs.longrun): results/<profile>/long/<name>/, each with its records and (archived only
#: with the models) its checkpoints.
LONG_RUNS = "long"
LONG_RUN_NAME = r"[a-z0-9_]+-seed[0-9]+"
LONG_RUN_RECORDS = ("state.json", "history.csv", "curve.csv", "final_scores.csv", "best_scores.csv")
LONG_RUN_MODELS = ("model.weights.h5", "best.weights.h5", "optimizer.npz")
LONG_RUN_FILES = LONG_RUN_RECORDS + LONG_RUN_MODELS


def long_run_dir(profile: str, name: str, root: Path | None = None) -> Path:
    return profile_dir(profile, root) / LONG_RUNS / name


def verdicts_json(profile: str, root: Path | None = None) -> Path:
    """The calibration of the claim tests on this build's noise (`make bench-verdicts`, or make book's quick one)."""
    return profile_dir(profile, root) / "verdicts.json"


@dataclass(frozen=True)
class CompressionFiles:
    """The files of results/<profile>/compression/ (`aecrypt compression`; the chapter "Is it compressed?")."""

    record: str = "record.json"  # what it read, which codecs were offered, timings, notes
    bytes: str = "bytes.csv"  # bytes on the wire per image, every way an image or latent travels
    rd: str = "rd.csv"  # rate–distortion points: every method and setting, means over the same images
    per_image: str = "per_image.csv"  # each test image's quality (and bytes where measured), every method and setting
    latency: str = "latency.csv"  # encode/decode seconds per image and seconds on the wire
    keeps_up: str = "keeps_up.csv"  # which method keeps up with which link at 1 and 10 images/s
    matches: str = "matches.csv"  # the codec settings matched to each bottleneck's rate
    equal_rate: str = "equal_rate.csv"  # the classifier at equal rate: one row per run
    comparisons: str = "comparisons.csv"  # AUC differences at equal rate with intervals and Holm's p


COMPRESSION_FILES = CompressionFiles()


def compression_dir(profile: str, root: Path | None = None) -> Path:
    return profile_dir(profile, root) / "compression"


def compression_originals_csv(root: Path | None = None) -> Path:
    """The codecs' rate–distortion curve with MS-SSIM on originals at the paper's 200² (`make bench-compression`)."""
    return (root or results_root()) / "compression-originals.csv"


def bench_json(root: Path | None = None) -> Path:
    """The last `make bench` record of this machine (the book's Performance page reads it)."""
    return (root or results_root()) / "bench.json"


def machine_records() -> Path:
    """Records that measure this machine rather than a build (the quick performance and link records), kept per
    user across clones, profiles and data sets, each under its key (benchmarks/stamp.py);
    AECRYPT_MACHINE_RECORDS overrides."""
    default = Path.home() / ".cache" / "aecrypt" / "machine"
    return Path(os.environ.get("AECRYPT_MACHINE_RECORDS", default)).resolve()


def stages_json(root: Path | None = None) -> Path:
    """The last `make bench-stages` record: where a run's time goes, per stage, as the sweep runs it."""
    return (root or results_root()) / "stages.json"


def coldbook_json(root: Path | None = None) -> Path:
    """The cold `make book`s timed step by step from a fresh clone (`make bench-cold`), one per commit, profile and
    CPU line."""
    return (root or results_root()) / "coldbook.json"


def sizing_json(root: Path | None = None) -> Path:
    """The last `make bench-size`: each candidate design of the default and its predicted cold `make book`."""
    return (root or results_root()) / "sizing.json"


def memory_json(root: Path | None = None) -> Path:
    """The last `make bench-memory` record."""
    return (root or results_root()) / "memory.json"
