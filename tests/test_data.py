import json
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from PIL import Image

from aecrypt import AecryptError
from aecrypt.data import class_folders, dicom_files, medmnist_npz, readers, synthetic
from aecrypt.data.dataset import load_dataset
from aecrypt.data.specs import parse_spec
from aecrypt.data.splits import split_indices

# --- synthetic -------------------------------------------------------------------------------


def test_synthetic_is_deterministic_with_the_papers_ratio():
    x1, y1 = synthetic.generate(90, 32, seed=3)
    x2, y2 = synthetic.generate(90, 32, seed=3)
    x3, _ = synthetic.generate(90, 32, seed=4)
    assert np.array_equal(x1, x2) and np.array_equal(y1, y2) and not np.array_equal(x1, x3)
    assert x1.dtype == np.float32 and x1.shape == (90, 32, 32) and 0 <= x1.min() and x1.max() <= 1
    assert (y1 == 0).sum() == 58 and (y1 == 1).sum() == 32  # 5800:3200
    assert synthetic.class_counts(9000) == (5800, 3200)


def test_phantoms_have_chest_anatomy_and_positives_carry_lesions():
    x, y = synthetic.generate(400, 64, seed=0)
    mean = x.mean(axis=0)
    lung = mean[20:40, 12:22].mean()  # image-left lung field
    mediastinum = mean[20:40, 29:35].mean()
    background = mean[:, :2].mean()
    assert lung < mediastinum - 0.1 and background < lung  # air dark, mediastinum bright
    # the lesions add density inside the lungs: positives are brighter there on average
    assert x[y == 1][:, 15:45, 8:56].mean() > x[y == 0][:, 15:45, 8:56].mean() + 0.005
    # patient-to-patient variation: no two phantoms alike
    assert np.min(np.abs(x[0] - x[1:20]).mean(axis=(1, 2))) > 0.01


# --- spec parsing ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("imagenet:/x", "unknown data source 'imagenet:/x'; valid: synthetic | nih:DIR"),
        ("folder:", "folder: needs a path"),
        ("synthetic:5", "'synthetic' takes no argument"),
        ("folder:/x?finding=a", r"folder: unknown option\(s\) \['finding'\]"),
    ],
)
def test_bad_specs_name_the_valid_forms(spec, message):
    with pytest.raises(AecryptError, match=message):
        parse_spec(spec)


# --- helpers that make small data sets -------------------------------------------------------


def _png(path, array, mode=None):
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(array, mode=mode).save(path)


def _gray(rng, size=48):
    return (rng.random((size, size)) * 255).astype(np.uint8)


def make_folder(root, n=8, split_level=False, rng=None):
    rng = rng or np.random.default_rng(0)
    parts = ["train", "test"] if split_level else [""]
    for part in parts:
        for cls in ("NORMAL", "PNEUMONIA"):
            for i in range(n):
                _png(root / part / cls / f"{cls.lower()}_{part}{i}.png", _gray(rng))
    return root


def test_folder_loader_handles_every_image_mode(tmp_path):
    rng = np.random.default_rng(1)
    root = make_folder(tmp_path / "xr", n=6)
    _png(root / "NORMAL" / "rgb.png", (rng.random((50, 60, 3)) * 255).astype(np.uint8))
    _png(root / "NORMAL" / "rgba.png", (rng.random((50, 50, 4)) * 255).astype(np.uint8))
    Image.fromarray(_gray(rng)).convert("P").save(root / "PNEUMONIA" / "palette.png")
    sixteen = np.full((48, 48), 65535, np.uint16)
    Image.fromarray(sixteen).save(root / "PNEUMONIA" / "sixteen.png")
    ds = load_dataset(f"folder:{root}", 32, cache=False)
    assert ds.images.shape == (16, 32, 32) and ds.images.dtype == np.float32
    assert 0 <= ds.images.min() and ds.images.max() <= 1
    assert ds.summary()["classes"] == {"negative": 8, "positive": 8}
    names = [p for p in sorted((root / "PNEUMONIA").iterdir())]
    sixteen_index = 8 + [p.name for p in names].index("sixteen.png")
    assert ds.images[sixteen_index].min() == pytest.approx(1.0)  # 16-bit full scale -> 1.0


def test_folder_with_train_test_level_keeps_its_split(tmp_path):
    root = make_folder(tmp_path / "xr", n=10, split_level=True)
    ds = load_dataset(f"folder:{root}", 32, cache=False)
    parts = split_indices(ds, 0.2, 0.2, seed=0)
    assert set(ds.splits) == {"train", "test"}
    assert (ds.splits[parts["test"]] == "test").all() and len(parts["test"]) == 20
    assert len(parts["val"]) > 0 and (ds.splits[parts["val"]] == "train").all()


def make_nih(root, n=12, rng=None):
    rng = rng or np.random.default_rng(2)
    rows = []
    for i in range(n):
        name = f"{i // 2:08d}_{i % 2:03d}.png"  # two images per patient
        finding = "No Finding" if i % 4 < 2 else ("Pneumonia|Effusion" if i % 8 < 4 else "Atelectasis")
        _png(root / "images_001" / "images" / name, _gray(rng))
        rows.append(
            {
                "Image Index": name,
                "Finding Labels": finding,
                "Follow-up #": i % 2,
                "Patient ID": i // 2,
                "Patient Age": 50,
                "Patient Gender": "F",
                "View Position": "PA",
            }
        )
    rows.append({"Image Index": "99999999_000.png", "Finding Labels": "No Finding", "Patient ID": 99999999})
    pd.DataFrame(rows).to_csv(root / "Data_Entry_2017.csv", index=False)
    return root


def test_nih_loader_labels_findings_and_keeps_patients_together(tmp_path):
    root = make_nih(tmp_path / "nih", n=40)
    ds = load_dataset(f"nih:{root}", 32, cache=False)
    assert len(ds) == 40 and ds.summary()["classes"] == {"negative": 20, "positive": 20}
    parts = split_indices(ds, 0.25, 0.2, seed=0)
    assert not set(ds.groups[parts["train"]]) & set(ds.groups[parts["test"]])
    only = load_dataset(f"nih:{root}?finding=Pneumonia", 32, cache=False)
    assert only.summary()["classes"] == {"negative": 20, "positive": 10}
    with pytest.raises(AecryptError, match="no image has finding 'Hernia'; findings present"):
        load_dataset(f"nih:{root}?finding=Hernia", 32, cache=False)


def test_medmnist_loader(tmp_path):
    rng = np.random.default_rng(3)
    arrays = {}
    for split, n in (("train", 20), ("val", 6), ("test", 8)):
        arrays[f"{split}_images"] = (rng.random((n, 64, 64)) * 255).astype(np.uint8)
        arrays[f"{split}_labels"] = (np.arange(n) % 2).reshape(n, 1)
    np.savez(tmp_path / "pneumoniamnist_64.npz", **arrays)
    ds = load_dataset(f"medmnist:{tmp_path / 'pneumoniamnist_64.npz'}", 32, cache=False)
    assert ds.images.shape == (34, 32, 32) and set(ds.splits) == {"train", "val", "test"}
    parts = split_indices(ds, 0.2, 0.2, 0)
    assert len(parts["val"]) == 6 and len(parts["test"]) == 8
    with pytest.raises(AecryptError, match="smaller than the requested 128×128"):
        load_dataset(f"medmnist:{tmp_path / 'pneumoniamnist_64.npz'}", 128, cache=False)


def _write_dicom(path, pixels, photometric="MONOCHROME2"):
    from pydicom.dataset import FileDataset, FileMetaDataset
    from pydicom.uid import ExplicitVRLittleEndian, generate_uid

    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = "1.2.840.10008.5.1.4.1.1.1.1"
    meta.MediaStorageSOPInstanceUID = generate_uid()
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds = FileDataset(str(path), {}, file_meta=meta, preamble=b"\0" * 128)
    ds.SOPClassUID, ds.SOPInstanceUID = meta.MediaStorageSOPClassUID, meta.MediaStorageSOPInstanceUID
    ds.Rows, ds.Columns = pixels.shape
    ds.SamplesPerPixel, ds.PhotometricInterpretation = 1, photometric
    ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 16, 12, 11, 0
    ds.PixelData = pixels.astype(np.uint16).tobytes()
    ds.save_as(path, enforce_file_format=True)


def test_dicom_loader_normalises_and_inverts_monochrome1(tmp_path):
    root = tmp_path / "dcm"
    root.mkdir()
    ramp = np.tile(np.arange(40, dtype=np.uint16) * 100, (40, 1))
    rows = []
    for i in range(8):
        _write_dicom(root / f"img{i}.dcm", ramp, "MONOCHROME1" if i == 0 else "MONOCHROME2")
        rows.append({"file": f"img{i}.dcm", "label": "normal" if i % 2 else "pneumonia", "patient_id": i})
    pd.DataFrame(rows).to_csv(root / "labels.csv", index=False)
    ds = load_dataset(f"dicom:{root}", 32, cache=False)
    assert ds.images.shape == (8, 32, 32)
    assert ds.images[1, :, 0].mean() < 0.1 and ds.images[1, :, -1].mean() > 0.9
    assert ds.images[0, :, 0].mean() > 0.9  # MONOCHROME1: inverted
    assert ds.labels.tolist() == [1, 0] * 4


@pytest.mark.parametrize(
    ("labels", "expect"),
    [
        (["normal", "pneumonia"], [0, 1]),
        (["Normal", "normal", "PNEUMONIA"], [0, 0, 1]),
        (["0.0", "1.0"], [0, 1]),
        (["1", "0"], [1, 0]),
        (["normal", "covid", "pneumonia"], "are not two class names of which one is negative"),
        (["nromal", "pneumonia"], "are no negative name"),
        (["0", "2"], "are numbers other than 0 and 1"),
    ],
)
def test_dicom_labels_are_read_as_written_or_refused_never_guessed(tmp_path, labels, expect):
    """Before: "covid" and a misspelt "nromal" became positive, and 0.0/1.0 read as positive images only."""
    values = [labels[i % len(labels)] for i in range(6)]
    if isinstance(expect, list):
        assert dicom_files._binary_labels(values, tmp_path / "labels.csv") == [
            expect[i % len(labels)] for i in range(6)
        ]
    else:
        with pytest.raises(AecryptError, match=expect):
            dicom_files._binary_labels(values, tmp_path / "labels.csv")


def test_class_folders_one_level_too_deep_get_advice_that_works(tmp_path):
    """Before: the advice was ?negative=NIH1000&positive=POSITIVE_FOLDER, which fails when followed."""
    for name in ("NORMAL", "PNEUMONIA"):
        (tmp_path / "NIH1000" / name).mkdir(parents=True)
        Image.fromarray(np.full((8, 8), 128, np.uint8)).save(tmp_path / "NIH1000" / name / "a.png")
    with pytest.raises(AecryptError, match=rf"give that folder, folder:{tmp_path / 'NIH1000'}$") as info:
        class_folders.read_folder(tmp_path)
    advice = str(info.value).rsplit("folder:", 1)[1]
    assert class_folders.read_folder(Path(advice)).labels == [0, 1]  # following it works


# --- bad input -------------------------------------------------------------------------------


def test_missing_and_empty_directories(tmp_path):
    with pytest.raises(AecryptError, match=r"image folder .*nope does not exist"):
        load_dataset(f"folder:{tmp_path / 'nope'}", 32)
    (tmp_path / "empty").mkdir()
    with pytest.raises(AecryptError, match="has no sub-folders; expected one folder per class"):
        load_dataset(f"folder:{tmp_path / 'empty'}", 32)
    (tmp_path / "classes" / "NORMAL").mkdir(parents=True)
    (tmp_path / "classes" / "PNEUMONIA").mkdir()
    with pytest.raises(AecryptError, match="holds no images"):
        load_dataset(f"folder:{tmp_path / 'classes'}", 32)
    with pytest.raises(AecryptError, match="no Data_Entry_2017.csv"):
        load_dataset(f"nih:{tmp_path / 'empty'}", 32)


def test_corrupt_and_truncated_images_are_skipped_with_a_count_or_fail_by_name(tmp_path):
    root = make_folder(tmp_path / "xr", n=6)
    (root / "NORMAL" / "corrupt.png").write_bytes(b"\x89PNG\r\n\x1a\n garbage")
    good = (root / "PNEUMONIA" / "pneumonia_0.png").read_bytes()
    (root / "PNEUMONIA" / "truncated.png").write_bytes(good[: len(good) // 2])
    with pytest.warns(readers.UnreadableImageWarning, match=r"skipped 2 unreadable image\(s\): .*corrupt.png"):
        ds = load_dataset(f"folder:{root}", 32, cache=False)
    assert len(ds) == 12 and ds.summary()["skipped"] == 2
    with pytest.raises(AecryptError, match=r"cannot decode image .*(corrupt|truncated)\.png"):
        load_dataset(f"folder:{root}", 32, on_error="raise", cache=False)


def test_labels_file_with_unknown_image_names(tmp_path):
    root = make_folder(tmp_path / "xr", n=4)
    pd.DataFrame({"file": ["NORMAL/normal_0.png", "NORMAL/ghost.png"], "patient_id": [1, 2]}).to_csv(
        root / "labels.csv", index=False
    )
    with pytest.raises(AecryptError, match=r"labels.csv names 1 image\(s\) not found .*ghost.png"):
        load_dataset(f"folder:{root}", 32, cache=False)


def test_one_class_only(tmp_path):
    root = tmp_path / "xr"
    for i in range(4):
        _png(root / "NORMAL" / f"{i}.png", _gray(np.random.default_rng(i)))
    (root / "PNEUMONIA").mkdir()
    with pytest.raises(AecryptError, match="has negative images only; a classifier needs both classes"):
        load_dataset(f"folder:{root}", 32, cache=False)


def test_unrecognised_class_folders_list_the_negative_names(tmp_path):
    root = tmp_path / "xr"
    for cls in ("cats", "dogs"):
        _png(root / cls / "a.png", _gray(np.random.default_rng(0)))
    with pytest.raises(AecryptError, match=r"class folders \['cats', 'dogs'\]: cannot tell which one is the negative"):
        load_dataset(f"folder:{root}", 32, cache=False)


def test_image_smaller_than_requested(tmp_path):
    root = make_folder(tmp_path / "xr", n=3)
    with pytest.raises(AecryptError, match=r"is 48×48, smaller than the requested 64×64; choose a size ≤ 48"):
        load_dataset(f"folder:{root}", 64, cache=False)


def test_too_few_images_to_split(tmp_path):
    ds = load_dataset(f"folder:{make_folder(tmp_path / 'xr', n=2)}", 32, cache=False)
    with pytest.raises(AecryptError, match="too few images to split"):
        split_indices(ds, 0.2, 0.2, 0)


# --- cache and CLI ---------------------------------------------------------------------------


def test_preprocessed_arrays_are_cached(tmp_path, monkeypatch):
    monkeypatch.setenv("AECRYPT_CACHE", str(tmp_path / "cache"))
    root = make_folder(tmp_path / "xr", n=5)
    first = load_dataset(f"folder:{root}", 32)
    assert len(list((tmp_path / "cache").glob("*.npz"))) == 1
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        second = load_dataset(f"folder:{root}", 32)
    assert np.array_equal(first.images, second.images) and first.fingerprint == second.fingerprint
    _png(root / "NORMAL" / "new.png", _gray(np.random.default_rng(9)))  # a changed folder is re-read
    assert len(load_dataset(f"folder:{root}", 32)) == len(first) + 1


def test_cli_data_summary_prints_json(tmp_path):
    root = make_folder(tmp_path / "xr", n=5)
    out = subprocess.run(
        [sys.executable, "-m", "aecrypt", "data", "--data", f"folder:{root}", "--size", "32", "--summary"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 0, out.stderr
    summary = json.loads(out.stdout)
    assert summary["images"] == 10 and summary["classes"] == {"negative": 5, "positive": 5}


def test_cli_errors_have_no_traceback(tmp_path):
    out = subprocess.run(
        [sys.executable, "-m", "aecrypt", "data", "--data", f"folder:{tmp_path}/x"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 2
    assert out.stderr.startswith("aecrypt: error: image folder") and "Traceback" not in out.stderr


# --- the real NIH samples in ../shared/data ----------------------------------------------------


def test_nih_loader_on_the_real_release_sample(nih_sample):
    ds = load_dataset(f"nih:{nih_sample}", 64)
    assert ds.summary()["classes"] == {"negative": 25, "positive": 25}
    assert ds.images.shape == (50, 64, 64) and 0.05 < ds.images.mean() < 0.95
    pneumonia = load_dataset(f"nih:{nih_sample}?finding=Pneumonia", 64)
    assert pneumonia.summary()["classes"] == {"negative": 25, "positive": 25}


def test_folder_loader_on_the_real_sample_splits_by_patient(cxr_real):
    ds = load_dataset(f"folder:{cxr_real}", 64)
    assert ds.summary()["classes"] == {"negative": 200, "positive": 200}
    table = pd.read_csv(cxr_real / "labels.csv", dtype=str)
    assert ds.summary()["patients"] == table["patient_id"].nunique()
    parts = split_indices(ds, 0.2, 0.15, 0)
    seen = [set(ds.groups[parts[p]]) for p in ("train", "val", "test")]
    assert not (seen[0] & seen[1] or seen[0] & seen[2] or seen[1] & seen[2])
    assert sum(len(v) for v in parts.values()) == 400


# --- class folders as users name them ----------------------------------------------------------


def _classes(root, names, n=4):
    rng = np.random.default_rng(2)
    for name in names:
        for i in range(n):
            _png(root / name / f"img{i}.png", _gray(rng))
    return root


@pytest.mark.parametrize(
    ("name", "negative"),
    [
        ("NORMAL", True),
        ("0_normal", True),
        ("Negatives", True),
        ("no-finding", True),
        ("No Finding", True),
        ("Healthy-Controls", True),
        ("0", True),
        ("1-Pneumonia", False),
        ("not_normal", False),
        ("abnormal", False),
        ("COVID", False),
    ],
)
def test_the_negative_folder_is_recognised_by_its_usual_names(name, negative):
    assert class_folders.is_negative(name) is negative


def test_numeric_prefixes_and_split_names_like_valid_and_dev_load_by_themselves(tmp_path):
    for split in ("train", "valid", "dev", "test"):
        _classes(tmp_path / "xr" / split, ["0_Normal", "1_Pneumonia"])
    ds = load_dataset(f"folder:{tmp_path / 'xr'}", 32, cache=False)
    assert ds.summary()["classes"] == {"negative": 16, "positive": 16}
    assert sorted(set(ds.splits)) == ["test", "train", "val"]
    assert "train/0_Normal/ → negative, split train (4 images)" in ds.notes  # the summary says what went where


def test_an_ambiguous_layout_prints_the_spec_to_write_and_that_spec_loads(tmp_path):
    root = _classes(tmp_path / "xr", ["clear", "opacity"])
    with pytest.raises(AecryptError, match="cannot tell which one is the negative class") as err:
        load_dataset(f"folder:{root}", 32, cache=False)
    spec = str(err.value).rsplit("e.g. ", 1)[1]
    assert spec == f"folder:{root}?negative=clear&positive=opacity"
    assert load_dataset(spec, 32, cache=False).summary()["classes"] == {"negative": 4, "positive": 4}


def test_an_explicit_mapping_names_the_classes_and_leaves_the_rest_out(tmp_path):
    root = _classes(tmp_path / "xr", ["Healthy", "COVID", "Viral"])
    both = load_dataset(f"folder:{root}?negative=healthy&positive=covid", 32, cache=False)
    assert both.summary()["classes"] == {"negative": 4, "positive": 4}
    assert "left out (named in neither class): Viral" in both.notes
    rest = load_dataset(f"folder:{root}?positive=COVID,viral", 32, cache=False)  # the other class: every other folder
    assert rest.summary()["classes"] == {"negative": 4, "positive": 8}
    with pytest.raises(AecryptError, match=r"negative=nope: no such class folder .* \['COVID', 'Healthy', 'Viral'\]"):
        load_dataset(f"folder:{root}?negative=nope", 32, cache=False)
    with pytest.raises(AecryptError, match="named both negative and positive"):
        load_dataset(f"folder:{root}?negative=covid&positive=covid", 32, cache=False)
    with pytest.raises(AecryptError, match=r"unknown option\(s\) \['finding'\]; valid: \['negative', 'positive'\]"):
        parse_spec(f"folder:{root}?finding=x")


# --- images smaller than the profile's size ----------------------------------------------------


def _medmnist(path, side, n=(20, 6, 8), labels=None):
    rng = np.random.default_rng(5)
    arrays = {}
    for split, count in zip(("train", "val", "test"), n, strict=True):
        arrays[f"{split}_images"] = (rng.random((count, side, side)) * 255).astype(np.uint8)
        arrays[f"{split}_labels"] = labels(count) if labels else (np.arange(count) % 2).reshape(count, 1)
    np.savez(path, **arrays)
    return path


def test_the_build_size_is_the_largest_the_smallest_image_allows(tmp_path):
    from aecrypt.data.dataset import fit_size, smallest_side

    npz = _medmnist(tmp_path / "pneumoniamnist.npz", 28)
    size, note = fit_size(64, f"medmnist:{npz}")
    assert size == 28 and "28×28" in note and "64×64" in note and str(npz) in note
    assert fit_size(16, f"medmnist:{npz}") == (16, "")  # images larger than the profile's size: nothing changes
    assert fit_size(32, "synthetic") == (32, "") and smallest_side("synthetic") is None

    root = make_folder(tmp_path / "xr", n=3)
    _png(root / "PNEUMONIA" / "wide.png", (np.random.default_rng(1).random((40, 90)) * 255).astype(np.uint8))
    side, where = smallest_side(f"folder:{root}")
    assert side == 40 and where.endswith("wide.png")  # the shorter side of a non-square image counts
    ds = load_dataset(f"folder:{root}", fit_size(64, f"folder:{root}")[0], cache=False)
    assert ds.images.shape[1:] == (40, 40)

    _png(root / "NORMAL" / "speck.png", np.zeros((6, 6), np.uint8))
    with pytest.raises(AecryptError, match=r"6 pixels on its shorter side; aecrypt needs images of at least 11×11"):
        fit_size(64, f"folder:{root}")


def test_multi_label_medmnist_is_positive_for_any_finding(tmp_path):
    # ChestMNIST: 14 finding columns; no finding at all is negative, as in the NIH rule
    def findings(n):
        y = np.zeros((n, 14), np.uint8)
        y[1::2, 13] = 1  # a finding in the last column only: column 0 alone would miss it
        return y

    ds = load_dataset(f"medmnist:{_medmnist(tmp_path / 'chestmnist.npz', 28, labels=findings)}", 28, cache=False)
    assert ds.labels.tolist() == [i % 2 for i in range(20)] + [i % 2 for i in range(6)] + [i % 2 for i in range(8)]


def test_cli_data_summary_says_when_the_images_are_smaller(tmp_path):
    npz = _medmnist(tmp_path / "pneumoniamnist.npz", 28)
    out = subprocess.run(
        [sys.executable, "-m", "aecrypt", "data", "--profile", "real", "--data", f"medmnist:{npz}"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 0, out.stderr
    summary = json.loads(out.stdout)
    assert summary["size"] == 28 and "smaller than the profile's 64×64" in summary["notes"][0]
    assert "the file's own split: train 20, val 6, test 8" in summary["notes"]


def test_a_medmnist_file_with_a_flipped_byte_inside_is_one_line(tmp_path):
    """Before: the .npz opened, and reading its damaged array raised `BadZipFile: Bad CRC-32` as a traceback."""
    npz = _medmnist(tmp_path / "pneumoniamnist.npz", 28)
    data = bytearray(npz.read_bytes())
    data[200] ^= 0xFF  # inside the first stored array, past its local header
    npz.write_bytes(bytes(data))
    with pytest.raises(AecryptError, match=r"pneumoniamnist.npz is damaged \(.*\); download it again"):
        medmnist_npz.read_medmnist(npz)


def test_a_bare_path_without_a_kind_gets_the_spec_to_write(tmp_path):
    from aecrypt.data.specs import parse_spec

    with pytest.raises(AecryptError, match=rf"has no kind; did you mean folder:{tmp_path} \(or nih:{tmp_path}\)\?"):
        parse_spec(str(tmp_path))
    npz = _medmnist(tmp_path / "chest.npz", 28)
    with pytest.raises(AecryptError, match=rf"did you mean medmnist:{npz}\?"):
        parse_spec(str(npz))
    with pytest.raises(AecryptError, match="unknown data source 'nowhere'; valid:"):
        parse_spec("nowhere")
