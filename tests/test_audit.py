"""The cipher audit: its statistics against known values, and the audit of a trained build."""

from __future__ import annotations

import json

import numpy as np
import pytest

from aecrypt import paths
from aecrypt.audit import attacks, randomness
from aecrypt.audit.record import code_modules, inputs_hash, run_audit
from aecrypt.book.pages import audit
from aecrypt.paper.cipher import recover_key
from aecrypt.runs.plan import plan_sweep
from aecrypt.runs.results import Results


def test_the_critical_values_are_those_of_wu_noonan_and_agaian():
    # their Table for 256×256 8-bit images (L = 65536)
    assert randomness.npcr_critical(65536, 0.05) == pytest.approx(99.5693, abs=5e-4)
    assert randomness.npcr_critical(65536, 0.01) == pytest.approx(99.5527, abs=5e-4)
    assert randomness.npcr_critical(65536, 0.001) == pytest.approx(99.5341, abs=5e-4)
    low, high = randomness.uaci_critical(65536, 0.05)
    assert (low, high) == (pytest.approx(33.2824, abs=5e-4), pytest.approx(33.6447, abs=5e-4))


def test_the_statistics_on_ideal_and_structured_data():
    rng = np.random.default_rng(0)
    noise = rng.integers(0, 256, 1 << 16).astype(np.uint8)
    assert randomness.entropy(noise) == pytest.approx(8, abs=0.01)
    assert randomness.chi_square(noise) < randomness.chi_square_critical(0.001)
    assert abs(randomness.adjacent_correlation(noise.reshape(256, 256))) < 0.02
    ramp = np.tile(np.arange(256, dtype=np.uint8), (8, 1))
    assert randomness.adjacent_correlation(ramp) == pytest.approx(1.0)
    assert randomness.entropy(np.zeros(100, np.uint8)) == 0
    other = rng.integers(0, 256, 1 << 16).astype(np.uint8)
    npcr, uaci = randomness.npcr_uaci(noise, other)
    assert npcr > randomness.npcr_critical(noise.size, 0.05) and randomness.uaci_critical(noise.size, 0.001)[0] < uaci
    assert randomness.npcr_uaci(noise, noise) == (0.0, 0.0)


def test_the_statistics_of_a_stack_are_each_views_own():
    """The audit reads a run's 64 views in one call: each value is the view's own, by the textbook formulas (a
    view's histogram, H = −Σ p log₂ p, χ² against 256 equal cells) and scipy's, whatever the other views hold."""
    from scipy import stats

    rng = np.random.default_rng(2)
    views = np.stack([rng.integers(0, 256, (8, 8, 4)), np.zeros((8, 8, 4)), rng.integers(100, 104, (8, 8, 4))])
    views = views.astype(np.uint8)
    for i, view in enumerate(views):
        counts = np.array([(view == level).sum() for level in range(256)])
        p = counts[counts > 0] / view.size
        assert randomness.entropies(views)[i] == pytest.approx(-(p * np.log2(p)).sum(), abs=1e-12)
        assert randomness.chi_squares(views)[i] == pytest.approx(stats.chisquare(counts).statistic, rel=1e-12)
        assert randomness.entropy(view) == randomness.entropies(views)[i]
    assert randomness.entropies(views)[1] == 0 and randomness.entropies(views)[2] == pytest.approx(2, abs=0.2)
    rows = rng.random((64, 32, 7)).cumsum(axis=-1)
    assert randomness.adjacent_correlation(rows) == pytest.approx(
        stats.pearsonr(rows[..., :-1].ravel(), rows[..., 1:].ravel()).statistic, abs=1e-12
    )


def test_both_attacks_recover_the_key_of_the_papers_cipher():
    rng = np.random.default_rng(1)
    key = rng.random((4, 4), dtype=np.float32)
    z = np.maximum(rng.normal(size=(10, 4, 4, 8)), 0).astype(np.float32)  # ReLU-like: many exact zeros
    e = (z + key[:, :, None]) ** 2
    assert np.abs(recover_key(z[0], e[0]) - key).max() < 1e-6
    assert np.abs(attacks.ciphertext_only_key(e) - key).max() < 1e-6


def test_the_audit_of_a_trained_build_is_cached_and_decides_the_cipher_verdict(tiny_sweep, caplog):
    root, _ = tiny_sweep
    path = run_audit("tiny", root)
    record = json.loads(path.read_text())
    runs = {r["run_id"]: r for r in record["runs"]}
    assert set(runs) == set(Results("tiny", root).ok["run_id"])  # every run, from its saved models
    for r in runs.values():
        if r["relu_domain"]:
            assert r["kp_key_error"] < 1e-5 and r["co_key_exact_1"] > 0.5
        # AES-GCM's nonces are fresh, so its NPCR is a random draw: judged at α = 1e-7 (with a handful of runs,
        # about one build in a million fails by chance; at α = 0.001 one in a hundred did, in CI)
        assert r["aes_npcr"] > randomness.npcr_critical(r["npcr_values"]["aes"], 1e-7)
        assert randomness.npcr_critical(r["npcr_values"]["paper"], 0.001) > r["paper_npcr"]
        assert r["aes_key_sensitivity"] == 1.0 and r["aes_entropy"] > r["paper_entropy"] - 1
    assert (path.parent / "audit_samples.npz").is_file()
    with caplog.at_level("INFO", logger="aecrypt"):
        run_audit("tiny", root)
    assert "audit: up to date" in caplog.text
    finding = audit.cipher_finding(Results("tiny", root))
    assert finding.verdict == "not reproduced" and "NPCR" in finding.measured
    table = audit.audit_table(record)
    assert len(table) >= 10 and {"paper's cipher", "AES-256-GCM"} <= set(table.columns)


def test_the_audit_cache_follows_the_audits_own_code_and_no_page(tiny_sweep, package_copy):
    """An edit to a module the audit imports but no run does (the model loader) makes the audit stale and
    reruns no run; an edit to a page or a page's module does not make it stale."""
    root, _ = tiny_sweep
    assert {"aecrypt.runs.trained", "aecrypt.audit.measure", "aecrypt.paper.models"} <= set(code_modules())
    assert not any(m.startswith(("aecrypt.book", "aecrypt.link", "aecrypt.cli")) for m in code_modules())
    ids = ["0123456789abcdef"]
    before = inputs_hash(ids)
    assert inputs_hash(ids + ["fedcba9876543210"]) != before  # another run read
    for page_source in (package_copy / "book" / "pages" / "audit.py", paths.BOOK / "secure.md"):
        if page_source.is_relative_to(package_copy):
            page_source.write_text(page_source.read_text() + "\n_EDITED = 1\n")
    assert inputs_hash(ids) == before
    loader = package_copy / "runs" / "trained.py"
    loader.write_text(loader.read_text() + "\nprint(end='')\n")  # a statement its import runs
    assert inputs_hash(ids) != before
    plan = plan_sweep("tiny", paths.GRIDS / "tiny.yaml")
    assert plan.pending(paths.profile_dir("tiny", root)) == []  # no run reruns for it


def test_an_edit_inside_the_audits_own_functions_makes_it_stale(package_copy):
    """Before: only the definitions the audit's module reached *by name* were hashed, so an edit inside
    `run_audit` itself (which nothing in the module calls) kept the old record."""
    ids = ["0123456789abcdef"]
    before = inputs_hash(ids)
    record_py = package_copy / "audit" / "record.py"
    text = record_py.read_text()
    start = text.index("def run_audit(")
    body = text.index('"""', text.index('"""', start) + 3) + 3
    record_py.write_text(text[:body] + "\n    _probe = 12345" + text[body:])
    assert inputs_hash(ids) != before


def test_the_audit_cache_follows_the_versions_its_code_reaches(monkeypatch):
    from aecrypt.runs import closure

    ids = ["0123456789abcdef"]
    before = inputs_hash(ids)
    real = closure.version
    monkeypatch.setattr(closure, "version", lambda name: "99.0" if name == "keras" else real(name))
    assert inputs_hash(ids) != before
