"""`make bench`: the project's performance record. Every comparison is measured side by side in this one
run, on this machine, each configuration in a process of its own (benchmarks/measure.py). Prints a
table and writes results/bench.json, which the book's Performance page shows.

    make bench                   # everything (about 10 minutes on 2 cores)
    make bench BENCH_ARGS=--quick    # without the make-book timings
    python benchmarks/run.py --book  # what make book takes where no record of this machine is there (~1 minute)
    make bench ISA=AVX2          # as on a CPU without AVX-512 (ONEDNN_MAX_CPU_ISA, XLA_FLAGS)
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from importlib.util import find_spec
from pathlib import Path

import numpy as np
import stamp

HERE = Path(__file__).resolve().parent
MEASURE = HERE / "measure.py"


def measure(*args: str, backend: str = "tensorflow") -> dict:
    env = dict(os.environ, KERAS_BACKEND=backend, TF_CPP_MIN_LOG_LEVEL="3")
    out = subprocess.run(
        [sys.executable, str(MEASURE), *args], capture_output=True, text=True, env=env, cwd=HERE.parent
    )
    if out.returncode:
        return {"error": (out.stderr.strip().splitlines() or ["failed"])[-1]}
    return json.loads(out.stdout.strip().splitlines()[-1])


def backends() -> list[str]:
    return [b for b, module in (("tensorflow", "tensorflow"), ("jax", "jax"), ("torch", "torch")) if find_spec(module)]


def measure_together(commands: list[list[str]], backend: str = "tensorflow") -> list[dict]:
    """Several measurements in one process, one after another (what a process fixes, its backend and threads,
    is the same for all): one start-up and one import of the backend instead of one per measurement."""
    joined = [word for command in commands for word in ("+", *command)][1:]
    env = dict(os.environ, KERAS_BACKEND=backend, TF_CPP_MIN_LOG_LEVEL="3")
    command = [sys.executable, str(MEASURE), *joined]
    out = subprocess.run(command, capture_output=True, text=True, env=env, cwd=HERE.parent)
    lines = [json.loads(line) for line in out.stdout.splitlines() if line.startswith("{")]
    failed = {"error": (out.stderr.strip().splitlines() or ["failed"])[-1]}
    return lines + [failed] * (len(commands) - len(lines))


def training_configs(machine: dict, book: bool = False) -> list[tuple[int, str, str, list[str]]]:
    """(size, backend, numerics, measure.py's arguments) of every training measurement: the paper autoencoder
    (depth 3, batch 32, Adam, MSE) at 32² (the default profile), 64² and 200², under each backend and numerics
    option (`book`: TensorFlow fp32 at 32² and 200² only)."""
    # the quick record times one steady epoch of one batch at 200² after the one that compiles (a step there is
    # seconds of arithmetic: Keras' per-epoch work is under 1 % of it); the full record, two epochs of two batches
    images = {32: 320, 200: 32} if book else {32: 320, 64: 384, 200: 64}
    epochs = {200: 2} if book else {}
    variants = [("tensorflow", "fp32", [])]
    if not book:
        variants.append(("tensorflow", "XLA (jit_compile)", ["--jit"]))
        if machine["bf16"]:
            variants.append(("tensorflow", "mixed_bfloat16", ["--policy", "mixed_bfloat16"]))
        variants += [(b, "fp32 (jit)", []) for b in backends() if b != "tensorflow"]
    return [
        (size, backend, numerics, ["train", "--size", str(size), "--images", str(n), *length, *extra])
        for size, n in images.items()
        for length in [["--epochs", str(epochs[size])] if size in epochs else []]
        for backend, numerics, extra in variants
    ]


def training_rows(configs: list, measured: list[dict], peak: float, machine: dict, book: bool = False) -> list[dict]:
    """One row per training measurement, each against TensorFlow fp32 at the same size."""
    rows, base = [], {}
    for (size, backend, numerics, _), r in zip(configs, measured, strict=True):
        row = {"size": size, "backend": backend, "numerics": numerics}
        if "error" in r:
            rows.append(row | {"error": r["error"]})
            continue
        row |= {
            "epoch_s": round(r["steady_epoch_seconds"], 3),
            "images_per_s": round(r["images_per_second"], 1),
            "gflops": round(r["gflops"], 1),
            "of_peak": round(r["gflops"] / peak, 2),
            "final_loss": r["final_loss"],
        }
        first = base.setdefault(size, row)
        row["speed_vs_fp32"] = round(first["epoch_s"] / row["epoch_s"], 2)
        row["loss_change"] = f"{(row['final_loss'] - first['final_loss']) / first['final_loss']:+.1%}"
        rows.append(row)
    if not machine["bf16"] and not book:
        rows.append({"backend": "tensorflow", "numerics": "mixed_bfloat16", "error": "no AVX512_BF16 (or limited)"})
    return rows


def bench_workers(peak: float) -> list[dict]:
    """The sweep's choice: one worker with all threads, or one single-threaded worker per core, both
    training the default profile's model (32², depth 3) at once; aggregate throughput."""
    cores = os.cpu_count() or 1
    args = ["train", "--size", "32", "--images", "320"]
    rows = []
    for workers, threads in ((1, cores), (cores, 1)):
        env = dict(os.environ, KERAS_BACKEND="tensorflow", TF_CPP_MIN_LOG_LEVEL="3")
        procs = [
            subprocess.Popen(
                [sys.executable, str(MEASURE), *args, "--threads", str(threads)],
                stdout=subprocess.PIPE,
                stderr=subprocess.DEVNULL,
                text=True,
                env=env,
            )
            for _ in range(workers)
        ]
        results = [json.loads(p.communicate()[0].strip().splitlines()[-1]) for p in procs]
        total = sum(r["images_per_second"] for r in results)
        gflops = sum(r["gflops"] for r in results)
        rows.append(
            {
                "workers": workers,
                "threads_each": threads,
                "images_per_s": round(total, 1),
                "gflops": round(gflops, 1),
                "of_peak": round(gflops / peak, 2),
            }
        )
    for row in rows:
        row["vs_one_worker"] = round(row["images_per_s"] / rows[0]["images_per_s"], 2)
    return rows


def _timed(cmd: list[str], env: dict) -> float:
    t = time.perf_counter()
    subprocess.run(cmd, check=True, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - t


def bench_book() -> tuple[dict, list[dict]]:
    """Cold and warm `make book` at default (sweep + book, in a scratch results folder), the cost of one
    more combination, and the per-run overhead read from the cold sweep's run folders."""
    from aecrypt import paths
    from aecrypt.runs.table import collect

    aecrypt = str(Path(sys.executable).with_name("aecrypt"))
    with tempfile.TemporaryDirectory(prefix="aecrypt-bench-") as scratch:
        scratch = Path(scratch)
        env = dict(os.environ, AECRYPT_RESULTS=str(scratch / "results"))
        sweep_cmd = [aecrypt, "sweep", "--profile", "default", "--quiet"]
        book_cmd = [aecrypt, "book", "--profile", "default", "--build", str(scratch / "book")]
        out = {}
        for state in ("cold", "warm"):
            out[f"{state}_sweep_s"] = round(_timed(sweep_cmd, env), 1)
            out[f"{state}_book_s"] = round(_timed(book_cmd, env), 1)
            out[f"{state}_total_s"] = round(out[f"{state}_sweep_s"] + out[f"{state}_book_s"], 1)
        grid = scratch / "plus-one.yaml"
        grid.write_text(
            (paths.GRIDS / "paper.yaml").read_text()
            + "  - {loss: mae, optimizer: adam, depth: 3, activation: relu, note: one more combination}\n"
        )
        out["add_one_combination_s"] = round(_timed([*sweep_cmd, "--grid", str(grid)], env), 1)
        table = collect("default", scratch / "results")
    ok = table[table["status"] == "ok"]
    compute = ok[["seconds_autoencoder", "seconds_retrieve", "seconds_classifier", "seconds_metrics"]].sum(axis=1)
    overhead = ok["run_seconds"] - compute
    runs = {
        "runs": len(ok),
        "median_run_s": round(float(ok["run_seconds"].median()), 1),
        "median_startup_s": round(float(ok["seconds_startup"].median()), 2),
        "median_data_s": round(float(ok["seconds_data"].median()), 3),
        "median_overhead_s": round(float(overhead.median()), 2),
        "overhead_share": round(float((overhead / ok["run_seconds"]).median()), 2),
        "median_training_s": round(float((ok["seconds_autoencoder"] + ok["seconds_classifier"]).median()), 1),
    }
    return out, [runs]


def bench_small() -> dict:
    """Phantoms, the two ciphers on one latent, and loading the shared real sample (cold vs. cached)."""
    from aecrypt import paths
    from aecrypt.data import synthetic
    from aecrypt.data.dataset import load_dataset
    from aecrypt.link.aead import AeadCipher
    from aecrypt.paper import cipher
    from aecrypt.paper.choices import latent_shape

    def best_of(fn, repeats):
        times = []
        for _ in range(repeats):
            t = time.perf_counter()
            fn()
            times.append(time.perf_counter() - t)
        return min(times)

    out = {"phantoms_1000_at_64_s": round(best_of(lambda: synthetic.generate(1000, 64, 0), 3), 3)}
    shape = latent_shape(200, 3)
    z = np.random.default_rng(0).random((1, *shape), dtype=np.float32)
    paper, aead = cipher.PaperCipher(cipher.key_from_seed(*shape[:2], 0)), AeadCipher()
    out["paper_cipher_200px_us"] = round(best_of(lambda: paper.decrypt(paper.encrypt(z)), 50) * 1e6, 1)
    out["aes_gcm_200px_us"] = round(best_of(lambda: aead.decrypt(aead.encrypt(z)), 50) * 1e6, 1)
    sample = paths.SHARED_DATA / "cxr-real-128"
    if sample.is_dir():
        with tempfile.TemporaryDirectory() as cache:
            os.environ["AECRYPT_CACHE"] = cache
            out["cxr_real_128_cold_s"] = round(best_of(lambda: load_dataset(f"folder:{sample}", 64), 1), 3)
            out["cxr_real_128_cached_s"] = round(best_of(lambda: load_dataset(f"folder:{sample}", 64), 3), 4)
    return out


def table(rows: list[dict]) -> str:
    from aecrypt.book.pages.performance import record_table

    return record_table(rows).to_string(index=False)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="skip the make-book timings (several minutes)")
    parser.add_argument(
        "--book", action="store_true", help="the quick record make book takes, only where none is current"
    )
    parser.add_argument("--out", help="JSON file (default: results/bench.json)")
    args = parser.parse_args()
    from aecrypt import paths
    from aecrypt.paper import cost
    from aecrypt.runtime import cpu_info, cpu_line

    machine = cpu_info()
    out = Path(args.out) if args.out else paths.bench_json()
    record_key = stamp.key(("run.py", "measure.py", "stamp.py"), cpu_line(machine), stamp.environment())
    if args.book and stamp.current(out, record_key):
        print(f"bench: up to date ({out})")
        return
    began = time.perf_counter()
    say = (lambda text: None) if args.book else print  # the quick record says only where it went
    say(f"CPU: {cpu_line(machine)} · FLOP convention: {cost.FLOP_CONVENTION}\n")
    record = {"date": time.strftime("%Y-%m-%d %H:%M"), "machine": machine, "flop_convention": cost.FLOP_CONVENTION}
    record |= {"key": record_key, "quick": "book" if args.book else args.quick}
    configs = training_configs(machine, args.book)
    if args.book:  # the quick record's measurements are all TensorFlow's on every core: one process for them all
        peak, *trained = measure_together([["peak"], *(command for *_, command in configs)])
    else:
        peak = measure("peak")
        trained = [measure(*command, backend=backend) for _, backend, _, command in configs]
    if "error" in peak:
        raise SystemExit(f"bench: the peak measurement failed: {peak['error']}")
    record["peak"] = peak
    say(f"peak: fp32 GEMM {peak['n']}² on {peak['threads']} threads: {peak['gflops']:.0f} GFLOP/s\n")
    record["training"] = training_rows(configs, trained, peak["gflops"], machine, args.book)
    say("autoencoder training (depth 3, batch 32, Adam), steady epochs:\n" + table(record["training"]) + "\n")
    if not args.book:
        record["workers"] = bench_workers(peak["gflops"])
        say("one worker with all threads vs one worker per core (32², depth 3):\n" + table(record["workers"]) + "\n")
    if not (args.quick or args.book):
        record["book"], record["runs"] = bench_book()
        say("make book at default (seconds):\n" + table([record["book"]]) + "\n")
        say("per-run overhead in the cold sweep:\n" + table(record["runs"]) + "\n")
    record["small"] = bench_small()
    say("small things:\n" + table([record["small"]]))
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(record, indent=2, default=str))
    stamp.keep(out, record_key)
    print(f"bench: {out} ({'quick: ' if args.book else ''}{time.perf_counter() - began:.0f} s)")


if __name__ == "__main__":
    main()
