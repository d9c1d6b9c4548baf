"""aecrypt as an installed package: the wheel carries the run templates and grids, installs with the link
extra alone (no TensorFlow) from the wheelhouse `make setup` fills, without a registry, and then moves X-rays
as PNG payloads with no trained run; results go under the working folder, never into site-packages."""

import json
import os
import subprocess
import sys
import zipfile

import pytest

from aecrypt import paths

WHEELHOUSE = paths.ROOT / ".venv" / "wheelhouse"
pytestmark = pytest.mark.skipif(
    not WHEELHOUSE.is_dir(), reason=f"no wheelhouse at {WHEELHOUSE}: `make setup` fills it (pip download, at set-up)"
)
#: pip with no registry: an install that needs one fails instead of reaching it.
OFFLINE = {"PIP_NO_INDEX": "1", "PIP_CONFIG_FILE": os.devnull, "PIP_DISABLE_PIP_VERSION_CHECK": "1"}


def _run(cmd, cwd, env=None, check=True):
    done = subprocess.run(
        [str(c) for c in cmd], cwd=cwd, capture_output=True, text=True, timeout=300, env=dict(os.environ, **(env or {}))
    )
    if check:
        assert done.returncode == 0, f"{cmd}: {done.stdout}{done.stderr}"
    return done


@pytest.fixture(scope="module")
def wheel(tmp_path_factory):
    out = tmp_path_factory.mktemp("wheel")
    # the project venv's setuptools builds it (no isolated build environment: that would need a registry)
    _run(
        [sys.executable, "-m", "pip", "wheel", "--no-build-isolation", "--no-deps", "-q", "-w", out, paths.ROOT],
        out,
        OFFLINE,
    )
    (found,) = out.glob("aecrypt-*.whl")
    return found


@pytest.fixture(scope="module")
def link_venv(wheel, tmp_path_factory):
    """A fresh venv with `aecrypt[link]` from the wheel and the wheelhouse, and no registry."""
    venv = tmp_path_factory.mktemp("venv") / "link"
    _run([sys.executable, "-m", "venv", venv], cwd=venv.parent)
    pip = [venv / "bin" / "python", "-m", "pip", "install", "-q", "--no-index", "--find-links", WHEELHOUSE]
    _run([*pip, f"aecrypt[link] @ {wheel.as_uri()}"], cwd=venv.parent, env=OFFLINE)
    return venv


def test_the_wheel_carries_the_templates_and_grids_as_they_are_in_the_repository(wheel):
    with zipfile.ZipFile(wheel) as z:
        names = set(z.namelist())
        for source in [*paths.NOTEBOOKS.glob("*.ipynb"), *(paths.NOTEBOOKS / "assignments").glob("*.ipynb")]:
            member = "aecrypt/resources/" + source.relative_to(paths.ROOT).as_posix()
            assert z.read(member) == source.read_bytes(), member
        for source in paths.GRIDS.glob("*.yaml"):
            assert z.read(f"aecrypt/resources/grids/{source.name}") == source.read_bytes()
        metadata = z.read(next(n for n in names if n.endswith("METADATA"))).decode()
    assert "aecrypt/data/nih-cxr-2k-64.npz" in names and "aecrypt/figures/aecrypt.mplstyle" in names
    assert not any(n.startswith(("tests/", "book/", "results/")) for n in names)
    assert "License-Expression: MIT" in metadata and any(n.endswith("licenses/LICENSE") for n in names)
    requires = [line for line in metadata.splitlines() if line.startswith("Requires-Dist:")]
    core = [line for line in requires if "extra ==" not in line]
    assert not any("tensorflow" in line or "jupyter-book" in line for line in core)  # only with their extras
    assert any("tensorflow" in line and 'extra == "experiments"' in line for line in requires)
    assert any("otter-grader" in line and 'extra == "coursework"' in line for line in requires)


def test_the_link_extra_alone_moves_xrays_as_png_without_a_run(link_venv, tmp_path):
    """In a fresh venv with only `aecrypt[link]`: --version, keygen, and a PNG encrypt/decrypt round trip with
    no trained run, the pixels back exactly; TensorFlow and pandas are not there; a command that needs them
    names its extra."""
    from PIL import Image

    aecrypt = link_venv / "bin" / "aecrypt"
    work = tmp_path / "work"
    work.mkdir()
    version = _run([aecrypt, "--version"], work).stdout.strip()
    assert version.startswith("aecrypt ") and version != "aecrypt unknown"
    _run([aecrypt, "keygen", "-o", "link.key"], work)
    pixels = Image.effect_noise((64, 64), 60).convert("L")
    pixels.save(work / "xray.png")
    encrypt = [aecrypt, "encrypt", "xray.png", "--key", "link.key"]
    sealed = _run([*encrypt, "--payload", "png", "--size", "64", "-o", "out"], work)
    (packet,) = (work / "out").glob("*.aecp")
    assert "xray.png ->" in sealed.stdout
    opened = _run([aecrypt, "decrypt", packet, "--key", "link.key", "-o", "back"], work)
    assert "no --run: not classified" in opened.stdout
    (image,) = (work / "back").glob("*.png")
    assert list(Image.open(image).getdata()) == list(pixels.getdata())  # lossless, 8-bit exact
    rows = (work / "back" / "scores.csv").read_text().splitlines()
    assert rows[0].endswith("score,image") and rows[1].split(",")[-2] == ""  # no score without a classifier

    refused = _run([*encrypt, "-o", "latent"], work, check=False)
    assert refused.returncode == 2 and "needs a trained run (--run)" in refused.stderr
    python = link_venv / "bin" / "python"
    probe = (
        "import importlib.util, json; from aecrypt import paths; "
        "print(json.dumps({'tf': importlib.util.find_spec('tensorflow') is not None, "
        "'pandas': importlib.util.find_spec('pandas') is not None, 'clone': paths.IN_CLONE, "
        "'results': str(paths.results_root()), 'template': paths.TEMPLATE.is_file(), "
        "'grid': (paths.GRIDS / 'paper.yaml').is_file()}))"
    )
    found = json.loads(_run([python, "-c", probe], work).stdout)
    assert found == {
        "tf": False,
        "pandas": False,
        "clone": False,
        "results": str((work / "results").resolve()),  # the working folder, not site-packages
        "template": True,
        "grid": True,
    }
    home = tmp_path / "home"
    moved = json.loads(_run([python, "-c", probe], work, env={"AECRYPT_HOME": str(home)}).stdout)
    assert moved["results"] == str((home / "results").resolve())
    sweep = _run([aecrypt, "sweep", "--profile", "tiny"], work, check=False)
    assert sweep.returncode == 1 and sweep.stderr.count("\n") == 1
    assert "pip install 'aecrypt[experiments]'" in sweep.stderr
    assert not (work / "results").exists()
