"""The book: builds with warnings as errors, every page renders in a real browser with its figures,
numbers follow the results (never stale), and the real-data build carries the NIH attribution."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest
import yaml

from aecrypt import paths
from aecrypt.book import build, editions
from aecrypt.runs import table

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


def test_the_book_builds_at_tiny_with_warnings_as_errors(tiny_book):
    _, html = tiny_book
    for page in editions.toc_pages():
        assert (html / f"{page}.html").is_file(), page
    runs_html = list((html / "runs").glob("*.html"))
    assert len(runs_html) >= 2
    # every run link on the Reproducing page points at an exported run notebook
    links = re.findall(r'href="\.\./runs/([0-9a-f]+)\.html"', (html / "book" / "reproducing.html").read_text())
    assert links and all((html / "runs" / f"{rid}.html").is_file() for rid in links)


def test_every_results_page_says_which_data_and_profile_it_shows(tiny_book):
    _, html = tiny_book
    for page in editions.toc_pages():
        text = (html / f"{page}.html").read_text()
        assert "Profile <strong>tiny</strong>" in text and "not the paper’s NIH X-rays" in text, page
        assert "Autoencoders trained for 10 steps, 0.11 % of the paper’s 9,150" in text, page  # 2 epochs of 5


def test_claims_scorecard_is_rendered_with_verdicts(tiny_book):
    _, html = tiny_book
    text = (html / "book" / "claims.html").read_text()
    for claim in (
        "best autoencoder combination",
        "lowest MSE and MAE",
        "best classification result",
        "best ROC curve",
        "more epochs decrease the loss",
        "compresses the image",
        "secures",
        "s per epoch",
    ):
        assert claim in text, claim
    assert "Training seeds <strong>0, 1</strong>" in text and "data seed <strong>0</strong>" in text
    assert text.count('class="aecrypt-verdict"') == 11  # one badge per claim
    # phantoms: the claims about trained models keep their test but are no verdict on X-rays; the cipher's is
    assert text.count("On this data the test says:") == 7
    assert ">not reproduced</span>" in text and text.count("<details>") == 11
    assert "Across the 7 claims about trained models" in text and "quick table (40 simulated builds" in text
    assert "known-plaintext attack" in text and "Did training finish?" in text
    # every claim about trained models says at what budget it was decided
    assert text.count("<i>Trained for 10 steps, 0.11 % of the paper") == 7


def test_the_calibration_page_shows_make_books_quick_table(tiny_book):
    root, html = tiny_book
    text = (html / "book" / "calibration.html").read_text()
    assert "A quick table" in text and "False verdicts" in text and "all combinations equal" in text
    assert "own noise (tiny, 2 seeds)" in text and "2 seeds · 30 test images" in text
    record = json.loads(paths.verdicts_json("tiny", root).read_text())
    assert record["quick"] and record["replicates"] == 40 and len(record["rows"]) == text.count("(≤ ")


@pytest.mark.skipif(not CHROMIUM, reason="no Chromium: install it with `apt-get install chromium` (.ci/run does)")
def test_every_page_renders_in_a_real_browser_with_all_figures_loaded(tiny_book):
    from playwright.sync_api import sync_playwright

    _, html = tiny_book
    flags = [
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
    ]
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=flags)
        page = browser.new_page()
        figures_seen = 0
        for name in editions.toc_pages():
            page.goto((html / f"{name}.html").as_uri())
            page.wait_for_load_state("load")
            widths = page.evaluate("Array.from(document.images).map(i => [i.src, i.complete, i.naturalWidth])")
            for src, complete, width in widths:
                assert complete and width > 0, f"{name}: image {src} did not load"
            figures_seen += sum("_images" in src for src, _, _ in widths)
            body = page.inner_text("article")
            assert "Traceback" not in body and not re.search(r"\bError\b", body), name
            assert not re.search(r"^[IWEF]\d{4} \d\d:\d\d:", body, re.M), f"{name}: a library's log line on the page"
        browser.close()
    assert figures_seen >= 10  # Figs. 4-10, the best panel, samples and the leak figure


#: A one-page book for the staleness test: the real configuration and build, one page that prints a result.
_ONE_PAGE = """---
jupytext:
  text_representation:
    extension: .md
    format_name: myst
kernelspec:
  display_name: Python 3
  language: python
  name: python3
---

# The first combination's MSE

```{code-cell} python3
from aecrypt.book import page

R = page.start(show_banner=False)
print(f"mean MSE {R.ok.groupby('label')['mse'].mean().iloc[0]:.9f}")
```
"""


def test_figures_are_never_stale_and_an_unchanged_build_is_skipped(tiny_book, tmp_path, monkeypatch):
    """Nothing changed: the build is skipped (the HTML is already current). Change a result, rebuild: the page
    shows the new number. The rebuild is of a one-page book with the real configuration (`_config.yml`, whose
    forced execution is what keeps every page current) through the same `build.build`: what makes a page fresh
    is the configuration and the build's key, not the page, and the whole book is built once already."""
    root, html = tiny_book
    page = html / "book" / "autoencoder.html"
    before = page.stat().st_mtime_ns
    assert build.build("tiny", root, html.parent.parent) == html / "index.html"
    assert page.stat().st_mtime_ns == before  # skipped: nothing was rewritten

    source = tmp_path / "source"
    (source / "book").mkdir(parents=True)
    shutil.copy(paths.ROOT / "_config.yml", source)
    (source / "book" / "_toc.yml").write_text("format: jb-book\nroot: book/mse\n")
    (source / "book" / "mse.md").write_text(_ONE_PAGE)
    monkeypatch.setattr(paths, "ROOT", source)
    monkeypatch.setattr(paths, "BOOK", source / "book")
    copy = tmp_path / "results"
    shutil.copytree(root, copy)
    summary = table.collect("tiny", copy)
    first = summary[summary["status"] == "ok"].groupby("label")["mse"].mean()
    mse = source / "_build" / "html" / "book" / "mse.html"
    build.build("tiny", copy, source)
    assert f"mean MSE {first.iloc[0]:.9f}" in mse.read_text()
    for rid in summary.loc[summary["label"] == first.index[0], "run_id"]:  # every seed: pages show means over seeds
        run = paths.runs_dir("tiny", copy) / rid
        metrics = json.loads((run / "metrics.json").read_text())
        metrics["mse"] = 0.000123456
        (run / "metrics.json").write_text(json.dumps(metrics))
    table.write_summary("tiny", copy)
    build.build("tiny", copy, source)
    assert "mean MSE 0.000123456" in mse.read_text()


def test_the_instructor_edition_carries_every_solutions_marker(tiny_book):
    """The marker the student edition must lose (test_coursework) is in the instructor edition, once per solution
    at least: the student check is not vacuous."""
    n_solutions = sum(p.read_text().count("{solution}") for p in paths.BOOK.glob("*.md"))
    pages = [p for p in tiny_book[1].rglob("*.html") if "runs" not in p.parts]
    assert sum(p.read_text().count(editions.SOLUTION_MARKER) for p in pages) >= n_solutions > 0


def test_the_performance_page_says_how_to_measure_where_no_benchmark_ran(tiny_book):
    root, html = tiny_book
    assert not paths.bench_json(root).exists()
    text = re.sub(r"<[^>]+>", "", (html / "book" / "performance.html").read_text())
    assert "No benchmark on this machine yet" in text and "make bench" in text and "9–16 s per epoch" in text
    assert re.search(r"Keras 3[\d.]+ on tensorflow \d", text)  # the banner names the backend
    assert "trains on 192 X-rays" in text and "testing on every other image" in text  # the default profile's split


def test_the_claims_follow_the_measurements_not_fixed_strings(tiny_sweep, tmp_path, monkeypatch):
    """The cipher row comes from the cipher audit where it ran, else from the attack on each run's samples:
    with the measured key error (or the recorded key) replaced, the verdict changes."""
    import json

    import numpy as np

    from aecrypt.audit.record import run_audit
    from aecrypt.book.pages import audit, claims
    from aecrypt.runs.results import Results

    root, _ = tiny_sweep
    copy = tmp_path / "results"
    shutil.copytree(root, copy)
    record_path = run_audit("tiny", copy)
    record = json.loads(record_path.read_text())
    results = Results("tiny", copy)
    assert (
        audit.cipher_finding(results).verdict == "not reproduced" and "NPCR" in audit.cipher_finding(results).measured
    )
    for run in record["runs"]:
        run["kp_key_error"] = 0.5  # as if the attack had failed
    record_path.write_text(json.dumps(record))
    assert audit.cipher_finding(results).verdict == "inconclusive"
    record_path.unlink()  # without the audit: the attack on the runs' samples
    monkeypatch.setenv("AECRYPT_RESULTS", str(copy))
    monkeypatch.setenv("AECRYPT_PROFILE", "tiny")
    findings = {f.claim: f for f in claims.findings(Results.current())}
    assert findings["the cipher secures the transmitted features"].verdict == "not reproduced"
    for run in Results.current().ok["run_id"]:
        path = paths.runs_dir("tiny", copy) / run / "samples.npz"
        with np.load(path) as z:
            samples = dict(z)
        samples["key"] = np.roll(samples["key"], 1, axis=0)
        np.savez_compressed(path, **samples)
    findings = {f.claim: f for f in claims.findings(Results.current())}
    assert findings["the cipher secures the transmitted features"].verdict == "inconclusive"


def test_the_book_refuses_to_build_without_results(tmp_path):
    from aecrypt import AecryptError

    with pytest.raises(AecryptError, match="no results for profile 'tiny'"):
        build.build("tiny", tmp_path, tmp_path / "b")


def test_config_has_launch_and_repository_buttons():
    """Binder (JupyterLab, from binder/); no Colab button, since Colab opens only .ipynb and every page is MyST."""
    config = yaml.safe_load((paths.ROOT / "_config.yml").read_text())
    assert config["launch_buttons"]["binderhub_url"] and "colab_url" not in config["launch_buttons"]
    assert config["launch_buttons"]["notebook_interface"] == "jupyterlab"
    assert config["html"]["use_repository_button"] and config["repository"]["url"]
    assert config["execute"]["execute_notebooks"] == "force"
    assert Path(paths.BOOK / "_toc.yml").is_file()


def test_the_paper_epoch_is_extrapolated_from_the_measured_throughput():
    from aecrypt.book.pages import performance

    record = {"training": [{"size": 200, "backend": "tensorflow", "numerics": "fp32", "images_per_s": 15.0}]}
    table = performance.paper_epoch_table(record)
    assert list(table.iloc[:, 1]) == ["9–16", "600"]  # 9000 images / 15 per second


def test_hostile_text_in_results_or_run_notebooks_reaches_no_page_as_markup(tmp_path):
    """A results table or a run notebook from an imported archive may hold anything: every cell of the run
    table is text (a legitimate `<class 'float'>` in an error shows as written), a malformed run id links
    nowhere, and the exported notebooks are sanitized."""
    from types import SimpleNamespace

    import nbformat
    import pandas as pd

    from aecrypt.book.pages import reproducing

    hostile = {
        "label": "<script>alert(1)</script>",
        "seed": "x",
        "status": "failed",
        "run_id": '"><script>alert(2)</script>',
        "error": "TypeError: <class 'float'>",
        "note": "<img src=x onerror=alert(3)>",
    }
    fine = {
        "label": "MSE+Adam+ReLU+2",
        "seed": 1,
        "status": "ok",
        "run_id": "0123456789abcdef",
        "error": "",
        "note": "",
    }
    table = reproducing.run_table_html(SimpleNamespace(summary=pd.DataFrame([hostile, fine])))
    assert "<script" not in table and "<img" not in table
    assert "TypeError: &lt;class &#x27;float&#x27;&gt;" in table
    assert '<a href="../runs/0123456789abcdef.html">0123456789abcdef</a>' in table and table.count("<a ") == 1

    run = paths.runs_dir("tiny", tmp_path / "results") / "0123456789abcdef"
    run.mkdir(parents=True)
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell("<script>alert(4)</script>"), nbformat.v4.new_code_cell("1")]
    nb.cells[1].outputs = [
        nbformat.v4.new_output("display_data", {"text/html": "<script>alert(5)</script><b>kept</b>"})
    ]
    nbformat.write(nb, run / "experiment.ipynb")
    assert build.export_run_notebooks("tiny", tmp_path / "html", tmp_path / "results") == 1
    page = (tmp_path / "html" / "runs" / "0123456789abcdef.html").read_text()
    assert "<script>alert(4)" not in page and "<script>alert(5)" not in page and "<b>kept</b>" in page
