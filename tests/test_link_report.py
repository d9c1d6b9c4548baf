"""What the book says about the link, from a link record: the quantile bounds, each stream's real-time check,
the tables, the claims row, and the page's own code run on a record. No stream is sent here: the record is
made up in the test (latencies drawn from known distributions), so every verdict can be checked."""

from __future__ import annotations

import ast
import json
import math

import numpy as np
import pytest

from aecrypt import paths
from aecrypt.book.pages import claims, link
from aecrypt.runs.results import Results
from aecrypt.stats import findings, intervals, realtime


def test_quantile_bounds_come_from_order_statistics_and_need_enough_values():
    x = np.arange(1, 301, dtype=float)  # 300 values
    assert intervals.quantile_bound(x, 0.99, "upper") == 300.0  # the largest: P(all 300 below ξ) ≤ 5 %
    assert math.isnan(intervals.quantile_bound(x[:298], 0.99, "upper"))  # 298 values cannot bound the p99
    assert intervals.quantile_bound(x[:299], 0.99, "upper") == 299.0
    low = intervals.quantile_bound(x, 0.99, "lower")
    assert 290 <= low < 297
    median = intervals.quantile_interval(x, 0.5)
    assert median.low < median.estimate == 150.5 < median.high and median.high - median.low < 40
    with pytest.raises(Exception, match="valid: 'upper', 'lower'"):
        intervals.quantile_bound(x, 0.99, "both")


def test_the_upper_bound_covers_the_true_p99_about_95_percent_of_the_time():
    rng = np.random.default_rng(1)
    true_p99 = -math.log(0.01)  # of an exponential with mean 1
    hits = [intervals.quantile_bound(rng.exponential(1, 300), 0.99, "upper") >= true_p99 for _ in range(400)]
    assert 0.91 <= np.mean(hits) <= 0.99


def _stream(latency, rate, images=None, spacing=None, **extra):
    n = len(latency)
    spacing = spacing or (1 / rate if rate else 0.001)
    return {
        "cipher": extra.pop("cipher", "aes-gcm"),
        "payload": extra.pop("payload", "float32"),
        "rate": rate,
        "images": images or n,
        "received": sum(v is not None for v in latency),
        "packet_bytes": 65650,
        "seconds": n * spacing,
        "resends": 0,
        "latency_ms": list(latency),
        "sent_at_s": [i * spacing for i in range(n)],
        "stage_median_ms": {"seal": 6.0, "transit": 1.0, "open": 0.1, "decode": 5.0, "classify": 4.0},
    }


def _check(stream):
    return realtime.rate_check(stream["latency_ms"], stream["sent_at_s"], stream["rate"], stream["images"])


def test_a_stream_is_real_time_only_when_its_p99_bound_is_inside_the_interval():
    rng = np.random.default_rng(0)
    steady = 15 + rng.exponential(2, 300)
    assert _check(_stream(steady, 10)).real_time == realtime.YES
    assert "within the 100 ms interval" in _check(_stream(steady, 10)).why
    slow = 150 + rng.exponential(2, 300)  # every image later than the interval
    assert _check(_stream(slow, 10)).real_time == realtime.NO
    few = _check(_stream(steady[:30], 1))  # far inside the deadline, but 30 images bound no p99
    assert few.real_time == realtime.CANNOT_TELL and "needs at least 299" in few.why
    lost = list(steady)
    lost[5] = None
    assert (
        _check(_stream(lost, 10)).real_time == realtime.NO
        and "1 of 300 images never arrived" in _check(_stream(lost, 10)).why
    )
    growing = 15 + np.arange(300) * 3.0  # +30 ms per second of stream: a backlog
    check = _check(_stream(growing, 100))
    assert check.real_time == realtime.NO and "the queue grows" in check.why
    straddle = np.r_[np.full(296, 20.0), np.full(4, 130.0)]  # 4 of 300 late: p99 bounds around the interval
    assert _check(_stream(straddle, 10)).real_time == realtime.CANNOT_TELL
    saturated = _check(_stream(growing, None))
    assert saturated.real_time == "" and "throughput" in saturated.why


def test_the_fastest_real_time_rate_stops_at_the_first_rate_that_failed():
    def check(rate, real_time):
        return realtime.RateCheck(
            rate, 1, 1, intervals.Interval(1, 1, 1, 1), 1, 1, 1, intervals.Interval(0, 0, 0, 1), real_time, ""
        )

    y, n, c = realtime.YES, realtime.NO, realtime.CANNOT_TELL
    assert realtime.fastest_real_time([check(1, c), check(10, y), check(100, n), check(None, "")]) == 10
    assert realtime.fastest_real_time([check(1, y), check(10, n), check(100, y)]) == 1
    assert realtime.fastest_real_time([check(1, c), check(10, c)]) is None


@pytest.fixture
def record():
    rng = np.random.default_rng(2)
    streams = []
    for cipher, payload, base in (("aes-gcm", "float32", 15.0), ("aes-gcm", "png", 8.0)):
        streams.append(_stream(base + rng.exponential(2, 30), 1, cipher=cipher, payload=payload))
        streams.append(_stream(base + rng.exponential(2, 300), 10, cipher=cipher, payload=payload))
        if payload == "float32":  # a backlog at 100/s
            late = base + np.arange(300) * 2.0 + rng.exponential(1, 300)
        else:  # within the 10 ms interval
            late = 2.0 + rng.exponential(0.5, 300)
        streams.append(_stream(late, 100, cipher=cipher, payload=payload))
        streams.append(_stream(late * 2, None, cipher=cipher, payload=payload))
        if payload == "png":  # no encoder: PNG encoding only
            for stream in streams[-4:]:
                stream["stage_median_ms"] = stream["stage_median_ms"] | {"seal": 0.4, "decode": 0.0}
    payloads = [
        {"size": 200, "depth": 3, "payload": "float32", "source": "shape", "bytes": 1280114, "mqtt_bytes": 1280134},
        {"size": 200, "depth": None, "payload": "png", "source": "phantoms", "bytes": 23673, "mqtt_bytes": 23693},
        {
            "size": 200,
            "depth": None,
            "payload": "png",
            "source": "NIH ChestX-ray14 sample",
            "bytes": 17329,
            "mqtt_bytes": 17349,
        },
    ]
    drill = {
        "fault": "tampered packet",
        "expected": "refused",
        "broker": "embedded",
        "sent": 6,
        "acknowledged": 6,
        "written": 6,
        "rows": 6,
        "pngs": 6,
        "duplicates": 0,
        "refused": ["packet failed authentication"],
        "seconds": 0.3,
        "passed": True,
        "lost": 0,
    }
    cpu = {"model": "Test CPU", "cores": 2, "vector_extensions": ["avx2"], "isa_limit": "none"}
    return {
        "version": 2,
        "profile": "tiny",
        "run": "0" * 16,
        "run_label": "MSE+Adam+ReLU+2 · seed 0",
        "size": 32,
        "quick": False,
        "counts": {"1": 30, "10": 300, "100": 300, "None": 300},
        "when": "2026-12-01T08:00:00",
        "seconds": 480.0,
        "cpu": cpu,
        "streams": streams,
        "payloads": payloads,
        "faults": [drill],
    }


def test_the_tables_and_the_claims_row_follow_the_record(record, tiny_sweep, tmp_path):
    table = link.link_table(record)
    assert list(table["real time"]) == ["cannot tell", "yes", "no", "", "cannot tell", "yes", "yes", ""]
    summary = link.link_summary(record)
    assert summary["AES-GCM · float32 latent"].startswith("real time up to **10 images/s**; not at 100 images/s")
    assert "the queue grows" in summary["AES-GCM · float32 latent"]
    assert summary["AES-GCM · PNG image"] == "real time up to **100 images/s**"
    record["streams"][1]["latency_ms"][:4] = [150.0] * 4  # 4 of 300 late at 10/s: the data cannot decide
    undecided = link.link_summary(record)["AES-GCM · float32 latent"]
    assert undecided.startswith("no rate shown to be real time; cannot tell at 10 images/s (the p99's 95 % bounds")
    assert "not at 100 images/s" in undecided
    record["streams"][1]["latency_ms"][:4] = [15.0] * 4
    stages = link.stage_sentence(record)  # latents only: the PNG stream's 0.4 ms is no encoder
    assert "encoding and encrypting a latent takes 6.0–6.0 ms" in stages and "9.0–9.0 ms" in stages
    wire = link.wire_sentence(record)
    assert "1.28 MB" in wire and "41 s at 250 kbit/s" in wire and "NIH ChestX-ray14 sample" in wire
    assert "17 kB" in wire and "0.555 s at 250 kbit/s" in wire
    payloads = link.payload_table(record)
    assert payloads["s at 1 Mbit/s"].iloc[0] == pytest.approx(1280134 * 8 / 1e6)
    assert link.fault_table(record)["embedded"].tolist() == ["as expected: 6 / 6 written (0.3 s)"]
    verdict = link.link_verdict_table(record).set_index("stream")
    assert verdict.loc["AES-GCM · float32 latent", "at 10 images/s"].startswith("yes · p99 ≤ ")
    assert verdict.loc["AES-GCM · float32 latent", "at 100 images/s"] == "no · queue grows"
    assert verdict.loc["AES-GCM · PNG image", "at 1 image/s"] == "cannot tell · 30 images"
    import shutil

    root, _ = tiny_sweep
    copy = tmp_path / "results"
    shutil.copytree(root, copy)
    results = Results("tiny", copy)
    assert "make bench-link PROFILE=tiny" in link.link_finding(results).measured  # no record yet
    paths.link_json("tiny", copy).write_text(json.dumps(record))
    finding = link.link_finding(results)
    assert finding.verdict.startswith(findings.NOT_TESTABLE) and "the paper names no rate" in finding.verdict
    assert "AES-GCM · float32 latent: up to 10 images/s" in finding.measured
    assert "AES-GCM · PNG image: up to 100 images/s" in finding.measured and "Test CPU" in finding.measured
    assert "real time using IoT" in claims.claims(results)["claim (where the paper makes it)"].iloc[-1]
    record["profile"] = "default"  # another profile's benchmark says nothing about this build
    paths.link_json("tiny", copy).write_text(json.dumps(record))
    assert "no link benchmark" in link.link_finding(results).verdict


def test_the_link_page_code_runs_on_a_record(record, tiny_sweep, tmp_path, monkeypatch):
    """The page's cells, executed as the book would, on the tiny results with this record beside them."""
    import shutil

    import jupytext
    import matplotlib
    import matplotlib.figure

    matplotlib.use("Agg")
    root, _ = tiny_sweep
    copy = tmp_path / "results"
    shutil.copytree(root, copy)
    paths.link_json("tiny", copy).write_text(json.dumps(record))
    monkeypatch.setenv("AECRYPT_RESULTS", str(copy))
    monkeypatch.setenv("AECRYPT_PROFILE", "tiny")
    shown = []

    def display(obj):
        if obj is not None:
            shown.append(getattr(obj, "data", obj))

    monkeypatch.setattr("IPython.display.display", display)
    namespace = {"display": display}
    for cell in jupytext.read(paths.ROOT / "book" / "link.md").cells:
        if cell.cell_type == "code":  # as a kernel runs it: the statements, then the last expression shown
            tree = ast.parse(cell.source)
            last = tree.body.pop() if tree.body and isinstance(tree.body[-1], ast.Expr) else None
            exec(compile(tree, "cell", "exec"), namespace)
            if last is not None:
                display(eval(compile(ast.Expression(last.value), "cell", "eval"), namespace))
    text = "\n".join(str(s) for s in shown)
    assert "1 of 1 drills" in text and "Test CPU" in text and "at 10 images/s</th>" in text
    assert "AES-GCM · float32 latent: real time up to **10 images/s**; not at 100 images/s" in text
    assert "Verdict: not testable here (the paper names no rate, deadline or link)" in text
    assert "No link benchmark" not in text and any(isinstance(s, matplotlib.figure.Figure) for s in shown)
