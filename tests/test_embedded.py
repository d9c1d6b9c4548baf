"""The embedded NIH set: it loads offline, it is the file it claims to be, its splits keep patients apart
and have the sizes the profile names, and a build on it is a build on X-rays (banner and attribution)."""

from __future__ import annotations

import numpy as np
import pytest

from aecrypt import paths
from aecrypt.cli import main as cli
from aecrypt.data import embedded
from aecrypt.data.dataset import fit_size, load_dataset
from aecrypt.data.splits import split_patients_by_counts
from aecrypt.profiles import get_profile


def test_the_embedded_set_loads_offline_and_matches_its_checksum(monkeypatch):
    import socket

    def no_network(*args, **kwargs):
        raise AssertionError("the embedded set must load without the network")

    monkeypatch.setattr(socket, "create_connection", no_network)
    found = embedded.load()
    assert found.images.shape == (embedded.IMAGES, 64, 64) and found.images.dtype == np.uint8
    assert np.bincount(found.labels).tolist() == [999, 904] and len(np.unique(found.patients)) == 875
    assert set(found.views) == {"PA", "AP"} and all(f.endswith(".png") for f in found.files)
    assert (embedded.ATTRIBUTION_FILE.read_text().count("NIH Clinical Center") >= 1) and "CVPR 2017" in (
        embedded.ATTRIBUTION_FILE.read_text()
    )
    ds = load_dataset("nih-embedded", 32, cache=False)
    assert ds.images.shape == (1903, 32, 32) and 0 <= ds.images.min() and ds.images.max() <= 1


def test_one_changed_byte_is_a_one_line_error_naming_the_file(tmp_path, monkeypatch, capsys):
    copy = tmp_path / embedded.FILE.name
    data = bytearray(embedded.FILE.read_bytes())
    data[len(data) // 2] ^= 1
    copy.write_bytes(bytes(data))
    monkeypatch.setattr(embedded, "FILE", copy)
    rc = cli.main(["data", "--data", "nih-embedded", "--size", "32"])
    err = capsys.readouterr().err.strip().splitlines()
    assert rc == 1 and len(err) == 1 and str(copy) in err[0] and "does not match its checksum" in err[0]


def test_a_size_above_64_runs_at_64_with_the_usual_note():
    size, note = fit_size(200, "nih-embedded")
    assert size == 64 and "smaller than the profile's 200×200" in note


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_the_default_splits_are_patient_wise_with_the_sizes_the_profile_names(seed):
    p = get_profile("default")
    ds = load_dataset("nih-embedded", p.size)
    parts = split_patients_by_counts(ds, p.split_counts, seed)
    assert len(parts["train"]) == p.n_train and len(parts["val"]) == p.n_val
    assert len(parts["test"]) > len(ds) - p.n_train - p.n_val - 20  # every other image, but a few of one patient
    patients = {k: set(ds.groups[v]) for k, v in parts.items()}
    assert not (patients["train"] & patients["val"] or patients["train"] & patients["test"])
    assert not patients["val"] & patients["test"]
    for part in parts.values():  # stratified: every part near the set's 47.5 % positives
        assert abs(ds.labels[part].mean() - ds.labels.mean()) < 0.05
    assert np.array_equal(parts["test"], split_patients_by_counts(ds, p.split_counts, seed)["test"])  # seeded


def test_a_tiny_build_on_the_embedded_set_is_a_build_on_x_rays(embedded_student_book):
    """A few embedded images through the sweep and every page: the banner names the X-rays and every page
    carries NIH's attribution; no page speaks of phantoms."""
    report, html = embedded_student_book
    assert not report.failures and report.executed == 2  # the combination and the shared baseline
    pages = sorted((html / "book").glob("*.html"))
    assert len(pages) == len(list(paths.BOOK.glob("*.md")))
    for page in pages:
        text = page.read_text()
        if page.stem != "instructors":
            assert "embedded NIH ChestX-ray14 set" in text, page.name
        assert "NIH Clinical Center" in text and "ChestX-ray8" in text, page.name
        assert "synthetic chest-radiograph phantoms" not in text and "Phantoms are not X-rays" not in text, page.name
