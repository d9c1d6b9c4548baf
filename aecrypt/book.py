"""Build the HTML book from a profile's results: Jupyter Book 1 with warnings as errors, then the
executed run notebooks exported to HTML beside it so every page can link to the runs that fed it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from . import AecryptError, paths


def export_run_notebooks(profile: str, html_dir: Path, results_root: Path | None = None) -> int:
    """Write runs/<id>.html for every run (finished or failed) that has an executed notebook."""
    import nbformat
    from nbconvert import HTMLExporter

    out = html_dir / "runs"
    out.mkdir(parents=True, exist_ok=True)
    exporter = HTMLExporter(template_name="lab")
    count = 0
    for kind in ("runs", "failed"):
        for nb_path in sorted((paths.profile_dir(profile, results_root) / kind).glob("*/experiment.ipynb")):
            body, _ = exporter.from_notebook_node(nbformat.read(nb_path, as_version=4))
            (out / f"{nb_path.parent.name}.html").write_text(body)
            count += 1
    return count


def build(profile: str, results_root: Path | None = None, build_dir: Path | None = None) -> Path:
    """Build the book for `profile`; return the path of its index.html."""
    root = (results_root or paths.results_root()).resolve()
    if not paths.summary_csv(profile, root).is_file():
        raise AecryptError(f"no results for profile {profile!r} in {root}; run `aecrypt sweep --profile {profile}`")
    build_dir = (build_dir or paths.ROOT).resolve()  # jupyter-book writes <build_dir>/_build/html
    env = dict(os.environ, AECRYPT_PROFILE=profile, AECRYPT_RESULTS=str(root), TF_CPP_MIN_LOG_LEVEL="2")
    cmd = [
        str(Path(sys.executable).with_name("jupyter-book")),  # the venv's own console script
        "build",
        str(paths.ROOT),
        "--config",
        str(paths.ROOT / "_config.yml"),
        "--toc",
        str(paths.BOOK / "_toc.yml"),
        "--path-output",
        str(build_dir),
        "-W",
        "-n",
        "--keep-going",
    ]
    if subprocess.call(cmd, env=env, cwd=paths.ROOT) != 0:
        raise AecryptError(f"the book did not build cleanly for profile {profile!r} (see the messages above)")
    html = build_dir / "_build" / "html"
    export_run_notebooks(profile, html, root)
    return html / "index.html"
