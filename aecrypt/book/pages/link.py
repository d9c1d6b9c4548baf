"""The *The link* page: the `make bench-link` record as verdicts per stream and rate, the fault table,
where the time goes, and what each image costs on the wire; and the claims table's real-time row."""

from __future__ import annotations

import math

import pandas as pd

from aecrypt import paths
from aecrypt.book import page
from aecrypt.compression.latency import LINK_BITS_PER_S
from aecrypt.files import read_json
from aecrypt.runs.results import Results
from aecrypt.runtime import cpu_line
from aecrypt.stats import findings, realtime

LINK_RECORD_VERSION = 2
_PAYLOAD_NAMES = {"float32": "float32 latent", "float16": "float16 latent", "uint8": "uint8 latent", "png": "PNG image"}


def link_record(results: Results) -> dict | None:
    """The last link benchmark of this build's profile (results/<profile>/link.json: `make bench-link`, or the
    quick one `make book` runs), or None where none of this format was run."""
    record = read_json(paths.link_json(results.profile, results.root))
    return record if record.get("version") == LINK_RECORD_VERSION and record.get("profile") == results.profile else None


def stream_name(cipher: str, payload: str) -> str:
    cipher_name = {"aes-gcm": "AES-GCM", "chacha20": "ChaCha20", "paper": "paper's cipher"}[cipher]
    return f"{cipher_name} · {_PAYLOAD_NAMES[payload]}"


def _per_s(rate: float) -> str:
    return f"{rate:g} image{'' if rate == 1 else 's'}/s"


def _minutes(seconds: float) -> str:
    minutes = max(1, round(seconds / 60))
    return f"{minutes} minute{'' if minutes == 1 else 's'}"


def _rate_name(rate) -> str:
    return f"{rate:g}/s" if rate else "max"


def link_checks(record: dict) -> list[tuple[dict, realtime.RateCheck]]:
    """Every stream of the record with its real-time check (`stats.realtime.rate_check`)."""
    return [
        (s, realtime.rate_check(s["latency_ms"], s["sent_at_s"], s["rate"], s["images"])) for s in record["streams"]
    ]


def link_table(record: dict) -> pd.DataFrame:
    """One row per stream and rate: what arrived, the packet's size, the median latency with its 95 % interval,
    the p99 with its one-sided 95 % bounds, the trend over the stream, and whether it kept up (and why)."""

    def ms(value: float) -> str:
        return "–" if math.isnan(value) else f"{value:.1f}"

    rows = []
    for s, c in link_checks(record):
        rows.append(
            {
                "stream": stream_name(s["cipher"], s["payload"]),
                "rate": _rate_name(s["rate"]),
                "arrived": f"{c.received} / {c.sent}",
                "bytes": s["packet_bytes"],
                "median ms [95 %]": f"{c.median.estimate:.1f} [{ms(c.median.low)}, {ms(c.median.high)}]",
                "p99 ms [bounds]": f"{c.p99:.1f} [{ms(c.p99_low)}, {ms(c.p99_high)}]",
                "trend ms/s": f"{c.slope.estimate:+.2f}",
                "images/s": f"{c.received / s['seconds']:.0f}" if s["rate"] is None else "",
                "real time": c.real_time,
                "why": c.why,
            }
        )
    return pd.DataFrame(rows)


def _verdict_cell(check: realtime.RateCheck) -> str:
    """One stream at one rate, in a few words: the verdict and the number it rests on."""
    if check.rate is None:
        return ""
    if check.received < check.sent:
        return f"no · {check.sent - check.received} lost"
    if check.real_time == realtime.NO and "queue grows" in check.why:
        return "no · queue grows"
    if check.real_time == realtime.NO:
        return f"no · p99 ≥ {check.p99_low:.1f} ms"
    if check.real_time == realtime.YES:
        return f"yes · p99 ≤ {check.p99_high:.1f} ms"
    if math.isnan(check.p99_high):
        return f"cannot tell · {check.received} images"
    return f"cannot tell · p99 ≤ {check.p99_high:.1f} ms"


def link_verdict_table(record: dict) -> pd.DataFrame:
    """One row per stream: its packet size, the verdict at each rate (with the p99 bound it rests on) and the
    images per second as fast as the link takes them."""
    rows: dict[str, dict] = {}
    for s, c in link_checks(record):
        row = rows.setdefault(stream_name(s["cipher"], s["payload"]), {"bytes": s["packet_bytes"]})
        if s["rate"] is None:
            row["max images/s"] = round(c.received / s["seconds"])
        else:
            row[f"at {_per_s(s['rate'])}"] = _verdict_cell(c)
    frame = pd.DataFrame.from_dict(rows, orient="index").rename_axis("stream").reset_index()
    return frame[[c for c in frame.columns if c != "max images/s"] + ["max images/s"]]


def link_latencies(record: dict) -> pd.DataFrame:
    """Long table for the latency figure: stream, rate, latency (ms) of every image that arrived."""
    rows = [
        {"stream": stream_name(s["cipher"], s["payload"]), "rate": _rate_name(s["rate"]), "latency_ms": v}
        for s in record["streams"]
        for v in s["latency_ms"]
        if v is not None
    ]
    return pd.DataFrame(rows)


def _checks_by_stream(record: dict) -> dict[str, list[realtime.RateCheck]]:
    by_stream: dict[str, list] = {}
    for s, c in link_checks(record):
        if c.rate:
            by_stream.setdefault(stream_name(s["cipher"], s["payload"]), []).append(c)
    return {name: sorted(checks, key=lambda c: c.rate) for name, checks in by_stream.items()}


def link_summary(record: dict) -> dict[str, str]:
    """Per stream, in words: the fastest rate judged real time, the faster rates the data cannot decide (and
    why), and the first rate judged not real time (and why)."""
    out = {}
    for name, checks in _checks_by_stream(record).items():
        fastest = realtime.fastest_real_time(checks)
        words = [f"real time up to **{_per_s(fastest)}**" if fastest else "no rate shown to be real time"]
        failed = next((c for c in checks if c.real_time == realtime.NO), None)
        undecided = [
            c
            for c in checks
            if c.real_time == realtime.CANNOT_TELL
            and (fastest is None or c.rate > fastest)
            and (failed is None or c.rate < failed.rate)
        ]
        if undecided:  # the fastest one the data cannot decide says the most
            words.append(f"cannot tell at {_per_s(undecided[-1].rate)} ({undecided[-1].why})")
        if failed:
            words.append(f"not at {_per_s(failed.rate)} ({failed.why})")
        out[name] = "; ".join(words)
    return out


def stage_table(record: dict) -> pd.DataFrame:
    """Median milliseconds per stage, per stream, as fast as the link takes them: where the time goes."""
    rows = []
    for s in record["streams"]:
        if s["rate"] is None:
            rows.append({"stream": stream_name(s["cipher"], s["payload"])} | s["stage_median_ms"])
    frame = pd.DataFrame(rows).rename(columns={"seal": "encode + encrypt", "transit": "publish + deliver"})
    return frame


def stage_sentence(record: dict) -> str:
    """Which steps set the pace as fast as the link takes them: the encoder and decoder, not the cipher."""
    saturated = [s for s in record["streams"] if s["rate"] is None]
    latent = [s["stage_median_ms"] for s in saturated if s["payload"] != "png"]
    if not latent:
        return ""

    def span(values) -> str:
        return f"{min(values):.1f}–{max(values):.1f} ms"

    opened = max(s["stage_median_ms"]["open"] for s in saturated)
    return (
        f"As fast as the link takes them, encoding and encrypting a latent takes {span([m['seal'] for m in latent])} "
        f"per image (median) and decoding and classifying it {span([m['decode'] + m['classify'] for m in latent])}, "
        f"while opening a packet takes at most {opened:.2f} ms whatever the cipher."
    )


def payload_table(record: dict) -> pd.DataFrame:
    """Bytes per image on the wire (one QoS 1 MQTT message: the AES-GCM packet and MQTT's header) and the
    seconds each takes on LINK_BITS_PER_S, at the run's size and the paper's 200²: latents from their shapes,
    PNGs measured on real pixels."""
    rows = []
    for p in record["payloads"]:
        what = f"depth {p['depth']}: {_PAYLOAD_NAMES[p['payload']]}" if p["depth"] else f"PNG image ({p['source']})"
        row = {"size": f"{p['size']}²", "what is sent": what, "bytes on the wire": p["mqtt_bytes"]}
        for name, bps in LINK_BITS_PER_S.items():
            row[f"s at {name}"] = p["mqtt_bytes"] * 8 / bps
        rows.append(row)
    return pd.DataFrame(rows)


def wire_sentence(record: dict) -> str:
    """What the paper's scale costs on the wire: the depth-3 float32 latent at 200² against the PNG of a real
    X-ray (or of a phantom, where no real one was measured)."""
    table = pd.DataFrame(record["payloads"])
    at200 = table[table["size"] == 200]
    latent = at200[(at200["depth"] == 3) & (at200["payload"] == "float32")]
    pngs = at200[at200["payload"] == "png"]
    if latent.empty or pngs.empty:
        return ""
    png = pngs[pngs["source"] != "phantoms"].iloc[0] if (pngs["source"] != "phantoms").any() else pngs.iloc[0]
    latent = latent.iloc[0]

    def seconds(nbytes: int) -> str:
        return ", ".join(f"{nbytes * 8 / bps:.3g} s at {name}" for name, bps in LINK_BITS_PER_S.items())

    return (
        f"At the paper's 200², one depth-3 float32 latent is {latent['mqtt_bytes'] / 1e6:.2f} MB on the wire "
        f"({seconds(latent['mqtt_bytes'])}); the PNG of the X-ray itself ({png['source']}, in AES-GCM) is "
        f"{png['mqtt_bytes'] / 1e3:.0f} kB ({seconds(png['mqtt_bytes'])})."
    )


def fault_table(record: dict) -> pd.DataFrame:
    """The fault drills of the record, one row per fault: what was expected, what the receiver refused it
    with, and per broker what was written (distinct images of those sent, rows beyond them, duplicates
    dropped) and whether it went as expected."""
    rows: dict[str, dict] = {}
    for d in record["faults"]:
        row = rows.setdefault(d["fault"], {"fault": d["fault"], "expected": d["expected"], "refused with": ""})
        if d["refused"] and not row["refused with"]:
            reason = d["refused"][0]
            row["refused with"] = reason if len(reason) < 70 else reason[:67] + "…"
        twice = d["rows"] - d["written"]
        row[d["broker"]] = (
            f"{'as expected' if d['passed'] else 'NOT as expected'}: {d['written']} / {d['sent']} written"
            + (f", {twice} twice" if twice else "")
            + (f", {d['duplicates']} duplicate(s) dropped" if d["duplicates"] else "")
            + f" ({d['seconds']:.1f} s)"
        )
    return pd.DataFrame(list(rows.values())).fillna("")


def link_finding(results: Results) -> findings.Finding:
    """The title's "real time" claim from the link benchmark of this build's profile, or, where none has run,
    a row that says how to measure it."""
    record = link_record(results)
    if record is None:
        return findings.Finding(
            "real time using IoT",
            "title",
            "p99 end-to-end latency below the interval between images (`make bench-link`)",
            f"No link benchmark for this build: run `make bench-link PROFILE={results.profile}`.",
            f"{findings.NOT_TESTABLE} (no link benchmark)",
            decide=f"`make bench-link PROFILE={results.profile}` measures it",
        )
    by_stream: dict[str, list] = {}
    for s, c in link_checks(record):
        if s["cipher"] == "aes-gcm" and s["payload"] in ("float32", "png"):
            by_stream.setdefault(stream_name(s["cipher"], s["payload"]), []).append(c)
    machine = cpu_line(record["cpu"])
    return realtime.real_time(by_stream, record["size"], wire_sentence(record), machine)


# --- the page's sections ------------------------------------------------------------------------------------


def _missing(results: Results, what: str, first: bool = False) -> list:
    if not first:
        return [
            page.md(f"*No link benchmark in this build: the {what} appear here after `make bench-link` (see above).*")
        ]
    return [
        page.admonition(
            "No link benchmark in this build",
            f"The {what} come from `make bench-link PROFILE={results.profile}` (or `.venv/bin/python "
            f"benchmarks/link.py --profile {results.profile}`), run after a build: it streams images through an "
            "embedded broker on 127.0.0.1 at 1, 10 and 100 images/s and as fast as the link takes them, runs every "
            "fault drill, and writes results/link.json for this page (about 8 minutes; `--quick` about 2).",
        )
    ]


def faults_section(results: Results) -> list:
    record = link_record(results)
    if record is None:
        return _missing(results, "fault results", first=True)
    drills = record["faults"]
    brokers = ", ".join(dict.fromkeys(d["broker"] for d in drills))
    return [
        page.md(
            f"From the link benchmark of {record['when'][:10]}: **{sum(d['passed'] for d in drills)} of {len(drills)} "
            f"drills** went as expected (brokers: {brokers}). *Written* counts the distinct images in received.csv; "
            "a duplicate that got through would show as written *twice*."
        ),
        page.html(fault_table(record)),
    ]


def latency_section(results: Results) -> list:
    record = link_record(results)
    if record is None:
        return _missing(results, "latencies")
    counts = record["counts"]
    turns = record.get("interleaved_rates") or []
    side_by_side = (
        f" At {' and '.join(_per_s(r) for r in turns)} the two streams were sent side by side, taking turns: each "
        "image of the second half an interval after the first's, so that no two images were in flight at once "
        "where a latency stays below half the interval (the table's p99 says whether it did)."
        if turns
        else ""
    )
    quick = (
        "*A quick measurement, taken by `make book` on this machine: the AES-GCM latent and the AES-GCM PNG only, "
        f"with {counts['10']} images at 10 images/s (the fewest a p99 bound allows) and fewer at the other rates (so "
        f"their p99 bounds cannot be drawn).{side_by_side} `make bench-link` (about eight minutes) replaces it with "
        "the full record: every cipher and quantisation, one stream at a time, 300 images per stream.*\n\n"
        if record.get("quick") == "book"
        else ""
    )
    return [
        page.md(
            f"{quick}Measured on {cpu_line(record['cpu'])}, {record['size']}² images, run `{record['run']}` "
            f"({record['run_label']}), in {_minutes(record['seconds'])}. Per image, the latency runs from the "
            "moment the device takes it (encode, encrypt, publish, deliver, wait for the receiver, open, decode, "
            "classify) to its score. Device and receiver share one process and these cores; on two machines each "
            f"would have its own. Images per stream: {counts['1']} at 1/s, {counts['10']} at 10/s, {counts['100']} at "
            f"100/s, {counts['None']} as fast as the link takes them.\n\n"
            "A rate is *real time* when every image arrives, the latency does not rise over the stream by more than "
            "one interval (a growing queue), and the 99th percentile stays below the interval between images, judged "
            "by its one-sided 95 % bound from the order statistics (no distribution assumed). Such a bound exists "
            "only from 299 images on: with fewer, a stream that never came near its deadline still reads *cannot "
            "tell*."
        ),
        page.html(link_verdict_table(record)),
        page.html(
            "<details><summary>Every stream in full: medians with their 95 % intervals, p99 bounds, trends</summary>"
            + link_table(record).to_html(index=False)
            + "</details>"
        ),
    ]


def latency_figure(results: Results):
    """The latency of every image per stream and rate, each rate's interval drawn across; None without a record."""
    from aecrypt.figures.panels import link_latency

    record = link_record(results)
    if record is None:
        return None
    return link_latency(link_latencies(record), {f"{r:g}/s": 1e3 / r for r in (1, 10, 100)})


def stages_section(results: Results) -> list:
    record = link_record(results)
    if record is None:
        return []
    return [
        page.md(
            "Where the time goes, as fast as the link takes them (median ms per image). *Publish + deliver* runs "
            "from the packet's timestamp to the receiver's handling of it, so it holds the time a packet waits while "
            "the receiver decodes the ones before it: under load it is the queue, not the network."
        ),
        page.html(stage_table(record).to_html(index=False, float_format=lambda v: f"{v:.2f}")),
    ]


def payload_section(results: Results) -> list:
    from aecrypt.data.attribution import NIH_ATTRIBUTION

    record = link_record(results)
    if record is None:
        return _missing(results, "payload sizes")
    payloads = payload_table(record)
    out = [page.html(payloads.to_html(index=False, float_format=lambda v: f"{v:.3g}"))]
    if payloads["what is sent"].str.contains("NIH").any():
        out.append(page.md(f"The NIH row: the 50 release images of the shared sample, resized. {NIH_ATTRIBUTION}"))
    return out


def verdict_section(results: Results):
    finding = link_finding(results)
    record = link_record(results)
    if record is None:
        return page.md(f"**{finding.verdict}.** {finding.measured}")
    lines = "\n".join(f"- {name}: {words}" for name, words in link_summary(record).items())
    return page.md(
        f"On this machine, over loopback, at {record['size']}²:\n\n{lines}\n\n"
        "Rates without a verdict of their own (*cannot tell*: too few images for a bound) count as kept up "
        "when a faster rate is real time. A stream can fail in two ways: its queue grows (it cannot keep pace), "
        "or it keeps pace but each image takes longer than the interval between images; the stage table says "
        "which step sets the limit.\n\n"
        f"On loopback the processors set the limit. {stage_sentence(record)} On an IoT radio link the "
        f"bytes set it. {wire_sentence(record)} A link carries at most its rate divided by the bits per image, "
        "whatever the processors do.\n\n"
        f"**Verdict: {finding.verdict}.** The paper names no image rate, no deadline and no link, so its claim "
        "cannot be held to a number. What the numbers say: the latent the paper calls compressed is what makes "
        "an IoT link fall behind, and the X-ray itself, sent as a PNG in AES-GCM, is both the smaller payload "
        "and the faster stream (table above)."
    )
