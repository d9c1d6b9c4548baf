"""The repository's shape: environment.yml equals pyproject's dependencies; the layout is real."""

import re
import tomllib

import yaml

from aecrypt import paths


def _norm(req: str) -> str:
    return re.sub(r"\s+", "", req).lower()


def test_environment_yml_lists_the_same_dependencies_as_pyproject():
    project = tomllib.loads((paths.ROOT / "pyproject.toml").read_text())["project"]
    wanted = {_norm(r) for r in project["dependencies"] + project["optional-dependencies"]["dev"]}
    env = yaml.safe_load((paths.ROOT / "environment.yml").read_text())
    pip = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict))
    listed = {_norm(r) for r in pip if not r.startswith("-e")}
    assert listed == wanted
    assert any(_norm(r).startswith("jupyter-book>=1.0.4,<2") for r in project["dependencies"])


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
    ):
        assert (paths.ROOT / entry).exists(), entry


def test_readme_opens_with_the_two_commands():
    head = "\n".join((paths.ROOT / "README.md").read_text().splitlines()[:25])
    assert "make book" in head and "make test" in head


def test_ci_runs_make_test():
    assert "make test" in (paths.ROOT / ".ci" / "run").read_text()
