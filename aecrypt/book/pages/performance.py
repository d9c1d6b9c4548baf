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
        return page.html(record_table(bench["workers"]))
    if "book" not in bench:
        return page.md("This record was made with `--quick`: no make-book timings.")
    return page.html(book_timing_table(bench))


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


def default_profile_sentence() -> str:
    """What the `default` profile gives up, in numbers from the profile itself."""
    from aecrypt.profiles import PROFILES

    d = PROFILES["default"]
    return (
        f"The `default` profile trains on {d.n_train} phantoms of {d.size}×{d.size} for {d.ae_epochs} autoencoder "
        f"epochs, validates on {d.n_val} and tests on {d.n_test}. The size and the training set were cut first "
        "(from 64² and about 390 training images: six times less autoencoder work per run), so that three "
        "training seeds fit the time budget of a two-core laptop; the epochs were kept, because slow optimizers "
        "(Adagrad, SGD at Keras' default rates) need them. The test split is sized on its own: test images cost "
        f"one forward pass, and {d.n_test} of them let a paired comparison of two combinations detect an AUC "
        "difference of 0.05 near AUC 0.85 with 80 % power at α = 0.05 (Hanley–McNeil variances, correlation 0.5; "
        "`aecrypt.stats.power.paired_auc_test_size`). The price: at 32² the smallest synthetic lesions span one "
        "or two pixels, and the depth-5 latent is 2×2 — results at this scale say less about the paper's 200² "
        "X-rays than the `paper` profile would."
    )
