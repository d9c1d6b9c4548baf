"""The compression step of a build, cached like the audit: results/<profile>/compression/. It never trains
unless asked: the bytes table, the codecs' rate–distortion curves (at the build's size and at the data's
native 64² where that differs), the autoencoders' points from the build's saved models (the best combination
at each depth, every seed; the bottleneck runs where they exist), latency per method, and the classifier at
equal rate from whatever equal-rate runs have finished. With `runs=True` it first runs the bottleneck grid and
the matched codec runs (`equal_rate`) through the sweep's executor and cache."""

from __future__ import annotations

import logging
import os
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pandas as pd

from aecrypt import UsageError, cachekeys, paths, runtime
from aecrypt.compression import curves, equal_rate, latency, wire
from aecrypt.data import codecs
from aecrypt.data.dataset import fit_size
from aecrypt.files import read_json, write_atomic, write_json
from aecrypt.link import packets
from aecrypt.paper import choices
from aecrypt.runs import closure
from aecrypt.runs.results import Results
from aecrypt.stats.components import Run

log = logging.getLogger(__name__)
FILES = paths.COMPRESSION_FILES

#: Rate–distortion points are means over this many test images (a seeded choice, the same for every method);
#: their standard errors say how precise that is. `all_images` uses the whole test split.
RD_IMAGES = 400
NATIVE_SIZE = 64  # the embedded set's own size: codec curves there too, where the data allows it,
NATIVE_IMAGES = 200  # over fewer images (each costs four times the encoding and SSIM of one at 32²)
PAPER_SIZE = 200
LATENCY_CODEC_SETTINGS = {"png": None, "jpeg": 50, "webp": 50, "jpeg2000": 36, "jpegxl": 2.0, "jpegls": 2}


def _test_images(results: Results, size: int, limit: int | None) -> tuple[np.ndarray, np.ndarray]:
    """(images N × size × size in [0, 1], labels) of the build's test split at `size`, a seeded subset of `limit`."""
    runtime.configure()
    with runtime.stderr_to(os.devnull):  # TensorFlow's start-up lines
        from aecrypt.paper import experiment

    overrides = {} if size == experiment.get_profile(results.profile).size else {"size": size}
    cfg = experiment.RunConfig(
        profile=results.profile, data=results.data_spec, data_seed=results.data_seed, overrides=overrides
    )
    split = experiment.load_data(cfg)
    x, y = split.x("test")[..., 0], split.y("test")
    if limit and len(x) > limit:
        keep = np.sort(np.random.default_rng(results.data_seed).choice(len(x), limit, replace=False))
        x, y = x[keep], y[keep]
    return x, y


def _autoencoder_runs(results: Results) -> pd.DataFrame:
    """The best combination (lowest mean MSE) at each depth, every seed, with the cipher (not a reference run):
    the paper's autoencoders only (no bottleneck variant, the optimizer at its default learning rate)."""
    ok = results.ok
    for variant in ("bottleneck", "learning_rate"):
        if variant in ok:
            ok = ok[ok[variant].isna() | (ok[variant] == 0)]
    rows = []
    for _, group in ok.groupby("depth"):
        best = group.groupby("label", sort=False)["mse"].mean().idxmin()
        rows.append(group[group["label"] == best])
    return pd.concat(rows).sort_values(["depth", "seed"]) if rows else ok.iloc[:0]


def _bottleneck_runs(results: Results, plan: equal_rate.EqualRatePlan | None) -> list[tuple[str, int, str]]:
    if plan is None:
        return []
    from aecrypt.runs import folder

    pdir = paths.profile_dir(results.profile, results.root)
    return [(s.label, s.seed, rid) for s, rid in plan.bottleneck.runs if folder.is_complete(pdir / "runs" / rid)]


def inputs_hash(payload: dict) -> str:
    return cachekeys.key(payload | closure.code_parts([__name__]))


def run_compression(
    profile: str,
    results_root: Path | None = None,
    runs: bool = False,
    force: bool = False,
    all_images: bool = False,
    native: bool = True,
    workers: int | None = None,
) -> Path:
    """Write results/<profile>/compression/ (see `paths.CompressionFiles`); cached until the runs it reads, its
    code or its settings change."""
    started = time.perf_counter()
    results = Results(profile, results_root or paths.results_root())
    if results.ok.empty:
        raise UsageError(f"no finished run in profile {profile!r}; run `aecrypt sweep --profile {profile}` first")
    size = results.settings.size
    limit = None if all_images else RD_IMAGES
    test_x, test_y = _test_images(results, size, limit)
    plan = equal_rate.plan_equal_rate(profile, results.data_spec, results.seeds, results.data_seed, test_x)
    pdir = paths.profile_dir(profile, results.root)
    if runs:
        _execute(plan, pdir, workers)
    out = paths.compression_dir(profile, results.root)
    sizes = [size] + ([NATIVE_SIZE] if native and NATIVE_SIZE != size and _fits(results, NATIVE_SIZE) else [])
    ae_runs = _autoencoder_runs(results)
    bottlenecks = _bottleneck_runs(results, plan)
    inputs = inputs_hash(
        {
            "runs": sorted(ae_runs["run_id"]) + sorted(rid for *_, rid in bottlenecks),
            "equal_rate": sorted(rid for _, rid in plan.all_runs if (pdir / "runs" / rid).is_dir()),
            "sizes": sizes,
            "limit": limit,
        }
    )
    if not force and read_json(out / FILES.record).get("inputs") == inputs:
        log.info(f"compression: up to date: {out}")
        return out
    out.mkdir(parents=True, exist_ok=True)

    # the codec curves (their encoders and SSIM: mostly one core) are drawn in a thread while this one encodes and
    # codes every run's latents (TensorFlow and the lossless coders: the other cores); latencies are timed after
    # both, with nothing beside them: neither those nor the steps make book runs beside this one
    with ThreadPoolExecutor(1) as beside:
        sides = [beside.submit(_codec_side, test_x, size)]
        for s in sizes[1:]:  # loaded here: only this thread may redirect the process's stderr (runtime.stderr_to)
            native = _test_images(results, s, limit and min(limit, NATIVE_IMAGES))[0]
            sides.append(beside.submit(_codec_side, native, s))
        autoencoders, timed = _autoencoder_side(results, _loaded_runs(ae_runs, bottlenecks), size, test_x)
        codec_parts = [side.result() for side in sides]
    rd_parts = [rd for rd, _, _ in codec_parts] + autoencoders[0]
    paired = [codec_parts[0][1]] + autoencoders[1]  # the verdict pairs images at the build's size
    byte_rows = [row for _, _, rows in codec_parts for row in rows] + _paper_byte_rows() + autoencoders[2]
    with latency.alone() as waited:  # make book runs the steps that time nothing beside this one
        if waited >= 1:  # where the steps beside it finished first, there is nothing to say
            log.info(f"compression: timing latencies, alone after {waited:.0f} s for the steps beside this one")
        latency_rows = [row for label, run in timed.items() for row in _model_latency(label, run, test_x)]
        latency_rows += [_codec_latency(name, test_x) for name, ok in codecs.offered().items() if ok]

    paper_runs = [Run(r["label"], int(r["seed"]), r, results.scores(r["run_id"])) for r in ae_runs.to_dict("records")]
    eq_runs, eq_table = equal_rate.collect_runs(plan, pdir, paper_runs)
    comparisons = equal_rate.comparisons(eq_runs, plan.matches) if len(eq_table) else pd.DataFrame()

    rd = pd.concat(rd_parts, ignore_index=True)
    lat = pd.DataFrame(latency_rows)
    matches = pd.DataFrame(
        [
            {
                "bottleneck": label,
                "codec": m.codec,
                "target_bpp": m.target,
                "setting": m.setting,
                "bpp": m.bpp,
                "bpp_above": m.bpp_above,
                "reached": m.reached,
            }
            for label, m in plan.matches
        ]
    )
    for name, frame in (
        (FILES.rd, rd),
        (FILES.per_image, pd.concat(paired, ignore_index=True)),
        (FILES.bytes, wire.bytes_table(byte_rows)),
        (FILES.latency, lat),
        (FILES.keeps_up, latency.keeps_up(lat)),
        (FILES.matches, matches),
        (FILES.equal_rate, eq_table),
        (FILES.comparisons, comparisons),
    ):
        write_atomic(out / name, frame.to_csv(index=False))
    seconds = time.perf_counter() - started
    write_json(
        out / FILES.record,
        {
            "inputs": inputs,
            "seconds": seconds,
            "beside": bool(os.environ.get(latency.QUIET_LOCK)),  # make book's steps that time nothing ran with it
            "sizes": sizes,
            "rd_images": int(len(test_x)),
            "test_images": int(len(_test_images(results, size, None)[1])) if limit else int(len(test_x)),
            "codecs": {
                c.name: {"title": c.title, "library": c.library, "knob": c.knob} for c in codecs.available_codecs()
            },
            "offered": codecs.offered(),
            "imagecodecs": closure.version("imagecodecs"),
            "cpu": runtime.cpu_line(runtime.cpu_info()),
            "equal_rate_runs": {
                "planned": len(plan.bottleneck.runs) + len(plan.codec_runs),
                "finished": int(eq_table["kind"].isin(["bottleneck", "codec"]).sum()) if len(eq_table) else 0,
            },
        },
    )
    log.info(
        f"compression: {len(rd)} rate–distortion points, {len(eq_table)} equal-rate runs in {seconds:.0f} s: {out}"
    )
    return out


def _codec_side(images: np.ndarray, size: int) -> tuple[pd.DataFrame, pd.DataFrame, list[dict]]:
    """(rate–distortion points, per-image rows, byte rows) of every codec on `images` at `size`, and the images'
    own bytes."""
    log.info(f"compression: codec curves at {size}² over {len(images)} test images")
    codec_curves = curves.codec_points(images)
    return codec_curves.points, codec_curves.per_image, wire.image_rows(images, size)


def _paper_byte_rows() -> list[dict]:
    """The raw image and the latents of depths 2, 3 and 5 at the paper's 200², from their shapes."""
    rows = wire.image_rows(None, PAPER_SIZE)
    for depth in choices.valid_depths(PAPER_SIZE):
        if depth in (2, 3, 5):
            rows += wire.latent_rows(PAPER_SIZE, depth)
    return rows


def _loaded_runs(ae_runs: pd.DataFrame, bottlenecks: list) -> list[tuple[str, int, str, str]]:
    """(label, seed, run id, kind) of every run whose latents the record measures."""
    loaded = [(row["label"], int(row["seed"]), row["run_id"], "autoencoder") for row in ae_runs.to_dict("records")]
    return loaded + [(label, seed, rid, "bottleneck") for label, seed, rid in bottlenecks]


def _autoencoder_side(
    results: Results, loaded: list, size: int, test_x: np.ndarray
) -> tuple[tuple[list, list, list], dict]:
    """((rate–distortion parts, per-image parts, byte rows) of every run's latents, {label: its first run}): the
    runs whose latency is timed, one per combination, kept loaded for it."""
    from aecrypt.runs.trained import TrainedRun

    rd_parts, paired, byte_rows, timed = [], [], [], {}
    measured_depths: set[tuple[int, int]] = set()
    for label, seed, rid, kind in loaded:
        run = TrainedRun.load(results.run_dir(rid), classifier=False)
        points = curves.autoencoder_points(label, run.encode, run.decode, test_x, kind)
        depth, k = _depth_and_bottleneck(run, size)
        rd_parts.append(points.points.assign(seed=seed, run_id=rid))
        paired.append(points.per_image.assign(seed=seed, run_id=rid, depth=depth, bottleneck=k))
        if (depth, k) not in measured_depths:
            measured_depths.add((depth, k))
            byte_rows += wire.latent_rows(size, depth, k, run.encode(test_x))
        timed.setdefault(label, run)
    return (rd_parts, paired, byte_rows), timed


def _fits(results: Results, size: int) -> bool:
    try:
        return fit_size(size, results.data_spec)[0] == size
    except UsageError:
        return False


def _depth_and_bottleneck(run, size: int) -> tuple[int, int]:
    h, _, channels = (int(s) for s in run.encoder.output_shape[1:])
    depth = int(round(np.log2(size / h))) + 1
    return depth, (0 if channels == choices.latent_shape(size, depth)[2] else channels)


def _model_latency(label: str, run, images: np.ndarray) -> list[dict]:
    batch = images[: latency.BATCH]
    z = run.encode(batch)
    decoding = latency.per_image(run.decode, z)  # the receiver decodes float32 latents whatever crossed the wire
    rows = []
    for q in ("float32", "uint8"):

        def encode(x, q=q):
            return [packets.quantise(latent, q)[0] for latent in run.encode(x)]

        nbytes = wire.latent_payload_bytes(z.shape[1:], q)
        rows.append(latency.latency_row(label, q, nbytes, latency.per_image(encode, batch), decoding))
    return rows


def _codec_latency(name: str, images: np.ndarray) -> dict:
    codec = codecs.get_codec(name)
    knob = LATENCY_CODEC_SETTINGS.get(name, codec.sweep[len(codec.sweep) // 2])
    images8 = codecs.to_uint8(images[: latency.BATCH])
    files = [codec.encode(np.ascontiguousarray(im), knob) for im in images8]

    def encode(x):
        return [codec.encode(np.ascontiguousarray(im), knob) for im in x]

    def decode(data):
        return [codec.decode(d) for d in data]

    nbytes = float(np.mean([len(f) for f in files]))
    setting = "" if knob is None else str(knob)
    return latency.latency_row(
        codec.title,
        setting,
        nbytes,
        latency.per_image(encode, images8),
        latency.per_image(decode, np.array(files, dtype=object)),
    )


def _execute(plan: equal_rate.EqualRatePlan, pdir: Path, workers: int | None) -> None:
    from aecrypt import AecryptError
    from aecrypt.runs.sweep import Progress, default_workers, execute_runs

    todo = plan.pending(pdir)
    if not todo:
        log.info("compression: every equal-rate run is cached")
        return
    workers = workers or min(default_workers(), len(todo))
    threads = max(1, (os.cpu_count() or 1) // workers)
    log.info(f"compression: {len(todo)} equal-rate run(s) (bottleneck grid and matched codecs) on {workers} worker(s)")
    failures = execute_runs(todo, pdir, Progress(len(todo)), workers, threads)
    if failures:
        raise AecryptError(f"{len(failures)} equal-rate run(s) failed, e.g. {failures[0][0]}: {failures[0][1][:200]}")


def load(profile: str, results_root: Path | None = None) -> dict[str, pd.DataFrame] | None:
    """The compression files of a build as tables (and the record under "record"), or None where none ran."""
    out = paths.compression_dir(profile, results_root)
    record = read_json(out / FILES.record)
    if not record:
        return None
    tables = {}
    for name in ("bytes", "rd", "per_image", "latency", "keeps_up", "matches", "equal_rate", "comparisons"):
        path = out / getattr(FILES, name)
        try:
            tables[name] = pd.read_csv(path, dtype={"setting": str})
            if "setting" in tables[name]:  # a name ("80", "uint8 + zstd"; "" for PNG's none), never a number
                tables[name]["setting"] = tables[name]["setting"].fillna("")
        except (pd.errors.EmptyDataError, FileNotFoundError):
            tables[name] = pd.DataFrame()
    return tables | {"record": record}
