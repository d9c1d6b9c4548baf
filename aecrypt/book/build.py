"""Build the HTML book from a profile's results: Jupyter Book 1 with warnings as errors, then the
executed run notebooks exported to HTML beside it so every page can link to the runs that fed it.

A build whose inputs are all unchanged (pages, configuration, the aecrypt source, the results table and
run folders, the bench record) is skipped: the HTML already shows exactly those results."""

from __future__ import annotations

import logging
import os
import re
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from aecrypt import AecryptError, UsageError, cachekeys, paths
from aecrypt.book import editions

log = logging.getLogger(__name__)


#: What a run notebook's HTML (its outputs and markdown) may keep: text markup, tables (pandas' with their
#: scoped style), headings, images and links; a script, a handler attribute or an SVG (which may script) is not.
SAFE_TAGS = {"a", "b", "i", "em", "strong", "code", "pre", "p", "br", "span", "div", "ul", "ol", "li", "blockquote"}
SAFE_TAGS |= {"h1", "h2", "h3", "h4", "table", "thead", "tbody", "tr", "th", "td", "img", "style", "sub", "sup"}
SAFE_ATTRIBUTES = {"*": ["class", "id", "title", "scoped"], "a": ["href"], "img": ["src", "alt", "width"]}
UNSAFE_OUTPUTS = ("application/javascript", "text/javascript", "image/svg+xml")


def sanitize_notebook(nb):
    """A run notebook with what a browser could run taken out (a notebook from an imported archive may hold
    anything): markdown and HTML outputs cleaned to `SAFE_TAGS` (bleach, which nbconvert brings), script and SVG
    outputs dropped. nbconvert's own sanitizer escapes pandas tables and headings into visible markup."""
    import bleach

    def clean(text: str) -> str:
        return bleach.clean(text, tags=SAFE_TAGS, attributes=SAFE_ATTRIBUTES, protocols={"http", "https", "data"})

    for cell in nb.cells:
        if cell.cell_type == "markdown":
            cell.source = clean(cell.source)
        for output in cell.get("outputs", []):
            data = output.get("data", {})
            for mime in UNSAFE_OUTPUTS:
                data.pop(mime, None)
            if "text/html" in data:
                html = data["text/html"]
                data["text/html"] = clean(html if isinstance(html, str) else "".join(html))
    return nb


def export_run_notebooks(profile: str, html_dir: Path, results_root: Path | None = None) -> int:
    """Write runs/<id>.html for every run (finished or failed) that has an executed notebook, sanitized."""
    import nbformat
    from nbconvert import HTMLExporter

    out = html_dir / "runs"
    out.mkdir(parents=True, exist_ok=True)
    exporter = HTMLExporter(template_name="lab")
    count = 0
    for kind in ("runs", "failed"):
        for nb_path in sorted((paths.profile_dir(profile, results_root) / kind).glob("*/experiment.ipynb")):
            body, _ = exporter.from_notebook_node(sanitize_notebook(nbformat.read(nb_path, as_version=4)))
            (out / f"{nb_path.parent.name}.html").write_text(body)
            count += 1
    return count


STAMP = ".aecrypt-inputs"


def _relative(path: Path, results_root: Path) -> str:
    for base in (results_root, paths.ROOT, paths.PACKAGE):
        if path.resolve().is_relative_to(base.resolve()):
            return path.resolve().relative_to(base.resolve()).as_posix()
    return str(path)


def inputs_hash(profile: str, results_root: Path, edition: str = "instructor") -> str:
    """Everything a build reads. Run folders are content-addressed and never rewritten, so their names
    (with the tables that list them) stand for their content."""
    from importlib import metadata

    pdir = paths.profile_dir(profile, results_root)
    files = [paths.ROOT / "_config.yml", paths.bench_json(results_root), paths.memory_json(results_root)]
    files += [paths.stages_json(results_root), paths.coldbook_json(results_root), paths.sizing_json(results_root)]
    files += [paths.link_json(profile, results_root), paths.audit_json(profile, results_root)]
    files += [paths.shaped_json(profile, results_root), paths.verdicts_json(profile, results_root)]
    files += [paths.compression_dir(profile, results_root) / paths.COMPRESSION_FILES.record]
    files += [paths.compression_originals_csv(results_root)]
    files += sorted(paths.BOOK.glob("*.md")) + sorted(paths.BOOK.glob("*.yml"))
    files += sorted(p for p in paths.PACKAGE.rglob("*") if p.suffix in (".py", ".mplstyle"))
    files += [pdir / name for name in ("summary.csv", "plan.json", "added.json")]
    files += sorted(pdir.glob("failed/*/status.json"))
    return cachekeys.key(
        {
            "build": [profile, edition, metadata.version("jupyter-book")],
            # named relative to their root: the same results elsewhere (an imported archive) hash alike
            "files": {_relative(f, results_root): cachekeys.file_digest(f) for f in files},
            "folders": {k: sorted(p.name for p in (pdir / k).glob("*") if p.is_dir()) for k in ("runs", "failed")},
        }
    )


def build(
    profile: str,
    results_root: Path | None = None,
    build_dir: Path | None = None,
    force: bool = False,
    edition: str = "instructor",
) -> Path:
    """Build the book for `profile` (unless every input is as at the last build); return its index.html.
    The instructor edition has every solution (collapsed); the student edition is built from pages with the
    solutions removed (`editions`), by default into _build/student/."""
    edition = editions.check_edition(edition)
    if not (paths.ROOT / "_config.yml").is_file():
        raise UsageError(
            f"no book sources in {paths.ROOT} (an installed aecrypt carries no pages): clone the repository and run "
            "`make book` there, or set AECRYPT_HOME to a clone"
        )
    root = (results_root or paths.results_root()).resolve()
    if not paths.summary_csv(profile, root).is_file():
        raise UsageError(f"no results for profile {profile!r} in {root}; run `aecrypt sweep --profile {profile}`")
    default_dir = paths.ROOT if edition == "instructor" else paths.ROOT / "_build" / "student"
    build_dir = (build_dir or default_dir).resolve()  # jupyter-book writes <build_dir>/_build/html
    html = build_dir / "_build" / "html"
    stamp = html / STAMP
    inputs = inputs_hash(profile, root, edition)
    if not force and (html / "index.html").is_file() and stamp.is_file() and stamp.read_text() == inputs:
        log.info(f"book: up to date with the {profile!r} results (nothing changed since the last build)")
        return html / "index.html"
    stamp.unlink(missing_ok=True)  # a build that fails half-way must not look current
    source, config, toc = paths.ROOT, paths.ROOT / "_config.yml", paths.BOOK / "_toc.yml"
    if edition == "student":
        config, toc, _ = editions.student_source(build_dir)
        source = config.parent
    env = dict(os.environ, AECRYPT_PROFILE=profile, AECRYPT_RESULTS=str(root), TF_CPP_MIN_LOG_LEVEL="2")
    cmd = [
        sys.executable,
        "-m",
        "aecrypt.book.build",  # jupyter-book's own command line, with pages executed in parallel (see _main)
        str(os.cpu_count() or 1),
        "build",
        str(source),
        "--config",
        str(config),
        "--toc",
        str(toc),
        "--path-output",
        str(build_dir),
        "-W",
        "-n",
        "--keep-going",
        # Sphinx re-reads only pages whose source changed; the results changed, so every page must run again
        "--all",
    ]
    log_path = build_dir / "_build" / "book.log"  # Sphinx's, the pages' kernels' and TensorFlow's lines
    log_path.parent.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    # the run notebooks' HTML needs nothing of the pages: exported in this process while Sphinx builds in its own
    with ThreadPoolExecutor(1) as pool, log_path.open("w") as output:
        exported = pool.submit(export_run_notebooks, profile, html, root)
        code = subprocess.call(cmd, env=env, cwd=source, stdout=output, stderr=subprocess.STDOUT)
    if code != 0:
        raise AecryptError(
            f"the {edition} edition did not build cleanly for profile {profile!r}: {_first_problem(log_path)} "
            f"(the whole build's output: {log_path})"
        )
    exported.result()  # its error, if any, after the build's own
    stamp.write_text(inputs)
    pages = len(list(paths.BOOK.glob("*.md")))
    log.info(f"book: {pages} pages executed and built in {time.perf_counter() - started:.0f} s (output: {log_path})")
    return html / "index.html"


def _first_problem(log_path: Path) -> str:
    """The build log's first warning or error line: Sphinx with -W stops at the first warning."""
    lines = [re.sub(r"\x1b\[[0-9;]*m", "", line) for line in log_path.read_text(errors="replace").splitlines()]
    # Sphinx's own ("page:line: WARNING: …") before the kernels' and TensorFlow's start-up chatter
    found = next((line for line in lines if ": WARNING: " in line or ": ERROR: " in line), None)
    found = found or next((line for line in lines if "Error" in line and "cuInit" not in line), None)
    return (found or (lines[-1] if lines else "no output")).strip()[:300]


#: Extensions jupyter-book always loads that declare nothing about parallel reading, so Sphinx would fall back
#: to a serial read (and warn, which -W makes an error). Both keep no per-page state while pages are read:
PARALLEL_SAFE = {
    # replaces how the main process numbers sections, after every page is read
    "sphinx_multitoc_numbering": "numbering runs after reading",
    # registers nodes and transforms that act only for the LaTeX builder
    "sphinx_jupyterbook_latex": "LaTeX-only transforms",
}


def _declare_parallel_safe(module_name: str) -> None:
    import importlib

    module = importlib.import_module(module_name)
    setup = module.setup

    def declared_setup(app):
        return (setup(app) or {}) | {"parallel_read_safe": True, "parallel_write_safe": True}

    module.setup = declared_setup


def _execute_in_warm_kernel(nb, cwd: str, **kwargs):
    """myst-nb's execution of one page (jupyter-cache's `single_nb_execution`, which it calls), in this process's
    warm kernel reset for the page (`aecrypt.runs.kernels.page_kernel`) instead of a kernel of its own."""
    from jupyter_cache.executors.utils import single_nb_execution

    from aecrypt.runs import kernels

    return single_nb_execution(nb, cwd, km=kernels.page_kernel(cwd), **kwargs)


def _main() -> int:
    """`python -m aecrypt.book.build JOBS build …`: jupyter-book's command line, with Sphinx reading (and so
    executing) JOBS pages at a time, each process's pages in one warm kernel (unless AECRYPT_FRESH_KERNELS=1).
    Its command line has neither option; its build function and myst-nb's executor can be given them."""
    import jupyter_book.sphinx
    import myst_nb.core.execute.direct
    from jupyter_book.cli.main import main

    from aecrypt.runs import kernels

    jobs = int(sys.argv.pop(1))
    build_sphinx = jupyter_book.sphinx.build_sphinx
    jupyter_book.sphinx.build_sphinx = lambda *args, **kwargs: build_sphinx(*args, **kwargs | {"jobs": jobs})
    for name in PARALLEL_SAFE:
        _declare_parallel_safe(name)
    if kernels.wanted():
        myst_nb.core.execute.direct.single_nb_execution = _execute_in_warm_kernel
    return main()


if __name__ == "__main__":
    sys.exit(_main())
