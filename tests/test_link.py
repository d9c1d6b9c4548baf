"""The MQTT link on loopback, with the embedded broker: delivery, and the faults — tampered, malformed,
foreign and replayed packets, a receiver restarted mid-stream, a broker restarted. Bounded in time."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from aecrypt import endpoints, keys, link, packets


@pytest.fixture(scope="module")
def ends(tiny_sweep, tmp_path_factory):
    root, _ = tiny_sweep
    work = tmp_path_factory.mktemp("link")
    runs = list(endpoints.list_runs("tiny", root)["run_id"])
    run = endpoints.TrainedRun.load(endpoints.find_run(runs[0], "tiny", root))
    key = keys.generate(work / "k.key")
    images = np.random.default_rng(0).random((6, run.size, run.size), dtype=np.float32)
    return {"run": run, "key": key, "images": images, "work": work, "other_run": runs[1], "root": root}


def _receiver(ends, broker, out, client_id="rx"):
    rx = endpoints.Receiver(ends["run"], ends["key"])
    return link.LinkReceiver(rx, out, "127.0.0.1", broker.port, "aecrypt/test", client_id).start()


def _packets(ends, n=6, sender="device"):
    return endpoints.Sender(ends["run"], ends["key"], name=sender).seal(ends["images"][:n])


def _broker_kinds():
    import shutil

    have = shutil.which("mosquitto") or Path("/usr/sbin/mosquitto").is_file()
    reason = "mosquitto is not installed here (.ci/run installs it with apt)"
    return ["embedded", pytest.param("mosquitto", marks=pytest.mark.skipif(not have, reason=reason))]


@pytest.mark.parametrize("kind", _broker_kinds())
def test_delivery_and_refusals_keep_the_stream_going(ends, tmp_path, kind):
    with link.BROKERS[kind]() as broker:
        rx = _receiver(ends, broker, tmp_path / "out")
        sealed = _packets(ends)
        import paho.mqtt.client as mqtt

        raw = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="attacker")
        raw.connect("127.0.0.1", broker.port)
        raw.loop_start()
        tampered = bytearray(sealed[0])
        tampered[-20] ^= 1
        foreign = packets.parse(sealed[1])
        other = packets.seal(
            np.zeros(foreign.header.shape, np.float32),
            "aes-gcm",
            ends["key"].key,
            ends["key"].key_id,
            packets.run_id_bytes(ends["other_run"]),
            packets.sender_id("device"),
            99,
        )
        for bad in (bytes(tampered), b"not a packet at all", other):
            raw.publish("aecrypt/test", bad, qos=1).wait_for_publish(5)
        report = link.send(sealed, "127.0.0.1", broker.port, "aecrypt/test", timeout_s=20)
        assert report.acknowledged == report.sent == 6 and rx.wait(6, 10)
        raw.publish("aecrypt/test", sealed[2], qos=1).wait_for_publish(5)  # a replay
        raw.loop_stop()
        raw.disconnect()
        import time

        time.sleep(0.5)
        rx.stop()
    log = rx.log
    assert len(log.accepted) == 6 and log.duplicates >= 1  # the replay dropped, nothing written twice
    reasons = " | ".join(log.refused)
    assert "failed authentication" in reasons and "truncated packet: 19 bytes" in reasons and "is for run" in reasons
    rows = (tmp_path / "out" / "received.csv").read_text().splitlines()
    assert len(rows) == 7 and len(list((tmp_path / "out").glob("*.png"))) == 6


def test_a_receiver_restarted_mid_stream_loses_nothing_and_writes_nothing_twice(ends, tmp_path):
    out = tmp_path / "out"
    with link.EmbeddedBroker() as broker:
        first = _receiver(ends, broker, out)
        sealed = _packets(ends, sender="restart")
        link.send(sealed[:3], "127.0.0.1", broker.port, "aecrypt/test", timeout_s=10)
        assert first.wait(3, 10)
        first.stop()  # killed: the rest is published while it is down, to its persistent session
        import threading

        result = {}
        sender = threading.Thread(
            target=lambda: result.update(r=link.send(sealed, "127.0.0.1", broker.port, "aecrypt/test", timeout_s=20))
        )
        sender.start()
        second = _receiver(ends, broker, out)  # same client id and folder
        assert second.wait(3, 15)
        sender.join(25)
        second.stop()
    assert result["r"].acknowledged == 6
    rows = (out / "received.csv").read_text().splitlines()[1:]
    assert len(rows) == 6 and len({r.split(",")[0] for r in rows}) == 6  # every image once


@pytest.mark.parametrize("kind", _broker_kinds())
def test_a_broker_restart_is_survived_by_resending(ends, tmp_path, kind):
    port = link.free_port()
    broker = link.BROKERS[kind](port).start()
    rx = _receiver(ends, broker, tmp_path / "out")
    sealed = _packets(ends, sender="broker-restart")
    broker.stop()  # the broker forgets everything (mosquitto runs with persistence off)
    broker = link.BROKERS[kind](port).start()
    try:
        report = link.send(sealed, "127.0.0.1", port, "aecrypt/test", timeout_s=25)
        assert rx.wait(6, 10) and report.acknowledged == 6
    finally:
        rx.stop()
        broker.stop()
    assert len(rx.log.accepted) == 6


def test_an_unreachable_broker_is_a_clear_error():
    from aecrypt import AecryptError

    with pytest.raises(AecryptError, match="cannot reach an MQTT broker at mqtt://127.0.0.1:1"):
        link.send([], "127.0.0.1", 1, "t", timeout_s=1)
    with pytest.raises(AecryptError, match="give mqtt://HOST:PORT"):
        link.parse_broker("http://x")
