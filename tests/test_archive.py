"""The results archive: a profile's results exported into one file and imported elsewhere give the same book
inputs; a tampered, truncated, newer-format or foreign-member archive is refused with one line before anything
is written."""

import gzip
import io
import json
import os
import tarfile

import pytest

from aecrypt import UsageError, paths
from aecrypt.cli.main import main
from aecrypt.runs import archive


@pytest.fixture(scope="module")
def exported(tiny_sweep, tmp_path_factory):
    # the sweep's results, not the tiny book's: that fixture would build the book here, before the tests that
    # change these results and then expect the book's inputs to be as they left them
    root, _ = tiny_sweep
    out = tmp_path_factory.mktemp("archive") / "tiny.tar.gz"
    assert main(["archive", "export", "--profile", "tiny", "--results", str(root), "-o", str(out), "-q"]) == 0
    return root, out


def _rewrite(source, target, change=lambda name, data: data, extra=()):
    """A copy of an archive with `change(name, bytes) -> bytes` applied to every member, and `extra` (name,
    bytes) members appended."""
    with tarfile.open(source, "r:gz") as tar, tarfile.open(target, "w:gz") as out:
        members = [(m.name, change(m.name, tar.extractfile(m).read())) for m in tar.getmembers()]
        for name, data in [*members, *extra]:
            info = tarfile.TarInfo(name)
            info.size = len(data)
            out.addfile(info, io.BytesIO(data))
    return target


def _refused(path, tmp_path, match, capsys):
    target = tmp_path / "imported"
    assert main(["archive", "import", str(path), "--results", str(target)]) == 1
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and err.startswith("aecrypt: error:") and match in err, err
    assert not target.exists() or not any(target.iterdir())  # nothing written


def _unpacked(folder) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


def test_an_archive_round_trip_gives_the_same_book_inputs_and_claims(exported, tmp_path):
    from aecrypt.book.build import inputs_hash
    from aecrypt.book.pages import claims
    from aecrypt.runs.results import Results

    root, path = exported
    manifest = archive.read(path, tmp_path / "read")
    blobs = _unpacked(tmp_path / "read")
    assert manifest["format"] == archive.FORMAT and manifest["profile"] == "tiny" and not manifest["models"]
    assert manifest["environment"]["cpu"]["model"] and "numpy" in manifest["environment"]["packages"]
    names = set(blobs)
    assert {"results/tiny/summary.csv", "results/tiny/plan.json"} <= names
    assert not any(n.endswith((".keras", ".key")) for n in names)  # models only when asked; keys never
    for name, data in blobs.items():  # every member is the file it came from, byte for byte
        assert (root / name.removeprefix("results/")).read_bytes() == data, name
    runs = {n.split("/")[3] for n in names if n.startswith("results/tiny/runs/")}
    assert runs == {p.name for p in paths.runs_dir("tiny", root).iterdir()}  # every run the build made

    target = tmp_path / "results"
    done = archive.import_archive(path, target)
    assert (done.profile, done.unchanged) == ("tiny", False)
    assert inputs_hash("tiny", target) == inputs_hash("tiny", root)  # the book would build from the same inputs
    pd_claims = claims.claims(Results("tiny", target))
    assert pd_claims.equals(claims.claims(Results("tiny", root))) and len(pd_claims) >= 5
    assert archive.import_archive(path, target).unchanged  # the same archive again: nothing written


def test_only_the_runs_this_builds_records_name_are_exported(tiny_sweep, tmp_path):
    import shutil

    root, _ = tiny_sweep
    copy = tmp_path / "results"
    shutil.copytree(root, copy, ignore=shutil.ignore_patterns("*.keras"))
    stale = paths.runs_dir("tiny", copy) / "0123456789abcdef"  # a folder an older build left behind
    shutil.copytree(next(paths.runs_dir("tiny", copy).iterdir()), stale)
    long_run = "tiny/long/msle_adam_relu_2-seed0"
    records = ["tiny/verdicts.json", "tiny/audit.json", "tiny/compression/record.json", "bench.json"]
    records += ["tiny/convergence.json", f"{long_run}/curve.csv", f"{long_run}/state.json"]
    (copy / long_run).mkdir(parents=True)
    (copy / long_run / "model.weights.h5").write_bytes(b"weights")  # a checkpoint: only with the models
    for name in records:  # the records make book writes beside the runs travel with them
        (copy / name).parent.mkdir(parents=True, exist_ok=True)
        (copy / name).write_text("{}")
    (copy / "tiny" / "notes.txt").write_text("mine")  # a file of the user's: not a known member
    (copy / "tiny" / "link.key").write_text("secret")
    archive.read(archive.export("tiny", tmp_path / "a.tar.gz", copy).path, tmp_path / "read")
    blobs = _unpacked(tmp_path / "read")
    assert not any("/0123456789abcdef/" in n for n in blobs) and any("/runs/" in n for n in blobs)
    assert {f"results/{name}" for name in records} <= set(blobs)
    assert not any(n.endswith(("notes.txt", ".key", ".weights.h5")) for n in blobs)


def test_models_travel_only_when_asked(tiny_sweep, tmp_path):
    root, _ = tiny_sweep
    with_models = archive.export("tiny", tmp_path / "m.tar.gz", root, models=True)
    archive.read(with_models.path, tmp_path / "read")
    blobs = _unpacked(tmp_path / "read")
    assert with_models.models and any(n.endswith("/encoder.keras") for n in blobs)


def test_import_refuses_to_overwrite_results_and_replace_moves_them_aside(exported, tmp_path, capsys):
    _, path = exported
    target = tmp_path / "results"
    (target / "tiny").mkdir(parents=True)
    (target / "tiny" / "summary.csv").write_text("mine\n")
    assert main(["archive", "import", str(path), "--results", str(target)]) == 2
    assert "exists" in capsys.readouterr().err and (target / "tiny" / "summary.csv").read_text() == "mine\n"
    assert main(["archive", "import", str(path), "--results", str(target), "--replace", "-q"]) == 0
    aside = [p for p in target.iterdir() if p.name.startswith("tiny.before-import-")]
    assert len(aside) == 1 and (aside[0] / "summary.csv").read_text() == "mine\n"
    assert paths.summary_csv("tiny", target).read_text() != "mine\n"


def test_a_tampered_member_is_refused(exported, tmp_path, capsys):
    _, path = exported
    bad = _rewrite(path, tmp_path / "bad.tar.gz", lambda n, d: d.replace(b"0", b"1", 1) if n.endswith(".csv") else d)
    _refused(bad, tmp_path, "does not match its SHA-256", capsys)


def test_a_truncated_archive_is_refused(exported, tmp_path, capsys):
    _, path = exported
    cut = tmp_path / "cut.tar.gz"
    cut.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    _refused(cut, tmp_path, "truncated", capsys)
    # a whole gzip stream whose tar lost its last members: the manifest names what is missing
    with gzip.open(path) as f:
        tar_bytes = f.read()
    short = tmp_path / "short.tar.gz"
    short.write_bytes(gzip.compress(tar_bytes[: len(tar_bytes) // 2]))
    _refused(short, tmp_path, "truncated", capsys)


def test_a_newer_format_is_refused(exported, tmp_path, capsys):
    _, path = exported

    def newer(name, data):
        if name != archive.MANIFEST:
            return data
        return json.dumps(json.loads(data) | {"format": archive.FORMAT + 1}).encode()

    _refused(_rewrite(path, tmp_path / "new.tar.gz", newer), tmp_path, "newer than this aecrypt reads", capsys)


@pytest.mark.parametrize("foreign", ["results/tiny/runs/0123456789abcdef/run.sh", "../escape.txt", "results/x.key"])
def test_a_member_outside_the_known_set_is_refused_even_if_listed(exported, tmp_path, capsys, foreign):
    """A member the manifest lists but the known set has no place for (a script, a path out of the results, a
    key) is never written: the manifest was rewritten to list it, as a forger would."""
    _, path = exported
    payload = b"echo hi\n"

    def forged(name, data):
        if name != archive.MANIFEST:
            return data
        manifest = json.loads(data)
        manifest["members"][foreign] = {"sha256": archive._sha256(payload), "size": len(payload)}
        return json.dumps(manifest).encode()

    bad = _rewrite(path, tmp_path / "forged.tar.gz", forged, extra=[(foreign, payload)])
    _refused(bad, tmp_path, "outside the known results", capsys)
    assert not (tmp_path / "escape.txt").exists()


def test_an_unlisted_member_is_refused(exported, tmp_path, capsys):
    _, path = exported
    extra = _rewrite(path, tmp_path / "extra.tar.gz", extra=[("results/bench.json", b"{}")])
    _refused(extra, tmp_path, "not in the manifest", capsys)


def test_known_members():
    assert archive.known_member("results/tiny/runs/0123456789abcdef/metrics.json", "tiny")
    assert archive.known_member("results/bench.json", "tiny")
    assert not archive.known_member("results/default/summary.csv", "tiny")  # another profile
    assert not archive.known_member("results/tiny/runs/0123456789abcdef/../../x", "tiny")
    assert not archive.known_member("results/tiny/runs/notanid/metrics.json", "tiny")
    assert archive.known_member("results/tiny/long/msle_adagrad_relu_2-seed1/final_scores.csv", "tiny")
    assert not archive.known_member("results/tiny/long/../runs/x/state.json", "tiny")
    assert not archive.known_member("results/tiny/long/msle_adagrad_relu_2-seed1/notes.txt", "tiny")


def _archive(path, manifest_members, members):
    """An archive written by hand: a manifest listing `manifest_members` (name → (size, sha256)), then `members`
    (TarInfo, bytes or None)."""
    manifest = {"format": archive.FORMAT, "profile": "tiny", "models": False, "environment": {}}
    manifest["members"] = {n: {"size": s, "sha256": h} for n, (s, h) in manifest_members.items()}
    with tarfile.open(path, "w:gz", compresslevel=9) as tar:
        blob = json.dumps(manifest).encode()
        info = tarfile.TarInfo(archive.MANIFEST)
        info.size = len(blob)
        tar.addfile(info, io.BytesIO(blob))
        for info, data in members:
            tar.addfile(info, io.BytesIO(data) if data is not None else None)
    return path


def test_a_compression_bomb_is_refused_in_bounded_memory(tmp_path, capsys):
    """256 MiB of zeros (a fraction of a megabyte compressed) in a member whose hash is wrong: refused after
    streaming through to disk in pieces, with nothing left behind; a member larger than its manifest says
    is refused from its header, before a byte of it is read."""
    import hashlib
    import tracemalloc

    name, size = "results/tiny/summary.csv", 256 * 2**20
    info = tarfile.TarInfo(name)
    info.size = size
    bomb = _archive(tmp_path / "bomb.tar.gz", {name: (size, "0" * 64)}, [(info, bytes(size))])
    assert bomb.stat().st_size < size / 500
    tracemalloc.start()
    with pytest.raises(archive.ArchiveError, match="does not match its SHA-256"):
        archive.import_archive(bomb, tmp_path / "results")
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    # bounded by what one compressed read of tar's can inflate to (deflate's ratio is at most about 1000), not
    # by the member: the old reader held all of it, and more
    assert peak < size / 4, f"peak {peak / 2**20:.0f} MiB while reading a {size / 2**20:.0f} MiB member"
    assert not any((tmp_path / "results").iterdir())
    small = _archive(tmp_path / "small.tar.gz", {name: (10, hashlib.sha256(bytes(10)).hexdigest())}, [(info, None)])
    _refused(small, tmp_path, "is not the size its manifest gives", capsys)


@pytest.mark.parametrize("kind", [tarfile.SYMTYPE, tarfile.LNKTYPE, tarfile.DIRTYPE])
def test_a_link_or_folder_member_is_named_as_what_it_is(tmp_path, capsys, kind):
    info = tarfile.TarInfo("results/tiny/summary.csv")
    info.type, info.linkname = kind, "/etc/passwd"
    path = _archive(tmp_path / "link.tar.gz", {info.name: (0, "0" * 64)}, [(info, None)])
    what = {tarfile.SYMTYPE: "is a link", tarfile.LNKTYPE: "is a link", tarfile.DIRTYPE: "is a folder"}[kind]
    _refused(path, tmp_path, what, capsys)


@pytest.mark.parametrize(
    "manifest, says",
    [
        (b'["a list"]', "its manifest cannot be read"),
        (b'{"format": "1", "profile": "tiny", "members": {}}', "format '1'"),
    ],
)
def test_a_manifest_of_the_wrong_shape_is_one_line(tmp_path, capsys, manifest, says):
    path = tmp_path / "odd.tar.gz"
    with tarfile.open(path, "w:gz") as tar:
        info = tarfile.TarInfo(archive.MANIFEST)
        info.size = len(manifest)
        tar.addfile(info, io.BytesIO(manifest))
    _refused(path, tmp_path, says, capsys)


@pytest.fixture
def hostile_run(tiny_sweep, tmp_path):
    """A copy of one tiny run with its models, in a results folder of its own, to damage as an archive might."""
    import shutil

    from aecrypt.runs import trained

    root, _ = tiny_sweep
    run_id = trained.list_runs("tiny", root)["run_id"].iloc[0]
    copy = paths.runs_dir("tiny", tmp_path) / run_id
    shutil.copytree(trained.find_run(run_id, "tiny", root), copy)
    return copy


def test_a_run_with_a_malformed_parameter_is_skipped_by_runs_with_a_warning(hostile_run, tmp_path, caplog):
    from aecrypt.runs import trained

    params = json.loads((hostile_run / paths.RUN_FILES.params).read_text())
    (hostile_run / paths.RUN_FILES.params).write_text(json.dumps(params | {"bottleneck": "four"}))
    with caplog.at_level("WARNING"):
        assert trained.list_runs("tiny", tmp_path).empty
    assert f"skipped run folder {hostile_run}" in caplog.text and "malformed" in caplog.text


@pytest.mark.parametrize(
    ("damage", "says"),
    [
        ("size", "gives no image size from 8 to 4096 pixels"),
        ("garbage", "encoder.keras does not load as a model"),
        ("lambda", "encoder.keras does not load as a model"),
    ],
)
def test_a_damaged_or_hostile_run_folder_is_one_line_and_runs_no_code(hostile_run, damage, says, tmp_path):
    from aecrypt.runs import trained

    if damage == "size":
        config = json.loads((hostile_run / paths.RUN_FILES.config).read_text())
        config["profile_settings"]["size"] = "1e9"
        (hostile_run / paths.RUN_FILES.config).write_text(json.dumps(config))
    elif damage == "garbage":
        (hostile_run / "encoder.keras").write_bytes(b"PK\x03\x04 not a model")
    else:  # a Lambda layer's Python code would run on load outside Keras's safe mode
        import keras

        x = keras.Input((32, 32, 1))
        code = keras.layers.Lambda(lambda t: t + 0 * len(os.environ.setdefault("AECRYPT_LAMBDA_RAN", "yes")))
        keras.Model(x, code(x)).save(hostile_run / "encoder.keras")
        os.environ.pop("AECRYPT_LAMBDA_RAN")  # building the model ran it once, here
    with pytest.raises(UsageError, match=says):
        trained.TrainedRun.load(hostile_run)
    assert "AECRYPT_LAMBDA_RAN" not in os.environ


@pytest.mark.parametrize(
    ("column", "planted", "says"),
    [
        ("label", "=cmd|' /C calc'!A0", "is text a spreadsheet would run as a formula"),
        ("mse", "1e308", "is a number no build measures"),
    ],
)
def test_a_table_with_a_formula_or_an_overflow_is_refused_even_with_its_hashes_recomputed(
    exported, tmp_path, capsys, column, planted, says
):
    """Before: such an archive imported cleanly and the book was built from it."""
    import pandas as pd

    _, path = exported
    summary = "results/tiny/summary.csv"

    def planted_in(name, data):
        if name == summary:
            table = pd.read_csv(io.BytesIO(data))
            table[column] = table[column].astype(object)
            table.loc[0, column] = planted
            return table.to_csv(index=False).encode()
        return data

    changed = planted_in(summary, _members(path)[summary])

    def forged(name, data):
        if name == archive.MANIFEST:
            manifest = json.loads(data)
            manifest["members"][summary] = {"sha256": archive._sha256(changed), "size": len(changed)}
            return json.dumps(manifest).encode()
        return planted_in(name, data)

    _refused(_rewrite(path, tmp_path / "planted.tar.gz", forged), tmp_path, says, capsys)


def _members(path) -> dict[str, bytes]:
    with tarfile.open(path, "r:gz") as tar:
        return {m.name: tar.extractfile(m).read() for m in tar.getmembers()}
