"""The MQTT link on loopback: every fault drill (tampered, malformed, foreign and replayed packets, a
receiver killed mid-stream, the broker restarted mid-stream) against the embedded broker and mosquitto; TLS
with a throwaway CA, with and without client certificates; `aecrypt send / receive` end to end; the errors.
Each test is bounded in images and seconds."""

from __future__ import annotations

import importlib.util
import json
import sys
import threading
import time

import numpy as np
import pandas as pd
import pytest

from aecrypt import AecryptError, paths
from aecrypt.cli import main as cli
from aecrypt.link import addresses, brokers, certs, crashes, endpoints, keys, mqtt, packets, pngfiles, receiving


def _broker_kinds():
    reason = "mosquitto is not installed here (.ci/run installs it with apt)"
    have = brokers.mosquitto_binary() is not None
    return ["embedded", pytest.param("mosquitto", marks=pytest.mark.skipif(not have, reason=reason))]


#: what each drill must show beyond "every genuine image arrived once and was acknowledged"
SIGNS = {
    "tampered": lambda r: any("failed authentication" in x for x in r.refused),
    "malformed": lambda r: any("truncated packet: 19 bytes" in x for x in r.refused),
    "foreign_run": lambda r: any("is for run" in x for x in r.refused),
    "replay": lambda r: r.duplicates >= 1 and not r.refused,
    "stale": lambda r: any("stale packet" in x for x in r.refused),
    "future": lambda r: any("from the future" in x for x in r.refused),
    "decompression_bomb": lambda r: any("declares 8000 × 8000" in x for x in r.refused),
    "receiver_restart": lambda r: not r.refused,
    "broker_restart": lambda r: not r.refused,
    "sender_restart": lambda r: not r.refused,
    "disk_full": lambda r: not r.refused,
    "torn_ledger": lambda r: r.duplicates == 3 and not r.refused,
    "forged_ack": lambda r: not r.refused,
}


@pytest.mark.parametrize("kind", _broker_kinds())
@pytest.mark.parametrize("drill", crashes.DRILLS, ids=lambda d: d.__name__)
def test_every_fault_drill_loses_nothing_and_writes_nothing_twice(ends, tmp_path, kind, drill):
    result = drill(ends, kind, tmp_path)
    assert result.sent == 6 and result.acknowledged == 6, result
    assert result.lost == 0 and result.written == result.rows == result.pngs == 6, result
    assert SIGNS[drill.__name__](result), result
    assert result.passed and result.broker == kind


def test_a_killed_receiver_leaves_its_session_to_the_broker(ends, tmp_path):
    """The drill's kill is a real crash for the broker: no goodbye, so the next receiver gets what was queued."""
    result = crashes.receiver_restart(ends, "embedded", tmp_path)
    rows = pd.read_csv(tmp_path / "received.csv", dtype={"image_id": str})
    assert sorted(rows["sequence"]) == list(range(6)) and rows["image_id"].is_unique
    assert (rows["decode_ms"] > 0).all() and rows["score"].between(0, 1).all() and result.passed


@pytest.mark.parametrize("kind", _broker_kinds())
def test_tls_with_client_certificates(ends, pki, tmp_path, kind):
    ours, other = pki
    device = addresses.ClientTLS(ours.ca, ours.client_cert, ours.client_key)
    sealed = endpoints.Sender(ends.run, ends.key, name="tls").seal(ends.images[:3])
    with brokers.BROKERS[kind](tls=addresses.BrokerTLS(ours.server_cert, ours.server_key, ours.ca)) as broker:
        rx = receiving.LinkReceiver(
            endpoints.Receiver(ends.run, ends.key), tmp_path, broker.address(device), "t"
        ).start()
        try:
            report = mqtt.send(sealed, broker.address(device), "t", ends.key, timeout_s=15)
            assert report.acknowledged == 3 and rx.wait(3, 10)
            with pytest.raises(AecryptError, match=r"did not accept this client.*needs --tls-cert and --tls-key"):
                mqtt.send([], broker.address(addresses.ClientTLS(ours.ca)), "t", ends.key, timeout_s=1)
            with pytest.raises(
                AecryptError, match=r"TLS with mqtts://127\.0\.0\.1:\d+ failed: CERTIFICATE_VERIFY_FAILED"
            ):
                mqtt.send(
                    [], broker.address(addresses.ClientTLS(other.ca, ours.client_cert, ours.client_key)), "t", ends.key
                )
            with pytest.raises(AecryptError, match="did not accept this client|cannot reach"):  # plain MQTT to TLS
                mqtt.send([], addresses.Address("127.0.0.1", broker.port), "t", ends.key, timeout_s=1)
        finally:
            rx.stop()
    assert len(rx.log.accepted) == 3 and not rx.log.refused


def test_send_and_receive_over_tls_from_a_data_spec_with_png_payloads(ends, pki, tmp_path, link_sweep, capsys):
    """The CLI end to end: `aecrypt receive` runs an embedded TLS broker; `aecrypt send --data synthetic`
    sends four phantoms as AES-GCM over PNG; the receiver writes the very images (8-bit) and their scores."""
    ours, _ = pki
    root, _ = link_sweep
    key_file = tmp_path / "cli.key"
    keys.generate(key_file)
    port = addresses.free_port()
    common = ["--profile", "tiny", "--results", str(root), "--run", ends.run.run_id[:6], "--key", str(key_file)]
    tls = ["--tls-ca", str(ours.ca)]
    out = tmp_path / "inbox"
    receive_args = [*common, *tls, "--broker-cert", str(ours.server_cert), "--broker-key", str(ours.server_key)]
    result = {}
    receiver = threading.Thread(
        target=lambda: result.update(
            rc=cli.main(
                ["receive", *receive_args, "--port", str(port), "-o", str(out), "--count", "4", "--timeout", "60"]
            )
        )
    )
    receiver.start()
    try:
        deadline = time.perf_counter() + 30
        while "embedded broker on" not in capsys.readouterr().out:  # the broker is up
            assert time.perf_counter() < deadline and receiver.is_alive()
            time.sleep(0.05)
        rc = cli.main(
            ["send", *common, *tls, "--broker", f"mqtts://127.0.0.1:{port}", "--data", "synthetic", "--n-images", "4"]
            + ["--payload", "png", "--timeout", "20", "--outbox", str(tmp_path / "outbox")]
        )
    finally:
        receiver.join(60)
    printed = capsys.readouterr().out
    assert rc == 0 and result["rc"] == 0
    assert f"sent 4 packet(s) to mqtts://127.0.0.1:{port}/aecrypt/xray: 4 acknowledged" in printed
    rows = pd.read_csv(out / "received.csv", dtype={"image_id": str})
    assert len(rows) == 4 and (rows["payload"] == "png").all() and rows["score"].between(0, 1).all()
    from aecrypt.data.dataset import load_dataset

    phantoms = load_dataset("synthetic", ends.run.size, 4).images
    for _, row in rows.iterrows():
        got = pngfiles.from_png((out / f"{row['image_id']}.png").read_bytes())
        assert np.abs(got - phantoms[row["sequence"]]).max() <= 0.5 / 255 + 1e-6  # the image itself, at 8 bits


def _cli(capsys, *args) -> tuple[int, str]:
    try:
        rc = cli.main([str(a) for a in args])
    except SystemExit as exc:
        rc = exc.code
    return rc, capsys.readouterr().err


def test_link_arguments_that_cannot_work_are_one_line_errors(ends, pki, tmp_path, link_sweep, capsys):
    ours, _ = pki
    root, _ = link_sweep
    key_file = tmp_path / "e.key"
    keys.generate(key_file)
    common = ["--profile", "tiny", "--results", root, "--run", ends.run.run_id[:6], "--key", key_file]
    cases = [
        (["send", *common, "--data", "synthetic", "--broker", "mqtt://127.0.0.1:1", "--tls-ca", ours.ca], "need a TLS"),
        (["send", *common, "--data", "synthetic", "--broker", "http://x"], "give mqtt://HOST:PORT or mqtts://"),
        (["send", *common, "--data", "synthetic", "--broker", "mqtt://127.0.0.1:99999"], "port is not a number"),
        (
            ["send", *common, "--data", "synthetic", "--broker", "mqtt://127.0.0.1:1", "--outbox", tmp_path / "o"],
            "cannot reach an MQTT broker",
        ),
        (["send", *common, "--data", "synthetic", tmp_path], "not both"),
        (["send", *common], "no images given"),
        (["send", *common, "--data", "synthetic", "--payload", "png", "--quantise", "uint8"], "--quantise applies"),
        (["send", *common, "--data", "synthetic", "--payload", "png", "--cipher", "paper", "--insecure"], "AEAD"),
        (["send", *common, "--data", "synthetic", "--tls-cert", ours.client_cert, "--broker", "mqtts://h"], "both"),
        (
            ["send", *common, "--data", "synthetic", "--tls-ca", tmp_path / "nope.pem", "--broker", "mqtts://h"],
            "no such",
        ),
        (["receive", *common, "-o", tmp_path / "r", "--broker-cert", ours.server_cert, "--tls-ca", ours.ca], "both"),
        (
            [
                "receive",
                *common,
                "-o",
                tmp_path / "r",
                "--broker-cert",
                ours.server_cert,
                "--broker-key",
                ours.server_key,
            ],
            "give --tls-ca",
        ),
        (["receive", *common, "-o", tmp_path / "r", "--broker", "mqtt://127.0.0.1:1", "--port", "5"], "embedded"),
        (["certs", "-o", ours.ca.parent], "already holds ca.pem"),
    ]
    import socket

    with socket.socket() as busy:  # a port another broker (say mosquitto's system service) already holds
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        cases.append((["receive", *common, "-o", tmp_path / "r", "--port", port], "cannot start the embedded broker"))
        at_run_time = ("cannot reach an MQTT broker", "cannot start the embedded broker")  # the rest: usage, 2
        for args, message in cases:
            rc, err = _cli(capsys, *args)
            assert rc == (1 if message in at_run_time else 2) and message in err, (args, err)
            assert len(err.strip().splitlines()) == 1, (args, err)
    assert "--port 0: any free port" in err
    assert not list((tmp_path / "r").glob("*"))  # nothing received, nothing written


def test_certs_writes_owner_only_keys_and_certificates_that_verify(tmp_path, capsys):
    import ssl

    assert cli.main(["certs", "-o", str(tmp_path / "tls")]) == 0
    pki = certs.TestPKI(*(tmp_path / "tls" / f for f in certs.FILES))
    assert "--broker-cert" in capsys.readouterr().out
    for private in (pki.server_key, pki.client_key):
        assert private.stat().st_mode & 0o077 == 0
    context = ssl.create_default_context(cafile=str(pki.ca))  # the server certificate loads against its CA
    context.load_cert_chain(pki.client_cert, pki.client_key)
    from cryptography import x509

    server = x509.load_pem_x509_certificate(pki.server_cert.read_bytes())
    names = server.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert {str(ip) for ip in names.get_values_for_type(x509.IPAddress)} == {"127.0.0.1", "::1"}


def test_parse_broker_reads_both_schemes_and_their_default_ports():
    assert addresses.parse_broker(None) == addresses.Address("127.0.0.1", 1883)
    assert (
        addresses.parse_broker("mqtts://[::1]").port == 8883 and addresses.parse_broker("mqtts://[::1]").tls is not None
    )
    assert addresses.parse_broker("mqtts://[::1]:9").url == "mqtts://[::1]:9"
    assert (
        packets.parse(
            packets.seal(np.zeros((1, 4, 4), np.float32), "aes-gcm", b"k" * 32, b"i" * 8, b"r" * 8, b"s" * 8, 0, "png")
        ).header.quantisation
        == "png"
    )


def _link_bench():
    spec = importlib.util.spec_from_file_location("link_bench", paths.ROOT / "benchmarks" / "link.py")
    bench = importlib.util.module_from_spec(spec)
    sys.path.insert(0, str(paths.ROOT / "benchmarks"))  # the script imports its neighbour stamp.py
    spec.loader.exec_module(bench)
    return bench


def test_the_quick_records_streams_side_by_side_take_turns(ends):
    """make book's quick link record sends its two streams at 1 and 10 images/s side by side (benchmarks/link.py
    `interleaved`): the second takes each image half an interval after the first's, and every image arrives."""
    bench = _link_bench()
    rate = 5.0
    first, second = bench.interleaved(
        ends.run, ends.key, ends.images, [("aes-gcm", "float32"), ("aes-gcm", "png")], rate
    )
    assert first["received"] == second["received"] == len(ends.images)
    assert (first["payload"], second["payload"]) == ("float32", "png")
    lag = (second["first_taken_ns"] - first["first_taken_ns"]) / 1e9
    assert abs(lag - 0.5 / rate) < 0.25 / rate, f"the second stream began {lag:.3f} s after the first"
    # each stream kept its own schedule: an image every interval from its own start
    for s in (first, second):
        assert np.allclose(np.diff(s["sent_at_s"]), 1 / rate, atol=0.25 / rate)


def test_the_quick_record_takes_the_drills_run_for_its_key_and_runs_its_own_otherwise(tmp_path, monkeypatch):
    """make book runs the quick record's fault drills beside other steps (`link.py --book --drills`); the record
    that follows takes them where they were run for its key and brokers, once, and runs them itself otherwise."""
    bench = _link_bench()
    ran = []
    monkeypatch.setattr(bench.crashes, "run_drills", lambda ends, kinds: ran.append(kinds) or [])
    record = tmp_path / "link.json"
    left = {"key": "k1", "brokers": ["embedded"], "faults": [{"fault": "tampered packet", "passed": True}]}
    bench.drills_path(record).write_text(json.dumps(left))
    assert bench.drills(None, ("embedded",), record, "k1") == left["faults"] and ran == []
    assert not bench.drills_path(record).exists()  # taken once: a second record runs its own
    assert bench.drills(None, ("embedded",), record, "k1") == [] and ran == [("embedded",)]
    for key, kinds in (("k2", ("embedded",)), ("k1", ("embedded", "mosquitto"))):  # another code, machine, brokers
        bench.drills_path(record).write_text(json.dumps(left))
        assert bench.drills(None, kinds, record, key) == [] and ran[-1] == kinds
