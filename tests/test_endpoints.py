"""`aecrypt keygen / runs / encrypt / decrypt` on runs of the shared tiny sweep: round trips with every
cipher, refusals that write nothing, no input name or patient id in any packet, and no key byte anywhere."""

from __future__ import annotations

import base64
import json
import os

import numpy as np
import pandas as pd
import pytest
from PIL import Image

from aecrypt.cli import main as cli
from aecrypt.link import keys, packets
from aecrypt.runs import trained

PATIENT = "00031337"


@pytest.fixture(scope="module")
def link(tiny_sweep, tmp_path_factory):
    """A key file with a known key, two runs of the tiny sweep, and four X-ray files named like NIH's."""
    root, _ = tiny_sweep
    work = tmp_path_factory.mktemp("link")
    table = trained.list_runs("tiny", root)
    assert table["models"].all() and len(table) >= 2  # every run kept its models
    images = work / "xrays"
    images.mkdir()
    rng = np.random.default_rng(0)
    for i in range(4):
        Image.fromarray((rng.random((48, 48)) * 255).astype(np.uint8)).save(images / f"{PATIENT}_00{i}.png")
    key = os.urandom(keys.KEY_BYTES)
    key_file = work / "known.key"
    key_file.write_text(
        json.dumps({"format": keys.FORMAT, "key_id": "00112233aabbccdd", "key": base64.b64encode(key).decode()})
    )
    key_file.chmod(0o600)
    return {
        "root": root,
        "work": work,
        "runs": list(table["run_id"]),
        "images": images,
        "key": key,
        "key_file": key_file,
    }


def _cli(capsys, *args) -> tuple[int, str, str]:
    try:
        rc = cli.main([str(a) for a in args])
    except SystemExit as exc:
        rc = exc.code
    out = capsys.readouterr()
    return rc, out.out, out.err


def _common(link, run=None):
    return [
        "--profile",
        "tiny",
        "--results",
        link["root"],
        "--run",
        (run or link["runs"][0])[:6],
        "--key",
        link["key_file"],
    ]


@pytest.mark.parametrize(
    ("cipher", "quantisation"),
    [("aes-gcm", "float32"), ("chacha20", "uint8"), ("paper", "float16"), ("aes-gcm", "png")],
)
def test_encrypt_then_decrypt_round_trip(link, capsys, cipher, quantisation):
    sent, got = link["work"] / f"sent-{cipher}-{quantisation}", link["work"] / f"got-{cipher}-{quantisation}"
    insecure = ["--insecure"] if cipher == "paper" else []
    payload = ["--payload", "png"] if quantisation == "png" else ["--quantise", quantisation]
    rc, out, err = _cli(
        capsys,
        "encrypt",
        *_common(link),
        "--cipher",
        cipher,
        *payload,
        *insecure,
        link["images"],
        "-o",
        sent,
    )
    assert rc == 0, err
    files = sorted(sent.glob("*.aecp"))
    assert len(files) == 4 and len(out.strip().splitlines()) == 4
    if cipher == "paper":
        assert "not secure" in err and "cannot detect tampering" in err
    for f in files:  # no file name or patient id travels
        data = f.read_bytes()
        assert PATIENT.encode() not in data and b".png" not in data and PATIENT not in f.name
        assert packets.parse(data).header.cipher == cipher
        assert packets.parse(data).header.quantisation == quantisation
    rc, out, err = _cli(capsys, "decrypt", *_common(link), *insecure, *files, "-o", got)
    assert rc == 0, err
    scores = pd.read_csv(got / "scores.csv", dtype={"image_id": str})
    assert len(scores) == 4 and scores["score"].between(0, 1).all() and (scores["cipher"] == cipher).all()
    assert sorted(scores["sequence"]) == [0, 1, 2, 3] and PATIENT not in (got / "scores.csv").read_text()
    if cipher == "aes-gcm":  # exact: the receiver decodes the very latent the sender encoded (or has the image)
        run = trained.TrainedRun.load(trained.find_run(link["runs"][0], "tiny", link["root"]))
        from aecrypt.data import readers

        x = np.stack([readers.read_image(p, run.size) for p in sorted(link["images"].glob("*.png"))])
        expected = x if quantisation == "png" else run.decode(run.encode(x))
        by_seq = scores.sort_values("sequence")
        for i, name in enumerate(by_seq["image"]):
            decoded = np.asarray(Image.open(got / name), np.float32) / 255
            assert np.abs(decoded - expected[i]).max() <= 1 / 255 + 1e-6


def test_refusals_are_one_line_and_write_nothing(link, capsys):
    sent = link["work"] / "sent-refusals"
    assert _cli(capsys, "encrypt", *_common(link), link["images"], "-o", sent)[0] == 0
    good = sorted(sent.glob("*.aecp"))[0].read_bytes()
    tampered = bytearray(good)
    tampered[len(good) // 2] ^= 1
    other_key = link["work"] / "other.key"
    keys.generate(other_key)
    cases = {
        "tampered": (bytes(tampered), _common(link), "failed authentication"),
        "truncated": (good[:-7], _common(link), "truncated packet"),
        "wrong-key": (good, _common(link)[:-2] + ["--key", other_key], "is for key"),
        "wrong-run": (good, _common(link, link["runs"][1]), "is for run"),
    }
    for name, (data, common, message) in cases.items():
        packet = link["work"] / f"{name}.aecp"
        packet.write_bytes(data)
        out = link["work"] / f"out-{name}"
        rc, _, err = _cli(capsys, "decrypt", *common, sorted(sent.glob("*.aecp"))[1], packet, "-o", out)
        assert rc == 1 and message in err and len(err.strip().splitlines()) == 1, (name, err)  # a refusal: run time
        named = f"{name}.aecp" if name in ("tampered", "truncated") else ".aecp"  # a wrong key/run fails the 1st
        assert f"{named}: " in err and not out.exists(), name  # names the packet; nothing written
    rc, _, err = _cli(capsys, "encrypt", *_common(link), "--cipher", "paper", link["images"], "-o", link["work"] / "x")
    assert rc == 2 and "add --insecure" in err and not (link["work"] / "x").exists()
    rc, _, err = _cli(capsys, "decrypt", *_common(link)[:5], "zzzz", "--key", link["key_file"], "p.aecp", "-o", "x")
    assert rc == 2 and "no run" in err and "aecrypt runs" in err


def test_runs_lists_ids_and_labels(link, capsys):
    rc, out, _ = _cli(capsys, "runs", "--profile", "tiny", "--results", link["root"])
    assert rc == 0 and all(r in out for r in link["runs"]) and "· seed" in out


def test_the_key_appears_nowhere(link, tiny_book, capsys):
    """After round trips with the known key: its bytes (raw, hex, base64) in no run folder, executed notebook,
    log, built page, packet, decrypted output or command output."""
    key = link["key"]
    forms = [key, key.hex().encode(), key.hex().upper().encode(), base64.b64encode(key), base64.urlsafe_b64encode(key)]
    _, html = tiny_book
    places = [link["root"], html, link["work"]]
    checked = 0
    for place in places:
        for path in place.rglob("*"):
            if path.is_file() and path != link["key_file"]:
                data = path.read_bytes()
                checked += 1
                assert not any(form in data for form in forms), path
    assert checked > 50
    out = capsys.readouterr()
    assert not any(form.decode("latin-1") in out.out + out.err for form in forms)


def test_png_payloads_need_no_run_at_either_end(tmp_path):
    """The image itself travels: a sender and a receiver without a run seal and open it exactly (8-bit), the
    receiver does not classify, and it refuses a latent before decrypting it, since nothing could decode it."""
    from aecrypt import UsageError
    from aecrypt.link.endpoints import NO_RUN, Receiver, Sender

    key = keys.generate(tmp_path / "k.key")
    images = np.round(np.random.default_rng(1).random((3, 40, 40)) * 255).astype(np.float32) / 255
    sealed = Sender(None, key, quantisation="png").seal(images, ["a", "b", "c"])
    assert all(packets.parse(p).header.run_id == NO_RUN for p in sealed)
    received = Receiver(None, key).receive(sealed)
    assert [r.score for r in received] == [None] * 3
    assert np.array_equal(np.stack([r.image for r in received]), images)
    with pytest.raises(UsageError, match=r"needs a trained run \(--run\)"):
        Sender(None, key, quantisation="float32").seal(images)
    latent = packets.seal(images[:1, :8, :8].reshape(1, 8, 8, 1), "aes-gcm", key.key, key.key_id, NO_RUN, b"s" * 8, 0)
    with pytest.raises(packets.PacketError, match=r"packet 0: packet holds a latent; this receiver has no run"):
        Receiver(None, key).receive([latent])
