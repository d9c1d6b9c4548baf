"""`aecrypt fetch` against a local HTTP server on loopback (no test touches the internet): progress, resume,
checksums, unpacking, and the errors a user sees offline or with a corrupt file."""

from __future__ import annotations

import hashlib
import io
import logging
import tarfile
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import numpy as np
import pytest
from PIL import Image

from aecrypt import AecryptError
from aecrypt.cli import main as cli
from aecrypt.data import catalogue, download, fetch
from aecrypt.data.dataset import load_dataset


class FixtureServer:
    """Serves `files` by name on 127.0.0.1; answers Range requests unless `ranges` is False; `cut[name] = n`
    closes the next response for that name after n bytes (an interrupted download)."""

    def __init__(self):
        self.files: dict[str, bytes] = {}
        self.ranges = True
        self.from_zero = False  # answer a Range request with 206 and the whole file (a broken server or proxy)
        self.etag: str | None = None  # sent with every answer; If-Range is honoured against it
        self.no_length = False  # no Content-Length: the body ends when the connection closes
        self.cut: dict[str, int] = {}
        self.log: list[tuple[str, str | None]] = []
        self.if_range: list[str | None] = []
        state = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_GET(self):
                name = self.path.lstrip("/").split("?")[0]
                asked = self.headers.get("Range")
                state.log.append((name, asked))
                state.if_range.append(self.headers.get("If-Range"))
                if name not in state.files:
                    self.send_error(404)
                    return
                body, start = state.files[name], 0
                stale = state.etag and self.headers.get("If-Range") not in (None, state.etag)
                if asked and state.from_zero:
                    self.send_response(206)
                    self.send_header("Content-Range", f"bytes 0-{len(body) - 1}/{len(body)}")
                elif asked and state.ranges and not stale:
                    start = int(asked.removeprefix("bytes=").rstrip("-"))
                    if start >= len(body):
                        self.send_response(416)
                        self.send_header("Content-Range", f"bytes */{len(body)}")
                        self.send_header("Content-Length", "0")
                        self.end_headers()
                        return
                    self.send_response(206)
                    self.send_header("Content-Range", f"bytes {start}-{len(body) - 1}/{len(body)}")
                else:
                    self.send_response(200)
                rest = body[start:]
                if state.etag:
                    self.send_header("ETag", state.etag)
                if state.no_length:
                    self.send_header("Connection", "close")
                    self.close_connection = True
                else:
                    self.send_header("Content-Length", str(len(rest)))
                self.end_headers()
                self.wfile.write(rest[: state.cut.pop(name, len(rest))])

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def downloads(self, name: str) -> list[str | None]:
        return [r for n, r in self.log if n == name]


@pytest.fixture
def server():
    s = FixtureServer()
    yield s
    s.httpd.shutdown()
    s.httpd.server_close()


def _npz(side=28) -> bytes:
    rng = np.random.default_rng(0)
    arrays = {}
    for split, n in (("train", 40), ("val", 10), ("test", 10)):
        arrays[f"{split}_images"] = (rng.random((n, side, side)) * 255).astype(np.uint8)
        arrays[f"{split}_labels"] = (np.arange(n) % 2).reshape(n, 1).astype(np.uint8)
    out = io.BytesIO()
    np.savez(out, **arrays)
    return out.getvalue()


@pytest.fixture
def medmnist_file(server, monkeypatch):
    """A small 28×28 PneumoniaMNIST stand-in on the server, with its MD5 in the catalogue."""
    body = _npz()
    server.files["pneumoniamnist.npz"] = body
    md5 = hashlib.md5(body).hexdigest()
    fake = catalogue.MedmnistSet("pneumoniamnist", {28: md5}, "binary")
    monkeypatch.setitem(catalogue.MEDMNIST, "pneumoniamnist", fake)
    return body


def _fetch(capsys, *args) -> tuple[int, str, str]:
    rc = cli.main(["fetch", *args])
    out = capsys.readouterr()
    return rc, out.out, out.err


def test_medmnist_download_shows_progress_verifies_and_prints_the_spec(server, medmnist_file, tmp_path, capsys):
    args = ("medmnist", "pneumoniamnist", "--to", str(tmp_path / "mm"), "--mirror", server.url)
    rc, out, err = _fetch(capsys, *args)
    assert rc == 0, err
    assert "pneumoniamnist.npz" in err and "100%" in err and "checksum verified" in err  # the tqdm bar
    spec = out.splitlines()[0].removeprefix("data spec: ")
    assert spec == f"medmnist:{(tmp_path / 'mm' / 'pneumoniamnist.npz').resolve()}"
    assert (tmp_path / "mm" / "pneumoniamnist.npz").read_bytes() == medmnist_file
    assert len(load_dataset(spec, 28, cache=False)) == 60
    sha = hashlib.sha256(medmnist_file).hexdigest()
    assert download.recorded_sha256(tmp_path / "mm") == {"pneumoniamnist.npz": sha}

    rc, _, err = _fetch(capsys, *args)  # a second fetch checks and does not download again
    assert rc == 0 and "already here, checksum verified" in err
    assert len(server.downloads("pneumoniamnist.npz")) == 1


def test_an_interrupted_download_resumes_where_it_stopped(server, medmnist_file, tmp_path, capsys):
    server.cut["pneumoniamnist.npz"] = 1000
    args = ("medmnist", "pneumoniamnist", "--to", str(tmp_path), "--mirror", server.url, "--quiet")
    rc, _, err = _fetch(capsys, *args)
    assert rc == 1 and f"interrupted after 1000 of {len(medmnist_file)} bytes" in err
    assert (tmp_path / "pneumoniamnist.npz.part").stat().st_size == 1000
    assert not (tmp_path / "pneumoniamnist.npz").exists()

    rc, _, err = _fetch(capsys, *args[:-1])
    assert rc == 0 and "resuming after 1000 bytes" in err
    assert server.downloads("pneumoniamnist.npz") == [None, "bytes=1000-"]
    assert (tmp_path / "pneumoniamnist.npz").read_bytes() == medmnist_file


def test_a_server_without_ranges_starts_over(server, medmnist_file, tmp_path, capsys):
    server.ranges = False
    (tmp_path / "pneumoniamnist.npz.part").write_bytes(medmnist_file[:500])
    rc, _, err = _fetch(capsys, "medmnist", "pneumoniamnist", "--to", str(tmp_path), "--mirror", server.url)
    assert rc == 0 and "does not resume downloads; starting over" in err
    assert (tmp_path / "pneumoniamnist.npz").read_bytes() == medmnist_file


def test_a_206_that_does_not_start_at_the_part_is_not_appended(server, tmp_path, caplog):
    """Before: a 20 KB .part and a server answering from byte 0 gave a 70 KB file whose SHA-256 was recorded."""
    body = np.random.default_rng(5).bytes(50_000)
    server.files["images_001.tar.gz"] = body
    server.from_zero = True
    (tmp_path / "images_001.tar.gz.part").write_bytes(body[:20_000])
    with caplog.at_level(logging.INFO, "aecrypt"):
        got = download.download(f"{server.url}/images_001.tar.gz", tmp_path / "images_001.tar.gz")
    assert got.read_bytes() == body
    assert download.recorded_sha256(tmp_path) == {"images_001.tar.gz": hashlib.sha256(body).hexdigest()}
    assert "answered from byte 0, not 20000; starting over" in caplog.text


def test_if_range_carries_the_validator_and_a_changed_file_starts_over(server, tmp_path):
    old, new = b"a" * 30_000, b"b" * 30_000
    server.files["f.bin"], server.etag = old, '"v1"'
    server.cut["f.bin"] = 10_000
    with pytest.raises(AecryptError, match="interrupted after 10000 of 30000 bytes"):
        download.download(f"{server.url}/f.bin", tmp_path / "f.bin")
    server.files["f.bin"], server.etag = new, '"v2"'  # the file changed on the server meanwhile
    got = download.download(f"{server.url}/f.bin", tmp_path / "f.bin")
    assert server.if_range[-1] == '"v1"' and got.read_bytes() == new  # never old[:10000] + new[10000:]


def test_a_download_of_unstated_length_is_checked_but_never_recorded(server, tmp_path, caplog):
    server.files["f.bin"], server.no_length = b"c" * 5000, True
    with caplog.at_level(logging.INFO, "aecrypt"):
        download.download(f"{server.url}/f.bin", tmp_path / "f.bin", quiet=True)
    assert download.recorded_sha256(tmp_path) == {}
    assert "stated no length, so its SHA-256 is checked but not recorded" in caplog.text


def test_a_sha256sums_line_without_a_name_is_skipped_with_a_warning(tmp_path, caplog):
    (tmp_path / download.CHECKSUMS).write_text("abc123\n" + "d" * 64 + "  good.bin\n\n")
    assert download.recorded_sha256(tmp_path) == {"good.bin": "d" * 64}
    assert "line 1: not 'SHA-256  name'; ignored" in caplog.text


def test_a_corrupt_download_is_rejected_by_its_checksum_and_deleted(server, medmnist_file, tmp_path, capsys):
    server.files["pneumoniamnist.npz"] = medmnist_file[:-10] + b"0123456789"
    rc, _, err = _fetch(capsys, "medmnist", "pneumoniamnist", "--to", str(tmp_path), "--mirror", server.url)
    expected = catalogue.MEDMNIST["pneumoniamnist"].md5[28]
    assert rc == 1 and "pneumoniamnist.npz is corrupt or changed: MD5" in err and f"publisher gives {expected}" in err
    assert not list(tmp_path.glob("pneumoniamnist*"))  # neither the file nor a .part is kept


def _tar(members: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w:gz") as tar:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return out.getvalue()


def _png_bytes(value: int) -> bytes:
    out = io.BytesIO()
    Image.fromarray(np.full((64, 64), value, np.uint8)).save(out, format="PNG")
    return out.getvalue()


@pytest.fixture
def nih_release(server):
    """Two image archives in the release's layout and its labels file, served from loopback."""
    rows = ["Image Index,Finding Labels,Follow-up #,Patient ID"]
    for part in (1, 2):
        members = {}
        for i in range(6):
            patient = part * 100 + i
            name = f"{patient:08d}_000.png"
            members[f"images/{name}"] = _png_bytes(20 * i)
            rows.append(f"{name},{'No Finding' if i % 2 else 'Pneumonia'},0,{patient}")
        server.files[catalogue.nih_part_name(part)] = _tar(members)
    server.files["Data_Entry_2017.csv"] = ("\n".join(rows) + "\n").encode()
    return server


def test_nih_parts_are_downloaded_unpacked_recorded_and_load(nih_release, tmp_path, capsys):
    to = tmp_path / "nih"
    args = ("nih", "--parts", "1-2", "--to", str(to), "--mirror", nih_release.url, "--quiet")
    rc, out, err = _fetch(capsys, *args, "--labels", f"{nih_release.url}/Data_Entry_2017.csv")
    assert rc == 0, err
    assert sorted(p.name for p in (to / "images").iterdir()) == sorted(
        f"{p * 100 + i:08d}_000.png" for p in (1, 2) for i in range(6)
    )
    assert not list(to.glob("*.tar.gz"))  # unpacked archives are deleted ...
    sums = download.recorded_sha256(to)  # ... after their SHA-256 was recorded (NIH publishes none)
    assert sums["images_001.tar.gz"] == hashlib.sha256(nih_release.files["images_001.tar.gz"]).hexdigest()
    ds = load_dataset(out.splitlines()[0].removeprefix("data spec: "), 32, cache=False)
    assert len(ds) == 12 and ds.labels.sum() == 6

    rc, _, _ = _fetch(capsys, *args)  # unpacked parts are not fetched again
    assert rc == 0 and len(nih_release.downloads("images_001.tar.gz")) == 1


@pytest.mark.parametrize("record", [b"{not json", b'{"images_001.tar.gz": true}', b"\xff\xfe"])
def test_a_damaged_record_of_unpacked_archives_is_one_line_and_downloads_nothing(nih_release, tmp_path, capsys, record):
    """Before: a JSONDecodeError traceback."""
    (tmp_path / fetch.UNPACKED).write_bytes(record)
    rc, _, err = _fetch(capsys, "nih", "--parts", "1", "--to", str(tmp_path), "--mirror", nih_release.url, "--quiet")
    assert rc != 0 and f"{tmp_path / fetch.UNPACKED} is damaged" in err and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1 and not nih_release.downloads("images_001.tar.gz")


def test_nih_without_labels_says_the_one_step_left(nih_release, tmp_path, capsys):
    rc, _, err = _fetch(capsys, "nih", "--parts", "1", "--to", str(tmp_path), "--mirror", nih_release.url, "--quiet")
    assert rc == 0 and "one step left" in err and "Data_Entry_2017_v2020.csv" in err and catalogue.NIH_PAGE in err


def test_a_changed_file_fails_against_the_sha256_recorded_on_its_first_download(nih_release, tmp_path, capsys):
    args = ("nih", "--parts", "1", "--to", str(tmp_path), "--mirror", nih_release.url, "--quiet")
    assert _fetch(capsys, *args)[0] == 0
    (tmp_path / fetch.UNPACKED).unlink()  # forget the unpacking, so part 1 is fetched again ...
    nih_release.files["images_001.tar.gz"] = _tar({"images/00000999_000.png": _png_bytes(1)})  # ... but it changed
    rc, _, err = _fetch(capsys, *args)
    assert rc == 1 and "images_001.tar.gz is corrupt or changed" in err and "its first download recorded" in err


def test_an_archive_member_that_is_not_an_image_is_never_extracted(server, tmp_path, capsys):
    """Paths reaching outside the folder, and members that would overwrite its bookkeeping (SHA256SUMS, the
    unpacked list): only images/*.png are extracted."""
    members = {
        "../escaped.png": _png_bytes(1),
        "SHA256SUMS": b"0" * 64 + b"  x\n",
        "images/00000001_000.png": _png_bytes(2),
    }
    members[fetch.UNPACKED] = b"[]"
    server.files["images_001.tar.gz"] = _tar(members)
    rc, _, err = _fetch(capsys, "nih", "--parts", "1", "--to", str(tmp_path / "nih"), "--mirror", server.url)
    assert rc == 0 and "3 member(s) that are not images/*.png were not extracted" in err
    assert not (tmp_path / "escaped.png").exists() and (tmp_path / "nih" / "images" / "00000001_000.png").is_file()
    assert "x" not in download.recorded_sha256(tmp_path / "nih")  # the folder's own record, not the archive's


def test_offline_is_a_clear_error_and_a_missing_file_names_the_status(server, tmp_path, capsys):
    closed = "http://127.0.0.1:1"  # nothing listens on port 1
    rc, _, err = _fetch(capsys, "medmnist", "pneumoniamnist", "--to", str(tmp_path), "--mirror", closed)
    assert rc == 1 and "cannot reach 127.0.0.1:1" in err and "needs the network" in err and "Traceback" not in err
    rc, _, err = _fetch(capsys, "nih", "--parts", "3", "--to", str(tmp_path), "--mirror", server.url)
    assert rc == 1 and "images_003.tar.gz: the server answered 404" in err


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("medmnist", "breastmnist"), "unknown MedMNIST set 'breastmnist'; valid: pneumoniamnist, chestmnist"),
        (("nih", "--parts", "0"), "--parts '0': give numbers 1..12"),
        (("nih", "--parts", "2-x"), "--parts '2-x': give numbers 1..12"),
        (("nih", "--parts", "1", "--labels", "/no/such.csv"), "--labels /no/such.csv: no such file"),
    ],
)
def test_bad_fetch_arguments_are_one_line_errors(server, tmp_path, capsys, args, message):
    if args[0] == "nih" and "--labels" in args:
        server.files["images_001.tar.gz"] = _tar({"images/00000001_000.png": _png_bytes(1)})
    rc, _, err = _fetch(capsys, *args, "--to", str(tmp_path), "--mirror", server.url)
    assert rc == 2 and message in err and len(err.strip().splitlines()) == 1


def test_the_catalogue_has_every_published_checksum_and_the_twelve_nih_parts():
    for s in catalogue.MEDMNIST.values():
        assert sorted(s.md5) == list(catalogue.MEDMNIST_SIZES)
        assert all(len(m) == 32 and int(m, 16) >= 0 for m in s.md5.values())
        assert s.url(64).startswith("https://zenodo.org/") and s.file_name(28) == f"{s.name}.npz"
    assert len(catalogue.NIH_PARTS) == 12 and len(set(catalogue.NIH_PARTS)) == 12
    assert catalogue.parse_parts("all") == list(range(1, 13)) and catalogue.parse_parts("3,1-2") == [1, 2, 3]
    with pytest.raises(AecryptError, match="valid sizes: 28, 64, 128, 224"):
        catalogue.medmnist_set("pneumoniamnist", 32)
