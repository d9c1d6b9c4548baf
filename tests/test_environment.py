"""The repository's shape: pyproject, requirements.lock and environment.yml agree; the layout is real."""

import re

import pytest
import yaml
from packaging.markers import Marker
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from aecrypt import lockfile, paths


def _lock_pins() -> dict[str, list[lockfile.Pin]]:
    pins: dict[str, list[lockfile.Pin]] = {}
    for pin in lockfile.read_lock(lockfile.LOCK.read_text()):
        pins.setdefault(canonicalize_name(pin.name), []).append(pin)
    return pins


def test_the_lock_pins_every_project_requirement_to_a_version_it_allows():
    pins = _lock_pins()
    python = {"python_version": "3.11", "python_full_version": "3.11.7", "sys_platform": "linux"}
    for text in lockfile.project_requirements():
        req = Requirement(text)
        candidates = pins.get(canonicalize_name(req.name), [])
        here = [p for p in candidates if not p.marker or Marker(p.marker).evaluate(python)]
        assert len(here) == 1, f"{req.name}: {len(here)} pins for Python 3.11 on Linux"
        assert req.specifier.contains(here[0].version, prereleases=True), f"{req} vs locked {here[0].version}"
    # every locked line carries hashes (pip installs it with --require-hashes)
    text = lockfile.LOCK.read_text()
    assert len(pins) > 50
    assert all("--hash=sha256:" in block for block in re.split(r"\n(?=[A-Za-z0-9])", text.split("\n", 2)[2]))


def test_the_lock_was_made_from_pyproject_with_every_extra_and_make_setup_installs_it():
    assert lockfile.LOCK_COMMAND in lockfile.LOCK.read_text().replace("\n#    ", " ")
    makefile = (paths.ROOT / "Makefile").read_text()
    assert "--require-hashes -r requirements.lock" in makefile and "aecrypt.lockfile" in makefile
    assert lockfile.LINK_LOCK_COMMAND.split(" -o ")[0] in makefile.replace("\\\n\t\t", "")


def test_the_link_lock_is_the_link_extra_at_the_main_locks_versions_and_fills_the_wheelhouse():
    assert lockfile.LINK_LOCK_COMMAND in lockfile.LINK_LOCK.read_text().replace("\n#    ", " ")
    main = {(canonicalize_name(p.name), p.marker): p.version for p in lockfile.read_lock(lockfile.LOCK.read_text())}
    link = lockfile.read_lock(lockfile.LINK_LOCK.read_text())
    names = {canonicalize_name(p.name) for p in link}
    assert {"paho-mqtt", "amqtt", "cryptography", "numpy", "pillow"} <= names
    assert not names & {"tensorflow", "keras", "pandas", "jupyter-book", "otter-grader"}
    for pin in link:
        assert main.get((canonicalize_name(pin.name), pin.marker)) == pin.version, pin
    assert (
        "pip download" in (paths.ROOT / "Makefile").read_text()
        and "-r requirements-link.lock" in (paths.ROOT / "Makefile").read_text()
    )


def test_an_installed_aecrypt_brings_only_the_png_link_and_the_extras_the_rest():
    import tomllib

    project = tomllib.loads(lockfile.PYPROJECT.read_text())["project"]
    core = {canonicalize_name(Requirement(r).name) for r in project["dependencies"]}
    assert core == {"numpy", "pillow", "cryptography", "pyyaml"}
    extras = project["optional-dependencies"]
    named = {k: {canonicalize_name(Requirement(r).name) for r in v} for k, v in extras.items()}
    assert {"tensorflow", "keras", "papermill"} <= named["experiments"] and {"paho-mqtt", "amqtt"} <= named["link"]
    assert "jupyter-book" in named["book"] and "otter-grader" in named["coursework"]
    assert "jupytext" in named["book"] and "jupytext" in named["coursework"]  # declared, not only through otter
    assert extras["all"] == ["aecrypt[link,experiments,book,coursework]"]


def test_environment_yml_is_generated_from_the_lock():
    assert lockfile.ENVIRONMENT_YML.read_text() == lockfile.render_environment(
        lockfile.read_lock(lockfile.LOCK.read_text())
    ), "environment.yml is stale: run `make lock`"
    env = yaml.safe_load(lockfile.ENVIRONMENT_YML.read_text())
    pip = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict))
    locked = {canonicalize_name(p.name) for p in lockfile.read_lock(lockfile.LOCK.read_text())}
    assert {canonicalize_name(Requirement(r).name) for r in pip if not r.startswith("-e")} == locked


def test_jupyter_book_stays_on_the_offline_major_version():
    assert any(re.sub(r"\s+", "", r).startswith("jupyter-book>=1.0.4,<2") for r in lockfile.project_requirements())


def test_layout_of_the_design_card_exists():
    for entry in (
        "aecrypt",
        "notebooks/experiment.ipynb",
        "book/_toc.yml",
        "tests",
        "grids/paper.yaml",
        "environment.yml",
        "_config.yml",
        "Makefile",
        "pyproject.toml",
        "README.md",
        ".ci/run",
        "LICENSE",
        "CITATION.cff",
        "binder/postBuild",
        ".github/workflows/book.yml",
    ):
        assert (paths.ROOT / entry).exists(), entry


def test_readme_opens_with_the_two_commands():
    head = "\n".join((paths.ROOT / "README.md").read_text().splitlines()[:25])
    assert "make book" in head and "make test" in head


def test_ci_runs_make_test():
    assert "make test" in (paths.ROOT / ".ci" / "run").read_text()


def test_make_setup_installs_uv_from_the_main_locks_own_entry_then_the_lock_with_uv():
    assert lockfile.UV_LOCK.read_text() == lockfile.render_uv_lock(lockfile.LOCK.read_text())
    (uv,) = lockfile.read_lock(lockfile.UV_LOCK.read_text())
    assert uv.name == "uv" and uv.version in {p.version for p in _lock_pins()["uv"]}
    assert lockfile.UV_LOCK.read_text().count("--hash=sha256:") >= 5
    makefile = (paths.ROOT / "Makefile").read_text()
    assert "--require-hashes --no-deps -r requirements-uv.lock" in makefile
    assert makefile.index("requirements-uv.lock") < makefile.index("--require-hashes -r requirements.lock")


def test_the_tests_of_a_shared_build_run_in_one_worker(request, tiny_sweep):
    """make test runs the tests on every core, and every test that needs the tiny build in one worker, so that it is
    built once: pytest-xdist names such a test by its group. pytest 9.2 broke that silently (the tests are then
    spread and each worker builds its own; pytest-dev/pytest-xdist#1386), so pyproject keeps pytest below it."""
    if not hasattr(request.config, "workerinput"):
        pytest.skip("not in a pytest-xdist worker (make test runs the tests in them; TEST_WORKERS=0 does not)")
    assert request.node.nodeid.endswith("@tiny-build"), request.node.nodeid
