"""Shared fixtures. Tests that need the real NIH samples read ../shared/data/ and skip, saying why,
where it is absent (a user's fresh clone); CI has it."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from aecrypt import paths
from aecrypt.runs import sweep

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


@pytest.fixture(autouse=True)
def _isolated_cache(tmp_path_factory, monkeypatch):
    """Each test session gets its own array cache, machine records and state folder (key counters, the packets
    receivers accepted), so tests never read or write a developer's."""
    monkeypatch.setenv("AECRYPT_CACHE", str(tmp_path_factory.getbasetemp() / "data-cache"))
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path_factory.getbasetemp() / "state"))
    monkeypatch.setenv("AECRYPT_MACHINE_RECORDS", str(tmp_path_factory.getbasetemp() / "machine-records"))


def shared(name: str):
    path = paths.SHARED_DATA / name
    if not path.is_dir():
        pytest.skip(f"real X-ray sample {path} is absent (it lives in ../shared/data beside the checkout; CI has it)")
    return path


@pytest.fixture
def nih_sample():
    return shared("nih-chestxray14-sample")


@pytest.fixture
def cxr_real():
    return shared("cxr-real-128")


@pytest.fixture
def package_copy(tmp_path, monkeypatch):
    """A copy of the aecrypt source that the run-id code reads instead of the real one."""
    import shutil

    copy = tmp_path / "aecrypt"
    shutil.copytree(paths.PACKAGE, copy, ignore=shutil.ignore_patterns("__pycache__"))
    monkeypatch.setattr(paths, "PACKAGE", copy)
    return copy


TINY_SEEDS = (0, 1)


@pytest.fixture(scope="session")
def tiny_sweep(tmp_path_factory):
    """One tiny sweep of the tiny grid at two training seeds (so that every aggregate over seeds and every
    interval is exercised), shared by the tests below and the book tests."""
    root = tmp_path_factory.mktemp("results")
    report = sweep.run_sweep("tiny", paths.GRIDS / "tiny.yaml", results_root=root, seeds=TINY_SEEDS)
    return root, report


@pytest.fixture(scope="session")
def tiny_book(tiny_sweep, tmp_path_factory):
    """The instructor edition of the book on the tiny sweep: (results root, HTML folder)."""
    from aecrypt.book import build

    root, _ = tiny_sweep
    # make book's quick calibration record, as make book writes it before the pages (a few seconds at tiny)
    script = paths.ROOT / "benchmarks" / "verdicts.py"
    subprocess.run([sys.executable, str(script), "--book", "--profile", "tiny", "--results", str(root)], check=True)
    from aecrypt.compression.record import run_compression

    run_compression("tiny", root, native=False)  # make book's compression step (its native 64² left out: time)
    index = build.build("tiny", root, tmp_path_factory.mktemp("book"))
    return root, index.parent


@pytest.fixture(scope="session")
def embedded_student_book(tmp_path_factory):
    """One combination and its baseline trained at tiny on the embedded X-rays, and the *student* edition built on
    them: (sweep report, HTML folder). The embedded-data tests read what its pages say of the data, the
    coursework tests that no solution is left in it. One build serves both: the student pages are the
    instructor's with the solutions removed, so what they say of the data is the same in either edition."""
    from aecrypt.book import build

    work = tmp_path_factory.mktemp("embedded")
    grid = work / "one.yaml"
    grid.write_text("name: one\nextra:\n  - {loss: mse, optimizer: adam, depth: 2, activation: relu}\n")
    report = sweep.run_sweep("tiny", grid, "nih-embedded", results_root=work / "results", references=False)
    index = build.build("tiny", work / "results", work / "book", edition="student")
    return report, index.parent


@pytest.fixture(scope="session")
def link_sweep(tmp_path_factory):
    """One tiny combination trained on its own (no reference runs): the run the link's tests send through, so
    that they neither wait for the tiny sweep nor share its worker. (results root, sweep report), as `tiny_sweep`."""
    work = tmp_path_factory.mktemp("link-run")
    grid = work / "one.yaml"
    grid.write_text("name: one\nextra:\n  - {loss: mse, optimizer: adam, depth: 2, activation: relu}\n")
    root = work / "results"
    return root, sweep.run_sweep("tiny", grid, results_root=root, seeds=TINY_SEEDS[:1], references=False)


@pytest.fixture(scope="session")
def ends(link_sweep, tmp_path_factory):
    """The link's two ends on a tiny run: its models, a key file, and six random images."""
    import numpy as np

    from aecrypt.link import faults, keys
    from aecrypt.runs import trained

    root, _ = link_sweep
    work = tmp_path_factory.mktemp("link")
    run_id = trained.list_runs("tiny", root)["run_id"].iloc[0]
    run = trained.TrainedRun.load(trained.find_run(run_id, "tiny", root))
    key = keys.generate(work / "k.key")
    images = np.random.default_rng(0).random((6, run.size, run.size), dtype=np.float32)
    return faults.Ends(run, key, images)


@pytest.fixture(scope="session")
def pki(tmp_path_factory):
    """A throwaway CA with a broker and a client certificate, and a second CA that signed neither."""
    from aecrypt.link import certs

    base = tmp_path_factory.mktemp("pki")
    return certs.make_test_pki(base / "ours"), certs.make_test_pki(base / "other")


#: The fixtures that train, build or simulate for a minute or more, each with the pytest-xdist group of the tests
#: that need it: `make test` runs tests on every core (`-n auto --dist loadgroup`), and a group stays in one
#: worker, so each fixture is built once. Ordered by what their groups cost, the costliest first: the workers take
#: them in this order, before every other test (`pytest_collection_modifyitems`), so that the long groups run
#: side by side from the start and the short tests fill in behind them (longest first keeps the workers'
#: finishing times close; by xdist's own order — groups by their number of tests — a long group of few tests
#: started last, alone).
SHARED_BUILDS = {
    "tiny_sweep": "tiny-build",
    "link_sweep": "link",
    "embedded_student_book": "embedded-student",
    "counts": "calibration",
    "assigned": "assignments",
    "default_collapse": "default-collapse",
    "wheel": "wheel",
}
_GROUP_ORDER = {group: rank for rank, group in enumerate(SHARED_BUILDS.values())}


def _group(item) -> str | None:
    needs = [group for name, group in SHARED_BUILDS.items() if name in getattr(item, "fixturenames", ())]
    return needs[0] if needs else None


def pytest_itemcollected(item):  # while collecting: before pytest-xdist reads the groups
    if group := _group(item):
        item.add_marker(pytest.mark.xdist_group(group))


def pytest_collection_modifyitems(items):
    """The shared builds' groups first, costliest first; every other test after them, in its usual order (a stable
    sort). `make test` keeps this order for xdist (`--no-loadscope-reorder`)."""
    items.sort(key=lambda item: _GROUP_ORDER.get(_group(item), len(_GROUP_ORDER)))
