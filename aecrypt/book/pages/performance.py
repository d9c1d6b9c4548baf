"""The *Performance* page: the last `make bench` and `make bench-memory` records of this machine."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from aecrypt import paths
from aecrypt.book import page
from aecrypt.files import read_json
from aecrypt.paper.reported import PAPER_EPOCH_SECONDS
from aecrypt.runs.results import Results
from aecrypt.runtime import cpu_line


def bench_record(root: Path | None = None) -> dict | None:
    """The last `make bench` record (results/bench.json), or None where no benchmark has run."""
    return read_json(paths.bench_json(root)) or None


def stages_record(root: Path | None = None) -> dict | None:
    """The last `make bench-stages` record (results/stages.json), or None."""
    return read_json(paths.stages_json(root)) or None


def memory_record(root: Path | None = None) -> dict | None:
    """The last `make bench-memory` record (results/memory.json), or None."""
    return read_json(paths.memory_json(root)) or None


def record_table(rows: list[dict]) -> pd.DataFrame:
    """Rows of a bench record as a table, blanks where a row has no value."""
    frame = pd.DataFrame(rows).astype(object)
    return frame.where(frame.notna(), "")


def training_table(record: dict) -> pd.DataFrame:
    """The bench's training rows, narrow enough for a page: one configuration per row."""
    rows = []
    for r in record["training"]:
        row = {
            "image": f"{r['size']}²" if "size" in r else "",
            "backend · numerics": f"{r['backend']} · {r['numerics']}",
        }
        if "error" in r:
            rows.append(row | {"s / epoch": f"not measured: {r['error']}"})
            continue
        rows.append(
            row
            | {
                "s / epoch": f"{r['epoch_s']:.2f}",
                "images / s": f"{r['images_per_s']:.0f}",
                "GFLOP/s": f"{r['gflops']:.0f}",
                "of peak": f"{r['of_peak']:.0%}",
                "speed vs fp32": f"{r['speed_vs_fp32']:.2f}×",
                "final loss change": r["loss_change"],
            }
        )
    return record_table(rows)


def book_timing_table(record: dict) -> pd.DataFrame:
    """Cold / warm make book, one more combination, and the per-run overhead, as label-value rows."""
    b, r = record["book"], record["runs"][0]
    rows = [
        ("cold make book: sweep + book build", f"{b['cold_sweep_s']:.0f} s + {b['cold_book_s']:.0f} s"),
        ("warm make book (nothing changed)", f"{b['warm_total_s']:.1f} s"),
        ("one more combination in a finished sweep", f"{b['add_one_combination_s']:.0f} s"),
        ("median run (one process, wall time)", f"{r['median_run_s']:.1f} s over {r['runs']} runs"),
        ("of which training (autoencoder + classifier)", f"{r['median_training_s']:.1f} s"),
        ("of which kernel start and imports", f"{r['median_startup_s']:.1f} s"),
        ("of which overhead (all but computation)", f"{r['median_overhead_s']:.1f} s = {r['overhead_share']:.0%}"),
    ]
    return pd.DataFrame(rows, columns=["what", "measured"])


def machine_sentence(record: dict) -> str:
    """Where and when the record was measured, and the machine's peak it is held against."""
    peak = record["peak"]
    return (
        f"Measured {record['date']} on **{cpu_line(record['machine'])}**. Peak (fp32 GEMM {peak['n']}² through "
        f"{peak['backend']} on {peak['threads']} threads): **{peak['gflops']:.0f} GFLOP/s**."
    )


def paper_epoch_table(record: dict) -> pd.DataFrame:
    """Seconds per epoch of 9000 images at 200², extrapolated from this machine's measured throughput,
    beside the paper's 9-16 s."""
    lo, hi = PAPER_EPOCH_SECONDS
    rows = [
        {"where": "the paper (hardware not stated)", "seconds per epoch, 9000 images at 200²": f"{lo:.0f}–{hi:.0f}"}
    ]
    for row in record["training"]:
        if row.get("size") == 200 and "images_per_s" in row:
            rows.append(
                {
                    "where": f"this machine, {row['backend']} {row['numerics']}",
                    "seconds per epoch, 9000 images at 200²": f"{9000 / row['images_per_s']:.0f}",
                }
            )
    return pd.DataFrame(rows)


# --- the page's sections ------------------------------------------------------------------------------------

NO_BENCH = (
    "`results/bench.json` is absent, so this page has no numbers. Run `make bench` (about ten minutes on two "
    "cores; `make bench BENCH_ARGS=--quick` skips the make-book timings, `make bench ISA=AVX2` measures as on a CPU "
    "without AVX-512), then `make book` again."
)


def machine_section(results: Results):
    bench = bench_record(results.root)
    if bench is None:
        return page.admonition("No benchmark on this machine yet", NO_BENCH)
    if bench.get("quick") == "book":
        return page.md(
            f"{machine_sentence(bench)}\n\n*A quick measurement, taken by `make book` on this machine: TensorFlow "
            "fp32 at 32² and 200² only, no workers comparison and no make-book timings. `make bench` (about ten "
            "minutes) replaces it with the full record: every backend and numerics option, 64², the workers "
            "comparison and the make-book timings.*"
        )
    return page.md(machine_sentence(bench))


def bench_table(results: Results, which: str):
    """One table of the bench record (`paper epoch`, `training`, `workers`, `book`), or None without a record
    (a `--quick` record has no `book` timings, and says so)."""
    bench = bench_record(results.root)
    if bench is None:
        return None
    if which == "paper epoch":
        return page.html(paper_epoch_table(bench))
    if which == "training":
        return page.html(training_table(bench))
    if which == "workers":
        if "workers" not in bench:
            return page.md("This quick record has no workers comparison: `make bench` measures it.")
        return page.html(record_table(bench["workers"]))
    if "book" not in bench:
        return page.md("This quick record has no make-book timings: `make bench` measures them.")
    return page.html(book_timing_table(bench))


#: The stages record's columns as the page names them.
STAGE_COLUMNS = {
    "variant": "how the runs ran",
    "depth": "depth",
    "runs": "runs",
    "startup": "start-up",
    "data": "data",
    "autoencoder": "autoencoder",
    "retrieve": "retrieval",
    "classifier": "classifier",
    "metrics": "metrics",
    "files and hand-back": "files",
    "run": "whole run",
    "ae steps per core-second": "AE steps / core-s",
    "arithmetic share": "arithmetic share",
    "ae first epoch": "AE first epoch",
    "ae epoch": "AE epoch",
    "ae steps per epoch": "steps / epoch",
    "images retrieved": "images retrieved",
}


def stages_section(results: Results) -> list:
    """Where a run's time goes (`make bench-stages`): the sweeps' wall times side by side, and the median seconds
    per stage and depth with the autoencoder's steps per core-second and arithmetic share."""
    record = stages_record(results.root)
    if record is None:
        return [
            page.md(
                "No stages record on this machine yet: run `make bench-stages` (about 8 minutes), then `make book`."
            )
        ]
    walls = record["sweep_seconds"]
    first = next(iter(walls))
    ratios = "; ".join(f"{v}: {s:.0f} s ({s / walls[first]:.2f}× {first})" for v, s in walls.items())
    frame = record_table(record["stages"]).rename(columns=STAGE_COLUMNS)
    return [
        page.md(
            f"Measured {record['when']} on **{cpu_line(record['cpu'])}**, {record['workers']} workers of one thread "
            f"each; one thread's fp32 peak {record['peak_one_thread_gflops']:.0f} GFLOP/s. The same six runs, swept "
            f"each way in turn: {ratios}."
        ),
        page.wide_table(frame),
    ]


def memory_section(results: Results) -> list:
    memory = memory_record(results.root)
    if memory is None:
        return [
            page.md(
                "No memory record on this machine yet: run `make bench-memory` (several minutes), then `make book`."
            )
        ]
    return [
        page.html(record_table(memory["rows"])),
        page.md(
            f"A straight line through these points: {memory['constant_mb']} MB + {memory['mb_per_image']} MB per "
            f"image; projected for the paper's 9000 images: **{memory['projected_9000_mb'] / 1024:.1f} GiB** "
            f"(measured {memory['date']})."
        ),
    ]


def default_profile_sentence(results: Results) -> str:
    """What the `default` profile gives up, and what its splits can detect: the split sizes as this build ran
    them (or the profile's, where this build is another profile's)."""
    from aecrypt.book.pages import calibration
    from aecrypt.profiles import PROFILES
    from aecrypt.runs.sizing import COLD_BOOK_TARGET_S, last_cold_build
    from aecrypt.stats.scenarios import BEATEN_AUC

    d = PROFILES["default"]
    cold = last_cold_build("default", results.root, d.run_settings())
    timed = (
        f"the last cold build of the default as it is now, on {cold['cpu']}, took {cold['total_s'] / 60:.1f} min: "
        "*The default's budget*, above"
        if cold
        else "*The default's budget*, above, says how to time one"
    )
    sizes = results.data_summary()["split_sizes"] if results.profile == "default" else None
    n_test = sizes["test"] if sizes else None
    test = f"{n_test} images" if n_test else "every other image"
    power = ""
    rec = calibration.record(results) if results.profile == "default" else None
    if rec:
        seeds = len(results.seeds)
        beaten = calibration.beaten_row(rec, seeds)
        found = {
            "depth": calibration.power_of(rec, "depth", "all combinations equal", seeds),
            "close": calibration.power_of(rec, "very close", "all combinations equal", seeds),
        }
        if beaten and None not in found.values():
            power = (
                f" What {seeds} seeds and these test images can decide, when every run trains, is measured on [How "
                f"sure are the verdicts?](calibration.md): where the truth is “{beaten['truth']}” (by {BEATEN_AUC:.2f} "
                f"AUC), the "
                f"{beaten['rule']} test finds it in {beaten['power']:.0%} of simulated builds; depth's \"no "
                f'improvement" is shown in {found["depth"]:.0%} and "very close" in {found["close"]:.0%} of builds '
                "where it is true."
            )
    return (
        f"The `default` profile runs the embedded NIH set at {d.size}×{d.size} (its images are 64×64) and trains "
        f"on {d.n_train} X-rays for {d.ae_epochs} autoencoder epochs, validating on {d.n_val} and testing on "
        f"{test} (patient-wise: no patient in two splits). The size and the training set were cut by measurement "
        f"toward the target of a cold build within {COLD_BOOK_TARGET_S // 60} minutes on a two-core CPU without "
        f"AVX-512 ({timed}); the epochs were kept, because slow "
        "optimizers (Adagrad, SGD at Keras' default rates) need them, and the test split holds every image not "
        "needed to train: 400 test images instead would save retrieval and metrics time but cost the "
        f"classification claims power (the calibration's rows at 400 test images).{power} The price: at 32² small "
        "findings span a pixel or two, and results at this scale say less about the paper's 200² X-rays than the "
        "`paper` profile would."
    )


# --- the default's budget -------------------------------------------------------------------------------------

#: How many of the designs that fit, and that do not, the sizing table shows (the rest are in the record).
SIZING_ROWS = 6


def budget_section(results: Results) -> list:
    """The default's training budget and what it costs: the last cold `make book` of the default, step by step
    (`make bench-cold`), and the candidate designs with their predicted cold builds (`make bench-size`)."""
    from aecrypt.budget import budget_line
    from aecrypt.profiles import PROFILES
    from aecrypt.runs.sizing import EVERY_SEED, cold_build_rows, cold_builds, last_cold_build, predicted_for

    d = PROFILES["default"]
    parts = [page.md(f"Each autoencoder of the `default` profile is {budget_line(d.budget(d.n_train).steps)}.")]
    cold = last_cold_build("default", results.root, d.run_settings())
    if cold is None:
        return parts + [
            page.md(
                "No cold build of the default as it is defined now timed here yet: `make bench-cold` (as long as one)."
            )
        ]
    cpu = cold.get("steps_cpu_s", {})  # builds timed before CPU seconds were kept have none
    steps = pd.DataFrame([{"step": k, "seconds": v, "CPU seconds": cpu.get(k)} for k, v in cold["steps"].items()])
    steps = steps.dropna(axis="columns", how="all").fillna("—")  # the set-up is timed by bench-cold, not clocked
    parts += [
        page.md(
            f"A cold `make book` of commit `{cold['commit'][:10]}` from a fresh clone, {cold['when'][:10]}, on "
            f"**{cold['cpu']}**: **{cold['total_s'] / 60:.1f} min** (the calibration, the link's fault drills "
            "and the cipher audit run beside the compression step, which times its latencies once they have finished; "
            f"the steps after the sweep took {cold['around_sweep_s']:.0f} s together)."
        ),
        page.html(steps),
    ]
    sizing = read_json(paths.sizing_json(results.root))
    builds = cold_builds("default", results.root)
    if len(builds) > 1:  # other designs (a scratch commit's next size up) or earlier commits, measured here
        table = pd.DataFrame(cold_build_rows(builds, d.run_settings(), (sizing or {}).get("designs", [])))
        cpus = table["CPU"].unique()
        parts += [
            page.md(
                "Every cold build of the `default` profile kept here"
                + (f", all on {cpus[0]}" if len(cpus) == 1 else "")
                + ", as its commit defined it, and the sizing's prediction for its design where the sizing below "
                "has one — the prediction is for today's code, so an earlier commit's build may differ from it "
                "by what has changed since (a larger design is timed from a scratch commit: `python "
                "benchmarks/coldbook.py --rev REV`):"
            ),
            page.wide_table(table.drop(columns="CPU") if len(cpus) == 1 else table),
        ]
    if not sizing:
        return parts + [page.md("No sizing record here yet: `make bench-size` (seconds, after `make bench-cold`).")]
    timed = sizing["cold_build"]
    if (timed["commit"], timed.get("when")) != (cold["commit"], cold["when"]):
        parts.append(
            page.md(
                f"*The sizing below was made from the cold build of `{timed['commit'][:10]}`, not the one above: "
                "`make bench-size` again brings them together.*"
            )
        )
    designs = pd.DataFrame(sizing["designs"])
    fits = designs[designs["fits"]].head(SIZING_ROWS)
    over = designs[~designs["fits"]].sort_values("cold book s").head(SIZING_ROWS)
    check, target = sizing["check"], sizing["target_s"]
    parts.append(
        page.md(
            f"Each candidate design's cold `make book`, predicted from {sizing['costs_from']} (their median "
            f"seconds per stage and depth) and that build's set-up and steps around the sweep, on {sizing['cpu']} "
            f"with {sizing['workers']} workers (`aecrypt.runs.sizing` says what scales with what). For that build's "
            f"own design the model predicts a sweep of {check['predicted_sweep_s']} s; it took "
            f"{check['measured_sweep_s']:.0f} s — a check of the schedule, since its runs gave the costs ("
            + (
                "the cold builds of other designs above check the scaling too)."
                if any(b.get("design") != cold["design"] for b in builds)
                else "a cold build of another design would check the scaling too)."
            )
        )
    )
    if len(fits):
        parts += [
            page.md(f"The designs with the most steps that fit {target // 60} minutes:"),
            page.wide_table(record_table(fits.to_dict("records"))),
            page.md("and the cheapest that do not:"),
        ]
    else:
        cheapest = over.iloc[0]
        parts.append(
            page.md(
                f"**None of the {len(designs)} designs fits {target // 60} minutes here.** The set-up and the steps "
                f"around the sweep take {sizing['around_s']:.0f} s, which leaves {target - sizing['around_s']:.0f} s "
                f"for the sweep's runs; the cheapest design ({cheapest['steps']} steps, {cheapest['test images']} test "
                f"images, depth 5 at {cheapest['depth 5']}) is predicted at {cheapest['cold book s'] / 60:.1f} min. "
                "The cheapest designs:"
            )
        )
    parts.append(page.wide_table(record_table(over.to_dict("records"))))
    mine = predicted_for(sizing["designs"], d.run_settings())
    if mine:
        test = "every other image" if d.n_test is None else f"{d.n_test} images"
        more = designs[designs["steps"] > mine["steps"]].sort_values("cold book s")
        every_seed = more[more["depth 5"] == EVERY_SEED]
        larger = (
            f"; the cheapest design with more steps at every seed ({every_seed.iloc[0]['steps']} steps: "
            f"{every_seed.iloc[0]['epochs']} epochs of {every_seed.iloc[0]['training images']} images) at "
            f"{every_seed.iloc[0]['cold book s'] / 60:.1f} min"
            if len(every_seed)
            else ""
        )
        one_seed = more[(more["depth 5"] != EVERY_SEED) & more["fits"]]  # by cost: the cheapest first
        why = (
            f" The designs with more steps that fit (the cheapest: {one_seed.iloc[0]['steps']} steps, at "
            f"{one_seed.iloc[0]['cold book s'] / 60:.1f} min) run depth 5 at one seed: a combination of one seed has "
            "no spread over seeds, so no comparison with it can be decided (`aecrypt.stats.components`: its seed "
            "variance is undefined), and the paper's best, a depth-5 combination, would go undecided. The default "
            "keeps every seed."
            if len(one_seed) and not every_seed["fits"].any()
            else ""
        )
        parts.append(
            page.md(
                f"The default as it is ({d.ae_epochs} epochs of {d.n_train} images, {test} to test, depth 5 at every "
                f"seed) is predicted at {mine['cold book s'] / 60:.1f} min{larger}.{why}"
            )
        )
    return parts
