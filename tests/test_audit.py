"""The cipher audit: its statistics against known values, and the audit of a trained build."""

from __future__ import annotations

import json

import numpy as np
import pytest

from aecrypt import audit, report


def test_the_critical_values_are_those_of_wu_noonan_and_agaian():
    # their Table for 256×256 8-bit images (L = 65536)
    assert audit.npcr_critical(65536, 0.05) == pytest.approx(99.5693, abs=5e-4)
    assert audit.npcr_critical(65536, 0.01) == pytest.approx(99.5527, abs=5e-4)
    assert audit.npcr_critical(65536, 0.001) == pytest.approx(99.5341, abs=5e-4)
    low, high = audit.uaci_critical(65536, 0.05)
    assert (low, high) == (pytest.approx(33.2824, abs=5e-4), pytest.approx(33.6447, abs=5e-4))


def test_the_statistics_on_ideal_and_structured_data():
    rng = np.random.default_rng(0)
    noise = rng.integers(0, 256, 1 << 16).astype(np.uint8)
    assert audit.entropy(noise) == pytest.approx(8, abs=0.01)
    assert audit.chi_square(noise) < audit.chi_square_critical(0.001)
    assert abs(audit.adjacent_correlation(noise.reshape(256, 256))) < 0.02
    ramp = np.tile(np.arange(256, dtype=np.uint8), (8, 1))
    assert audit.adjacent_correlation(ramp) == pytest.approx(1.0)
    assert audit.entropy(np.zeros(100, np.uint8)) == 0
    other = rng.integers(0, 256, 1 << 16).astype(np.uint8)
    npcr, uaci = audit.npcr_uaci(noise, other)
    assert npcr > audit.npcr_critical(noise.size, 0.05) and audit.uaci_critical(noise.size, 0.001)[0] < uaci
    assert audit.npcr_uaci(noise, noise) == (0.0, 0.0)


def test_both_attacks_recover_the_key_of_the_papers_cipher():
    rng = np.random.default_rng(1)
    key = rng.random((4, 4), dtype=np.float32)
    z = np.maximum(rng.normal(size=(10, 4, 4, 8)), 0).astype(np.float32)  # ReLU-like: many exact zeros
    e = (z + key[:, :, None]) ** 2
    assert np.abs(audit.known_plaintext_key(z[0], e[0]) - key).max() < 1e-6
    assert np.abs(audit.ciphertext_only_key(e) - key).max() < 1e-6


def test_the_audit_of_a_trained_build_is_cached_and_decides_the_cipher_verdict(tiny_sweep, capsys):
    root, _ = tiny_sweep
    path = audit.run_audit("tiny", root)
    record = json.loads(path.read_text())
    runs = {r["run_id"]: r for r in record["runs"]}
    assert set(runs) == set(report.Results("tiny", root).ok["run_id"])  # every run, from its saved models
    for r in runs.values():
        if r["relu_domain"]:
            assert r["kp_key_error"] < 1e-5 and r["co_key_exact_1"] > 0.5
        assert r["aes_npcr"] > audit.npcr_critical(r["npcr_values"]["aes"], 0.001) > r["paper_npcr"]
        assert r["aes_key_sensitivity"] == 1.0 and r["aes_entropy"] > r["paper_entropy"] - 1
    assert (path.parent / "audit_samples.npz").is_file()
    audit.run_audit("tiny", root)
    assert "audit: up to date" in capsys.readouterr().out
    finding = report.cipher_finding(report.Results("tiny", root))
    assert finding.verdict == "not reproduced" and "NPCR" in finding.measured
    table = report.audit_table(record)
    assert len(table) >= 10 and {"paper's cipher", "AES-256-GCM"} <= set(table.columns)
