"""The chapter *Is it compressed?*: what `aecrypt compression` wrote (results/<profile>/compression/) as the
page's tables and sentences, and the compression verdict in bytes on the wire (which *Results vs. paper*
quotes). Nothing here encodes or trains."""

from __future__ import annotations

import math

import pandas as pd

from aecrypt import paths
from aecrypt.book.pages import budget
from aecrypt.compression import curves, wire
from aecrypt.compression import record as compression_record
from aecrypt.compression.equal_rate import GRID, ORIGINAL
from aecrypt.files import read_json
from aecrypt.paper import choices
from aecrypt.paper.reported import PROPOSED_DEPTH
from aecrypt.runs.results import Results
from aecrypt.stats import compressed
from aecrypt.stats.findings import ALPHA, Finding

RUNS_COMMAND = "make book-compression"


def _once(results: Results) -> dict:
    """A build's compression tables and comparisons, read and computed once per `Results` (a page, the scorecard
    and the facts all ask; the per-image table is megabytes), kept in its instance dictionary as its
    cached_property values are."""
    return vars(results).setdefault("_compression", {})


def tables(results: Results) -> dict | None:
    once = _once(results)
    if "tables" not in once:
        once["tables"] = compression_record.load(results.profile, results.root)
    return once["tables"]


def comparisons(results: Results) -> dict[int, compressed.Comparison]:
    """Each depth's latent against the cheapest codec at equal or better quality, per image (`stats.compressed`),
    from the build's compression record; empty where the step has not run."""
    once = _once(results)
    if "comparisons" not in once:
        once["comparisons"] = _comparisons(results)
    return once["comparisons"]


def _comparisons(results: Results) -> dict[int, compressed.Comparison]:
    t = tables(results)
    if not t or t["per_image"].empty:
        return {}
    per_image = t["per_image"][t["per_image"]["size"] == results.settings.size]
    latents = per_image[(per_image["kind"] == "autoencoder") & (per_image["bottleneck"] == 0)]
    found = {int(d): compressed.compare(per_image, int(d)) for d in sorted(latents["depth"].unique())}
    return {d: c for d, c in found.items() if c is not None}


def finding(results: Results) -> Finding:
    """The compression verdict on the paper's proposed autoencoder (`stats.compressed`): per image against a
    codec at equal quality where the compression step ran — trained latents, so with the build's training budget,
    and not a verdict on phantoms — else from the layer shapes."""
    measured = compressed.finding(comparisons(results), PROPOSED_DEPTH)
    if measured is not None:
        measured.budget = budget.gate(results).line()
        return measured.on_phantoms() if results.is_synthetic else measured
    size = results.settings.size
    depths = {int(d) for d in results.ok["depth"].unique()} | {PROPOSED_DEPTH}  # the paper's latents, no variant
    shapes = {d: wire.latent_payload_bytes(choices.latent_shape(size, d), "uint8") for d in depths}
    return compressed.from_shapes(shapes, size * size, PROPOSED_DEPTH)


def comparison_table(results: Results) -> pd.DataFrame:
    """One row per depth: the latent's bytes and quality, the codec it is held to, the per-image ratio with its
    interval, and that depth's outcome (the proposed depth's is the claim's)."""
    rows = []
    for depth, c in comparisons(results).items():
        rows.append(
            {
                "depth": f"{depth} (the paper's)" if depth == PROPOSED_DEPTH else str(depth),
                "latent (uint8 + zstd)": f"{c.latent_bytes:,.0f} B",
                "its PSNR / SSIM": f"{c.latent_psnr:.1f} dB / {c.latent_ssim:.3f}",
                "held to (its bytes, PSNR)": f"{c.codec} ({c.codec_bytes:,.0f} B, "
                + ("lossless)" if math.isinf(c.codec_psnr) else f"{c.codec_psnr:.1f} dB)"),
                "latent / codec, per image [95 %]": c.ratio.text(),
                "latent / PNG [95 %]": c.png_ratio.text(),
                "outcome": c.outcome,
            }
        )
    return pd.DataFrame(rows)


def facts(results: Results) -> dict[str, str]:
    t = tables(results)
    if not t:  # every name the page glues, so that a build without the step still builds
        names = ("rd_images", "test_images", "codecs", "imagecodecs", "machine", "seconds")
        names += ("ae_smallest", "codec_highest", "png_bpp")
        return dict.fromkeys(names, "—") | {"verdict": finding(results).outcome} | _rule_facts(results)
    rec = t["record"]
    offered = [c["title"] + f" ({c['library']})" for c in rec["codecs"].values()]
    missing = [name for name, ok in rec["offered"].items() if not ok]
    return (
        _rate_facts(t, rec["sizes"][0])
        | {
            "rd_images": _images_per_size(t["rd"]),
            "test_images": str(rec["test_images"]),
            "codecs": ", ".join(offered) + (f"; not offered here: {', '.join(missing)}" if missing else ""),
            "imagecodecs": str(rec["imagecodecs"]),
            "machine": rec["cpu"],
            "seconds": f"{rec['seconds']:.0f} s on this machine"
            + (
                ", with the steps that time nothing running beside it (its latencies timed alone)"
                if rec.get("beside")
                else ""
            ),
            "verdict": finding(results).outcome,
        }
        | _rule_facts(results)
    )


def _rule_facts(results: Results) -> dict[str, str]:
    """The verdict rule's numbers: its interval's level and how many images it pairs."""
    found = comparisons(results)
    paired = next(iter(found.values())).ratio.n if found else curves.PAIRED
    coders = ", ".join(f"{name} level {level}" for name, level in wire.LOSSLESS_LEVELS.items())
    return {"level": f"{1 - ALPHA:.0%}", "paired_images": str(paired), "lossless_coders": coders}


def _images_per_size(rd: pd.DataFrame) -> str:
    """How many test images each size's points are means over, e.g. "400 at 32², 200 at 64²"."""
    codecs = rd[rd["kind"] == "codec"]
    return ", ".join(f"{int(g['n_images'].max())} at {size}²" for size, g in codecs.groupby("size"))


def _rate_facts(t: dict, size: int) -> dict[str, str]:
    """The smallest autoencoder point, the highest rate any codec's sweep reaches, and PNG's rate, at `size`."""
    rd = t["rd"][t["rd"]["size"] == size]
    models = rd[rd["kind"] == "autoencoder"].groupby(["method", "setting"], sort=False)[["bpp", "psnr"]].mean()
    codecs = rd[rd["kind"] == "codec"]
    png = codecs[codecs["method"] == "PNG"]["bpp"]
    smallest = models["bpp"].idxmin() if len(models) else None
    return {
        "ae_smallest": (
            f"{smallest[0]} as {smallest[1]}, {models.loc[smallest, 'bpp']:.1f} bpp at "
            f"{models.loc[smallest, 'psnr']:.1f} dB"
            if smallest
            else "—"
        ),
        "codec_highest": f"{codecs['bpp'].max():.2f}" if len(codecs) else "—",
        "png_bpp": f"{png.iloc[0]:.2f}" if len(png) else "—",
    }


def bytes_table(results: Results) -> pd.DataFrame:
    """Bytes and bits per pixel for every way an image or latent travels: each depth at the build's size (measured)
    and at the paper's 200² (from the shapes)."""
    t = tables(results)
    if not t:
        return pd.DataFrame()
    b = t["bytes"]
    b = b[b["bottleneck"] == 0]
    b = b.assign(
        where=[f"{s}², depth {d}" if d else f"{s}², image" for s, d in zip(b["size"], b["depth"], strict=True)]
    )
    images = b[b["kind"] == "image"]
    cells = lambda frame: [  # noqa: E731
        "—" if pd.isna(x) else f"{x:,.0f} B · {p:.2f} bpp" for x, p in zip(frame["bytes"], frame["bpp"], strict=True)
    ]
    latents = b[b["kind"] == "latent"].assign(cell=lambda f: cells(f))
    wide = latents.pivot_table(index="method", columns="where", values="cell", aggfunc="first", sort=False)
    wide.columns.name = None
    wide = wide.reset_index()
    image_rows = images.assign(cell=cells(images))[["method", "where", "cell"]]
    image_wide = image_rows.pivot_table(index="method", columns="where", values="cell", aggfunc="first", sort=False)
    image_wide.columns.name = None
    return pd.concat([image_wide.reset_index(), wide], ignore_index=True).fillna("")


def header_table(results: Results) -> pd.DataFrame:
    """Per codec and size: the share of the file that is header at its lowest and its highest setting."""
    t = tables(results)
    if not t:
        return pd.DataFrame()
    rd = t["rd"]
    codecs = rd[(rd["kind"] == "codec") & rd["header_share"].notna()]
    rows = []
    for (method, size), g in codecs.groupby(["method", "size"], sort=False):
        g = g.sort_values("bpp")
        rows.append(
            {
                "codec": method,
                "size": f"{size}²",
                "lowest rate: bpp · header": f"{g['bpp'].iloc[0]:.2f} · {g['header_share'].iloc[0]:.0%}",
                "highest rate: bpp · header": f"{g['bpp'].iloc[-1]:.2f} · {g['header_share'].iloc[-1]:.0%}",
            }
        )
    return pd.DataFrame(rows)


def at_rate(results: Results, bpp: float, size: int) -> pd.DataFrame:
    """Each codec's point nearest (in log rate) to `bpp` at `size`: what it gives for about the same bytes."""
    rd = tables(results)["rd"]
    codecs = rd[(rd["kind"] == "codec") & (rd["size"] == size)]
    rows = []
    for _, g in codecs.groupby("method", sort=False):
        nearest = g.iloc[(g["bpp"].map(math.log) - math.log(bpp)).abs().argsort()[:1]]
        rows.append(nearest)
    return pd.concat(rows)[["method", "setting", "bpp", "psnr", "ssim"]].round(3) if rows else pd.DataFrame()


def model_points(results: Results) -> pd.DataFrame:
    t = tables(results)
    if not t:
        return pd.DataFrame()
    from aecrypt.figures.ratedistortion import rates_table

    return rates_table(t["rd"], results.settings.size)


def equal_rate_table(results: Results) -> pd.DataFrame:
    """Per method at equal rate: its rate, image quality and AUC (means over seeds), and the AUC difference
    against the original images' classifier with its 95 % interval and Holm-adjusted verdict."""
    t = tables(results)
    if not t or t["equal_rate"].empty:
        return pd.DataFrame()
    runs = t["equal_rate"]
    means = (
        runs.groupby(["method", "kind"], sort=False)
        .agg(seeds=("seed", "nunique"), bpp=("bpp", "mean"), psnr=("psnr", "mean"), auc=("auc", "mean"))
        .reset_index()
    )
    comp = t["comparisons"]
    against = comp[comp["against"] == ORIGINAL].set_index("method") if len(comp) else pd.DataFrame()

    def versus(label: str) -> str:
        if label not in getattr(against, "index", []):
            return "—"
        r = against.loc[label]
        if pd.isna(r["low"]):
            return f"{r['auc_difference']:+.3f} (no interval: one seed)"
        return f"{r['auc_difference']:+.3f} ({r['low']:+.3f} to {r['high']:+.3f}) · {r['verdict']}"

    means["AUC − original (95 % CI) · Holm"] = means["method"].map(versus)
    return means.round({"bpp": 2, "psnr": 2, "auc": 3})


def codec_vs_bottleneck(results: Results) -> pd.DataFrame:
    t = tables(results)
    if not t or t["comparisons"].empty:
        return pd.DataFrame()
    comp = t["comparisons"]
    pairs = comp[comp["against"] != ORIGINAL]
    return pairs.round({"auc_difference": 3, "low": 3, "high": 3, "p": 4, "p_holm": 4})


def _setting(value) -> str:
    """A codec setting as the spec writes it: 19, not 19.0 (a CSV reads whole numbers back as floats)."""
    number = float(value)
    return str(int(number)) if number.is_integer() else str(number)


def matches_table(results: Results) -> pd.DataFrame:
    """Per bottleneck: its rate, and each codec's matched setting with the rate of the next one up."""
    t = tables(results)
    if not t or t["matches"].empty:
        return pd.DataFrame()
    rows = []
    for (label, target), group in t["matches"].groupby(["bottleneck", "target_bpp"], sort=False):
        row = {"bottleneck": label, "its rate (bpp)": round(target, 3)}
        for m in group.to_dict("records"):
            row[m["codec"]] = (
                f"{m['codec']}:{_setting(m['setting'])} at {m['bpp']:.2f} bpp "
                + (f"(next setting {m['bpp_above']:.2f})" if math.isfinite(m["bpp_above"]) else "(its highest setting)")
                if m["reached"]
                else f"cannot go this low (lowest {m['bpp_above']:.2f} bpp)"
            )
        rows.append(row)
    return pd.DataFrame(rows)


def latency_table(results: Results) -> pd.DataFrame:
    t = tables(results)
    if not t or t["latency"].empty:
        return pd.DataFrame()
    lat = t["latency"].copy()
    ms = lambda s: f"{s * 1e3:.2f}"  # noqa: E731
    out = pd.DataFrame(
        {
            "method": lat["method"],
            "setting": lat["setting"].fillna(""),
            "bytes": lat["bytes"].round(0).astype(int),
            "encode ms (one · batched)": [
                f"{ms(a)} · {ms(b)}" for a, b in zip(lat["encode_one_s"], lat["encode_batched_s"], strict=True)
            ],
            "decode ms (one · batched)": [
                f"{ms(a)} · {ms(b)}" for a, b in zip(lat["decode_one_s"], lat["decode_batched_s"], strict=True)
            ],
        }
    )
    for column in [c for c in lat.columns if c.startswith("wire_s ")]:
        out[f"on the wire, {column[7:]} (ms)"] = (lat[column] * 1e3).round(2)
    return out


def keeps_up_table(results: Results) -> pd.DataFrame:
    t = tables(results)
    if not t or t["keeps_up"].empty:
        return pd.DataFrame()
    k = t["keeps_up"].assign(setting=lambda f: f["setting"].fillna(""))
    k["cell"] = ["yes" if ok else f"no ({s:.2f} s)" for ok, s in zip(k["keeps_up"], k["slowest_stage_s"], strict=True)]
    k["column"] = [f"{link} · {r}/s" for link, r in zip(k["link"], k["images_per_s"], strict=True)]
    wide = k.pivot_table(index=["method", "setting"], columns="column", values="cell", aggfunc="first", sort=False)
    wide.columns.name = None
    return wide.reset_index()


def originals(results: Results) -> tuple[pd.DataFrame, dict] | None:
    """The codec-only curve at 200² with MS-SSIM (`make bench-compression`), and what it ran on; None before it."""
    csv = paths.compression_originals_csv(results.root)
    if not csv.is_file():
        return None
    return pd.read_csv(csv), read_json(csv.with_suffix(".json"))


def originals_text(results: Results) -> str:
    found = originals(results)
    if found is None:
        return (
            "*No codec curve at 200² in this build: `make bench-compression` draws one on real originals resized to "
            "200² (the 50 NIH images beside the project, or `DATA=nih:DIR`), with MS-SSIM.*"
        )
    table, about = found
    return (
        f"**Codecs only, not this build's data:** {about['images']} images of `{about['data']}` resized to "
        f"{about['size']}², measured {about['date']} on {about['cpu']} ({about['seconds']:.0f} s). No autoencoder "
        "ran at this size, so the figure has no autoencoder points; at the paper's 200² its depth-3 latent is "
        "64 bpp as uint8 (the bytes table above)."
    )


def runs_missing_note(results: Results) -> str:
    t = tables(results)
    planned = t["record"]["equal_rate_runs"]["planned"] if t else 0
    return (
        f"*The bottleneck variant and the classifier at equal rate are not in this build: they are "
        f"{planned} runs beyond the default's time budget ({GRID.name}: 5 bottlenecks × the build's seeds, and the "
        f"classifier on JPEG and WebP images at each reachable rate). `{RUNS_COMMAND}` runs them (about 7 minutes on "
        "2 cores at the default profile; cached like every run) and rebuilds the book.*"
    )
