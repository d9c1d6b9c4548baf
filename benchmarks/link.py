"""The MQTT link on loopback, measured: per image, the end-to-end latency (encode and encrypt at a device that
takes each image when it is due, publish, deliver, open, decode, classify) at 1, 10 and 100 images/s and as
fast as the link takes them, for each cipher, each latent quantisation and the AES-GCM PNG of the image itself;
the bytes each payload puts on the wire at the run's size and at the paper's 200²; and every fault drill
(aecrypt.link.faults) against the embedded broker and, where installed, mosquitto. Bounded in images and time
(about 8 minutes; --quick about 2; --book, the quick measurement `make book` takes, about 1), the brokers on
127.0.0.1 only. Raw latencies go to results/<profile>/link.json; the book's "The link" page computes its bounds
and verdicts from them. `--book --drills` runs the quick record's fault drills alone (make book runs them beside
the steps that time nothing), and the `--book` record that follows takes them.

    .venv/bin/python benchmarks/link.py --profile default [--results DIR] [--quick | --book [--drills]]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import stamp

from aecrypt import paths, runtime
from aecrypt.compression import wire
from aecrypt.link import addresses, brokers, crashes, endpoints, faults, keys, mqtt, packets, receiving
from aecrypt.paper import choices
from aecrypt.runs import trained
from aecrypt.runs.results import Results

#: (cipher, payload): every cipher at float32, every latent quantisation with AES-GCM, and the PNG
STREAMS = (
    ("aes-gcm", "float32"),
    ("aes-gcm", "float16"),
    ("aes-gcm", "uint8"),
    ("chacha20", "float32"),
    ("paper", "float32"),
    ("aes-gcm", "png"),
)
RATES = (1, 10, 100, None)  # images per second; None: as fast as the link takes them
#: images per stream: 299 or more give the p99 a 95 % bound; 1 image/s gets fewer, for time
COUNTS = {1: 30, 10: 300, 100: 300, None: 300}
QUICK_COUNTS = {1: 10, 10: 50, 100: 100, None: 100}
#: `make book`'s quick measurement (about 70 s): the AES-GCM latent and the AES-GCM PNG only; at 10 images/s the
#: 299 images a p99 bound needs, elsewhere fewer
BOOK_STREAMS = (("aes-gcm", "float32"), ("aes-gcm", "png"))
BOOK_COUNTS = {1: 3, 10: 299, 100: 100, None: 100}
#: the rates at which make book's two streams are sent side by side, taking turns (`interleaved`): at 10 images/s
#: the machine idles 100 ms between images, so two streams in turn take the wall time of one
BOOK_INTERLEAVED_RATES = (1, 10)
TOPIC = "aecrypt/xray"
PAPER_DEPTHS = (2, 3, 5)


def stream(
    run,
    key,
    images: np.ndarray,
    cipher: str,
    payload: str,
    rate: float | None,
    together: threading.Barrier | None = None,
    phase: float = 0.0,
) -> dict:
    """Send `images` at `rate` through a fresh embedded broker to a receiver; per image, the latency from the
    moment it is taken to its score. Streams sent side by side start at one moment (`together`), each `phase`
    of an interval behind it."""
    key_image = endpoints.paper_key_image(run, key) if cipher == "paper" else None
    receiver = endpoints.Receiver(run, key, endpoints.AEAD_CIPHERS + ("paper",), key_image)
    sender = endpoints.Sender(run, key, cipher, payload, "bench-device", key_image)
    taken_ns, sealed_ns, sent_at, sizes = [], [], [], []
    with tempfile.TemporaryDirectory() as out, brokers.EmbeddedBroker() as broker:
        rx = receiving.LinkReceiver(receiver, Path(out), broker.address(), TOPIC).start()
        if together is not None:
            together.wait()
        started = time.perf_counter() + (phase / rate if rate else 0.0)

        def device():
            """An image every 1/rate s (or at once), encoded and encrypted when it is taken."""
            for i, image in enumerate(images):
                if rate:
                    time.sleep(max(0.0, started + i / rate - time.perf_counter()))
                sent_at.append(time.perf_counter() - started)
                taken_ns.append(time.time_ns())
                [packet] = sender.seal(image[None])
                sealed_ns.append(packets.parse(packet).header.timestamp_ns)
                sizes.append(len(packet))
                yield packet

        report_ = mqtt.send(device(), broker.address(), TOPIC, key, timeout_s=120)
        rx.wait(len(images), 30)
        seconds = time.perf_counter() - started
        rx.stop()
    by_sequence = {int(r["sequence"]): r for r in rx.log.accepted}
    latency, stages = [], {"seal": [], "transit": [], "open": [], "decode": [], "classify": []}
    for i in range(len(images)):
        r = by_sequence.get(i)
        if r is None:
            latency.append(None)
            continue
        seal = (sealed_ns[i] - taken_ns[i]) / 1e6
        values = (seal, r["sealed_to_arrival_ms"], r["open_ms"], r["decode_ms"], r["classify_ms"])
        latency.append(round(sum(values), 3))
        for name, value in zip(stages, values, strict=True):
            stages[name].append(value)
    return {
        "cipher": cipher,
        "payload": payload,
        "rate": rate,
        "images": len(images),
        "received": len(by_sequence),
        "packet_bytes": int(np.median(sizes)),
        "seconds": round(seconds, 3),
        "resends": report_.resends,
        "latency_ms": latency,
        "sent_at_s": [round(t, 4) for t in sent_at],
        "first_taken_ns": taken_ns[0] if taken_ns else None,  # where streams side by side take turns: when each began
        "stage_median_ms": {k: round(float(np.median(v)), 3) if v else None for k, v in stages.items()},
    }


def _images(n: int, size: int) -> np.ndarray:
    """`n` random images: the link's timings and drills depend on their shape, not their content."""
    return np.random.default_rng(0).random((n, size, size), dtype=np.float32)


def interleaved(run, key, images: np.ndarray, kinds: list[tuple[str, str]], rate: float) -> list[dict]:
    """The streams `kinds` ((cipher, payload) each) at one `rate`, sent side by side and taking turns: the k-th
    of n sends each image k/n of an interval after the first's, so that where an image's latency is below
    1/(n·rate) (milliseconds, against 50 ms at 10 images/s for two) no two images are in flight at once, and the
    streams together take the wall time of one."""
    together = threading.Barrier(len(kinds))
    with ThreadPoolExecutor(len(kinds)) as pool:
        sent = [
            pool.submit(stream, run, key, images, cipher, payload, rate, together, k / len(kinds))
            for k, (cipher, payload) in enumerate(kinds)
        ]
        return [s.result() for s in sent]


def payloads(run, sizes: tuple[int, ...] = (200,)) -> list[dict]:
    """Bytes per image on the wire: AES-GCM packets of every latent (from its shape: depths 2, 3, 5) at the
    run's size and at `sizes`, and of the PNG of real pixels (phantoms; the shared NIH images where present)."""
    rows = []
    for size in (run.size, *sizes):
        for depth in PAPER_DEPTHS:
            if depth not in choices.valid_depths(size):
                continue
            for quantisation in packets.LATENT_QUANTISATIONS:
                n = wire.sealed_latent_bytes(choices.latent_shape(size, depth), quantisation)
                rows.append({"size": size, "depth": depth, "payload": quantisation, "source": "shape", "bytes": n})
        sources = {"phantoms": "synthetic"}
        nih = paths.SHARED_DATA / "nih-chestxray14-sample"
        if nih.is_dir() and size > 64:  # 1024² release images: a PNG of a real X-ray at this size
            sources["NIH ChestX-ray14 sample"] = f"nih:{nih}"
        from aecrypt.data.dataset import load_dataset

        for source, spec in sources.items():
            images = load_dataset(spec, size, 20 if spec == "synthetic" else None).images
            n = [wire.sealed_png_bytes(im) for im in images]
            rows.append({"size": size, "depth": None, "payload": "png", "source": source, "bytes": int(np.median(n))})
    for row in rows:
        row["mqtt_bytes"] = addresses.publish_bytes(row["bytes"], TOPIC)
    return rows


def drills_path(record: Path) -> Path:
    """Where `--drills` leaves its fault drills for the record beside them (results/<profile>/link-drills.json)."""
    return record.with_name("link-drills.json")


def drills(ends: faults.Ends, kinds: tuple[str, ...], record: Path | None = None, record_key: str = "") -> list[dict]:
    """Every fault drill's result against the brokers `kinds`: those `--drills` left for this `record` and its
    key (make book runs them beside the steps that time nothing: a drill passes or fails, its seconds are no
    measurement of the link), taken and their file removed; else run now."""
    left = drills_path(record) if record else None
    done = json.loads(left.read_text()) if left and left.is_file() else {}
    if left:
        left.unlink(missing_ok=True)
    if done.get("key") == record_key and done.get("brokers") == list(kinds):
        return done["faults"]
    return [d.as_dict() for d in crashes.run_drills(ends, kinds)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--profile", default="default")
    parser.add_argument("--results", help="results folder (default: results/)")
    parser.add_argument("--quick", action="store_true", help="fewer images per stream (no p99 bounds at 10 images/s)")
    parser.add_argument(
        "--book",
        action="store_true",
        help="make book's quick measurement (two streams, fewer images), only where no record of this machine, "
        "code and run is there",
    )
    parser.add_argument(
        "--drills",
        action="store_true",
        help="with --book: only the fault drills, for the record that follows (make book runs them beside the "
        "steps that time nothing)",
    )
    args = parser.parse_args()
    if args.drills and not args.book:
        parser.error("--drills goes with --book (the full record runs its drills itself, against both brokers)")
    root = Path(args.results) if args.results else None
    results = Results(args.profile, root or paths.results_root())
    table = trained.list_runs(args.profile, results.root)
    table = table[table["models"] & table["with_cipher"]]
    if table.empty:
        raise SystemExit(
            f"no run with saved models in profile {args.profile!r}: run `make book PROFILE={args.profile}` first"
        )
    best = results.best_autoencoder  # the run a user would deploy: the lowest-MSE combination, seed 0's run
    chosen = results.runs_of(best["label"])
    run_id = chosen.sort_values("seed")["run_id"].iloc[0] if len(chosen) else table["run_id"].iloc[0]
    # what the link's timings depend on: the machine, its libraries and the model's shape, not its weights or data
    params = json.loads((paths.runs_dir(args.profile, results.root) / run_id / paths.RUN_FILES.params).read_text())
    shape = f"{table.set_index('run_id').loc[run_id, 'size']}px depth {params['depth']}"
    record_key = stamp.key(("link.py", "stamp.py"), runtime.cpu_line(runtime.cpu_info()), stamp.environment(), shape)
    out = paths.link_json(args.profile, results.root)
    if args.book and stamp.current(out, record_key):
        print(f"link: up to date ({out})")
        return
    run = trained.TrainedRun.load(paths.runs_dir(args.profile, results.root) / run_id)
    both = brokers.mosquitto_binary() and not args.book  # make book's quick record: the embedded broker only
    broker_kinds = ("embedded", "mosquitto") if both else ("embedded",)
    if args.drills:
        with tempfile.TemporaryDirectory() as tmp:
            ends = faults.Ends(run, keys.generate(Path(tmp) / "drills.key"), _images(6, run.size))
            done = drills(ends, broker_kinds)
        drills_path(out).write_text(json.dumps({"key": record_key, "brokers": list(broker_kinds), "faults": done}))
        print(f"link: {sum(d['passed'] for d in done)} of {len(done)} fault drills passed ({drills_path(out)})")
        return
    counts = BOOK_COUNTS if args.book else QUICK_COUNTS if args.quick else COUNTS
    say = (lambda text: None) if args.book else (lambda text: print(text, flush=True))
    began = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        key = keys.generate(Path(tmp) / "bench.key")
        pool = _images(max(counts.values()), run.size)
        kinds = list(BOOK_STREAMS if args.book else STREAMS)
        side_by_side = BOOK_INTERLEAVED_RATES if args.book else ()
        sent = {}
        for rate in side_by_side:
            together = interleaved(run, key, pool[: counts[rate]], kinds, rate)
            sent |= {(*kind, rate): s for kind, s in zip(kinds, together, strict=True)}
        for cipher, payload in kinds:
            for rate in RATES:
                if rate not in side_by_side:
                    sent[cipher, payload, rate] = stream(run, key, pool[: counts[rate]], cipher, payload, rate)
                s = sent[cipher, payload, rate]
                median = np.median([v for v in s["latency_ms"] if v is not None])
                arrived = f"{s['received']}/{s['images']} in {s['seconds']:.1f} s"
                say(f"{cipher:8} {payload:7} rate {rate or 'max':>3}: {arrived}, median {median:.1f} ms")
        streams = [sent[cipher, payload, rate] for cipher, payload in kinds for rate in RATES]
        # make book's quick record takes the drills run beside the earlier steps; the full record runs its own
        drilled = drills(faults.Ends(run, key, pool[:6]), broker_kinds, out if args.book else None, record_key)
    for d in drilled:
        outcome = "passed" if d["passed"] else "FAILED"
        say(f"drill {d['fault']} ({d['broker']}): {outcome}, {d['written']}/{d['sent']} written")
    record = {
        "version": 2,
        "profile": args.profile,
        "run": run.run_id,
        "run_label": run.label,
        "size": run.size,
        "quick": "book" if args.book else args.quick,
        "key": record_key,
        "counts": {str(k): v for k, v in counts.items()},
        "interleaved_rates": list(side_by_side),
        "when": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "seconds": round(time.perf_counter() - began, 1),
        "cpu": runtime.cpu_info(),
        "streams": streams,
        "payloads": payloads(run),
        "faults": drilled,
    }
    out.write_text(json.dumps(record))
    stamp.keep(out, record_key)
    print(f"link: {out} ({'quick: ' if args.book else ''}{record['seconds']:.0f} s)")


if __name__ == "__main__":
    main()
