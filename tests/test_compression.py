"""Is it compressed? Bytes on the wire, codec round trips, quantisation bounds, the bottleneck variant's shapes
and identity, the matched-rate search, the equal-rate statistics, and the chapter's numbers against its
results files."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from aecrypt import UsageError, paths
from aecrypt.compression import curves, equal_rate, latency, wire
from aecrypt.data import codecs
from aecrypt.link import packets
from aecrypt.paper import choices, metrics
from aecrypt.runs.grids import load_grid
from aecrypt.runs.identity import Fingerprints, run_id
from aecrypt.runs.spec import RunSpec
from aecrypt.stats.components import Run


@pytest.fixture(scope="module")
def xrays():
    """40 embedded NIH images at their own 64² and at 32² (as the default build reads them), in [0, 1]."""
    from aecrypt.data.dataset import load_dataset

    return {size: load_dataset("nih-embedded", size, None, 0).images[:40] for size in (32, 64)}


def test_bits_per_pixel_and_the_bytes_of_every_latent():
    assert wire.bpp(1024, 32) == 8.0 and wire.bpp(136, 32) == pytest.approx(1.0625)
    assert wire.latent_payload_bytes((8, 8, 2), "uint8") == 136  # 128 values + offset and scale
    assert wire.latent_payload_bytes((50, 50, 128), "float32") == 1_280_000  # the paper's depth 3 at 200²
    assert equal_rate.target_bpp(32, 3, 2) == pytest.approx(1.0625)
    z = np.random.default_rng(0).random((1, 7, 5, 3), dtype=np.float32)
    sealed = packets.seal(z, "aes-gcm", bytes(32), bytes(8), bytes(8), bytes(8), 0, "float32")
    assert len(sealed) == z.nbytes + wire.packet_overhead(4)  # the overhead does not depend on the shape
    rows = pd.DataFrame(wire.latent_rows(200, 3))
    row = rows.set_index("method").loc["sealed packet (float32)"]
    assert row["bytes"] == 1_280_000 + wire.packet_overhead(4) and row["bpp"] == pytest.approx(8 * row["bytes"] / 4e4)
    assert rows.set_index("method")["bytes"].isna().sum() == 6  # what zlib and zstd make of it needs a run


def test_lossless_codecs_are_exact_and_lossy_ones_keep_their_quality_band(xrays):
    images = xrays[64][:12]
    for spec in ("png", "jpegls:0"):
        decoded, sizes = codecs.round_trip_images(images, spec)
        assert np.array_equal(codecs.to_uint8(decoded), codecs.to_uint8(images)) and (sizes > 0).all()
    reference = codecs.to_uint8(images) / np.float32(255)

    def psnr(spec: str) -> float:
        return float(metrics.per_image_quality(reference, codecs.round_trip_images(images, spec)[0])["psnr"].mean())

    assert 23 < psnr("jpeg:10") < 33 < 40 < psnr("jpeg:95")  # low quality visibly lossy, high near-transparent
    assert 22 < psnr("webp:0") < psnr("webp:50") < psnr("webp:95")
    assert psnr("jpeg2000:36") == pytest.approx(36, abs=2.5)  # its knob is a PSNR target
    assert psnr("jpegls:2") >= 20 * np.log10(255 / 2)  # near-lossless: every pixel within 2 levels
    for name in ("jpeg", "webp", "jpeg2000", "jpegls", "png"):
        codec = codecs.get_codec(name)
        data = codec.encode(codecs.to_uint8(images[0]), codec.sweep[0])
        assert 0 < codec.payload(data) < len(data)  # some of every file is header


def test_codec_specs_are_checked_with_errors_that_list_what_is_valid():
    assert codecs.parse_codec("webp:37")[1] == 37 and codecs.parse_codec("png")[1] is None
    with pytest.raises(UsageError, match="unknown codec 'gif'; valid: png, jpeg, webp"):
        codecs.parse_codec("gif")
    with pytest.raises(UsageError, match=r"jpeg:N with N its quality 1–95 \(from 1 to 95\)"):
        codecs.parse_codec("jpeg:200")
    with pytest.raises(UsageError, match="takes no setting"):
        codecs.parse_codec("png:3")


def test_quantisation_error_is_within_its_bound():
    z = np.random.default_rng(1).normal(3, 2, (8, 8, 16)).astype(np.float32)
    plain, low, scale = packets.quantise(z, "uint8")
    back = packets.from_quantised(plain, "uint8", z.shape, low, scale)
    assert np.abs(back - z).max() <= scale / 2 + 1e-5 and len(plain) == z.size
    half, _, _ = packets.quantise(z, "float16")
    assert np.abs(packets.from_quantised(half, "float16", z.shape) - z).max() <= np.abs(z).max() * 2**-11
    assert np.array_equal(packets.from_quantised(packets.quantise(z, "float32")[0], "float32", z.shape), z)


def test_the_bottleneck_variant_narrows_the_latent_and_has_its_own_run_identity():
    from aecrypt.paper import models

    ae = models.build_autoencoder(32, 3, "relu", bottleneck=4)
    assert ae.encoder.output_shape[1:] == (8, 8, 4) == choices.latent_shape(32, 3, 4)
    assert ae.decoder.input_shape[1:] == (8, 8, 4) and ae.autoencoder.output_shape[1:] == (32, 32, 1)
    with pytest.raises(UsageError, match="bottleneck 3 is not valid; valid: 0, 1, 2, 4, 8, 16"):
        choices.validate_bottleneck(3)
    grid = load_grid(paths.GRIDS / "bottleneck.yaml")
    assert [c.bottleneck for c in grid.combinations] == [1, 2, 4, 8, 16]
    assert grid.combinations[2].label == "MSE+Adam+ReLU+3 k=4"
    fp = Fingerprints.now()
    plain = RunSpec("tiny", "synthetic", loss="mse", optimizer="adam", depth=3)
    narrow = RunSpec("tiny", "synthetic", loss="mse", optimizer="adam", depth=3, bottleneck=4)
    assert "bottleneck" not in plain.parameters() and narrow.parameters()["bottleneck"] == 4
    assert (
        len(
            {
                run_id(s, fp, "d")
                for s in (
                    plain,
                    narrow,
                    RunSpec("tiny", "synthetic", loss="mse", optimizer="adam", depth=3, bottleneck=8),
                )
            }
        )
        == 3
    )
    codec = RunSpec.baseline("tiny", "synthetic", 0, codec="webp:30")
    assert codec.label == "webp:30 images" and run_id(codec, fp, "d") != run_id(
        RunSpec.baseline("tiny", "synthetic", 0), fp, "d"
    )


def test_a_grid_with_a_bad_bottleneck_says_so(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("grid: {loss: [mse], optimizer: [adam], depth: [3], activation: [relu], bottleneck: [3]}\n")
    with pytest.raises(UsageError, match="bottleneck 3 is not valid"):
        load_grid(bad)


def test_the_matched_rate_search_brackets_its_target(xrays):
    images = xrays[32][:20]
    for codec, target in (("webp", 1.0625), ("jpeg", 3.0)):
        m = curves.matched_setting(codec, images, target)
        assert m.reached and m.bpp <= target < m.bpp_above
        search = codecs.get_codec(codec).search
        above = search[search.index(m.setting) + 1]  # the next setting really is above the target
        sizes = curves.codec_rates(codecs.get_codec(codec), codecs.to_uint8(images), above)[1]
        assert wire.bpp(sizes, 32).mean() == pytest.approx(m.bpp_above)
    low = curves.matched_setting("jpeg", images, 0.5)  # at 32² a JPEG's header alone is above 1 bpp
    assert not low.reached and low.bpp_above > 0.5


def test_equal_rate_comparisons_carry_intervals_and_holms_correction():
    rng = np.random.default_rng(3)
    labels = np.r_[np.zeros(150), np.ones(150)]
    keys = [f"img{i}" for i in range(300)]

    def run(label: str, seed: int, shift: float) -> Run:
        scores = np.clip(0.5 + shift * (labels - 0.5) + rng.normal(0, 0.25, 300), 0, 1)
        from sklearn.metrics import roc_auc_score

        frame = pd.DataFrame({"image": keys, "label": labels, "score": scores})
        return Run(label, seed, {"auc": roc_auc_score(labels, scores)}, frame)

    runs = [
        run(name, s, shift)
        for name, shift in (("original images", 0.6), ("k=2", 0.6), ("webp:26 (at k=2)", 0.1))
        for s in range(3)
    ]
    match = curves.Match("webp", 1.0625, 26, 1.06, 1.07)
    table = equal_rate.comparisons(runs, [("k=2", match)]).set_index(["method", "against"])
    far = table.loc[("webp:26 (at k=2)", "original images")]
    assert far["verdict"] == "lower" and far["low"] < far["auc_difference"] < far["high"] < 0
    assert (table["p_holm"] >= table["p"] - 1e-12).all()
    assert table.loc[("webp:26 (at k=2)", "k=2"), "verdict"] == "lower"


def test_keeping_up_is_the_slowest_stage_against_the_time_between_images():
    row = latency.latency_row("m", "", 125_000, {"one": 0.01, "batched": 0.001}, {"one": 0.02, "batched": 0.002})
    assert row["wire_s 1 Mbit/s"] == pytest.approx(1.0) and row["wire_s 10 Mbit/s"] == pytest.approx(0.1)
    k = latency.keeps_up(pd.DataFrame([row])).set_index(["link", "images_per_s"])["keeps_up"]
    assert not k[("1 Mbit/s", 1)] and k[("10 Mbit/s", 1)] and not k[("10 Mbit/s", 10)]
    assert latency.median_seconds(lambda: None, repeats=5, warmup=1) < 0.01


@pytest.fixture(scope="session")
def tiny_compression(tiny_sweep):
    from aecrypt.compression.record import run_compression

    root, _ = tiny_sweep
    return root, run_compression("tiny", root, native=False)


def test_the_compression_step_is_cached_and_its_chapter_shows_its_numbers(tiny_compression, tiny_book, caplog):
    from aecrypt.compression.record import run_compression

    root, out = tiny_compression
    record = json.loads((out / paths.COMPRESSION_FILES.record).read_text())
    assert record["sizes"] == [32] and record["offered"]["png"]
    rd = pd.read_csv(out / paths.COMPRESSION_FILES.rd)
    assert {"codec", "autoencoder"} <= set(rd["kind"]) and (rd["n_images"] == record["rd_images"]).all()
    models = rd[rd["kind"] == "autoencoder"]
    zstd, plain = (models[models["setting"] == s]["bpp"].mean() for s in ("uint8 + zstd", "uint8"))
    assert zstd < plain  # a lossless coder only lowers the rate
    # the same distortion, coded or not; the points carry the verdict's coder only (the bytes table, every coder)
    assert (models.groupby("setting")["psnr"].mean().loc[["uint8", "uint8 + zstd"]].nunique()) == 1
    assert set(models["setting"]) == {f"{q}{c}" for q in wire.QUANTISATIONS for c in ("", f" + {wire.RD_CODER}")}
    # the verdict's evidence: every method's bytes and quality on the same images, one by one
    per_image = pd.read_csv(out / paths.COMPRESSION_FILES.per_image)
    images = per_image.groupby(["method", "setting", "run_id"], dropna=False)["image"].apply(tuple)
    assert images.nunique() == 1 and len(images.iloc[0]) == min(curves.PAIRED, record["rd_images"])
    ours = per_image[per_image["setting"] == "uint8 + zstd"].groupby("run_id")["bytes"].mean()
    rd_bytes = models[models["setting"] == "uint8 + zstd"].set_index("run_id")["bytes"]
    assert ours.to_dict() == pytest.approx(rd_bytes.loc[ours.index].to_dict())
    with caplog.at_level("INFO", logger="aecrypt"):
        run_compression("tiny", root, native=False)
    assert "compression: up to date" in caplog.text
    html = (tiny_book[1] / "book" / "compression.html").read_text()
    table = pd.read_csv(out / paths.COMPRESSION_FILES.bytes)
    png = table[(table["method"] == "PNG") & (table["size"] == 32)].iloc[0]
    assert f"{png['bytes']:,.0f} B · {png['bpp']:.2f} bpp" in html
    assert "1,024 B · 8.00 bpp" in html and "not reproduced" in html
    assert "latent / codec, per image [95 %]" in html  # each depth's outcome (the tiny grid has no depth 3)
    assert "book-compression" in html  # the equal-rate runs are not in the tiny build: the page says how


def test_ms_ssim_needs_its_five_scales_and_is_one_only_for_the_same_image():
    rng = np.random.default_rng(5)
    smooth = np.cumsum(np.cumsum(rng.random((2, 176, 176)), 1), 2)
    images = (smooth / smooth.max(axis=(1, 2), keepdims=True)).astype(np.float32)
    assert curves.ms_ssim(images, images) == pytest.approx([1.0, 1.0])
    decoded, _ = codecs.round_trip_images(images, "jpeg:10")
    assert (curves.ms_ssim(images, decoded) < 0.999).all()
    with pytest.raises(UsageError, match="at least 161 pixels a side for its five scales, got 160"):
        curves.ms_ssim(images[:, :160, :160], images[:, :160, :160])


def test_the_200_px_codec_benchmark_says_what_is_wrong_with_its_data(tmp_path):
    import subprocess
    import sys

    script = paths.ROOT / "benchmarks" / "compression.py"
    done = subprocess.run(
        [sys.executable, str(script), "--data", f"folder:{tmp_path / 'none'}", "--results", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 2 and "bench-compression: error:" in done.stderr and str(tmp_path / "none") in done.stderr
    assert not (tmp_path / "compression-originals.csv").exists()


def test_bytes_on_the_wire_are_one_computation_the_packets_agree_with():
    """The bytes table, the premise page and the link benchmark all price a payload with `wire`: a sealed latent
    is its quantised payload and the packet around it, and the packet parses back to that latent's shape; a
    sealed PNG is the link's PNG and the same packet."""
    from aecrypt.link import pngfiles

    shape = choices.latent_shape(32, 3)
    for q in wire.QUANTISATIONS:
        side = wire.UINT8_SIDE_BYTES if q == "uint8" else 0
        sealed = wire.sealed_latent_bytes(shape, q)
        assert sealed == wire.latent_payload_bytes(shape, q) - side + wire.packet_overhead(4), q
        assert sealed > wire.latent_payload_bytes(shape, q) - side
    image = np.random.default_rng(0).random((32, 32), dtype=np.float32)
    assert wire.sealed_png_bytes(image) == len(pngfiles.png_bytes(image)) + wire.packet_overhead(3)
    packet = packets.seal(np.zeros((1, *shape), np.float32), "aes-gcm", bytes(32), bytes(8), bytes(8), bytes(8), 0)
    assert len(packet) == wire.sealed_latent_bytes(shape, "float32")


def test_codec_curves_are_drawn_at_the_datas_native_size_too_and_the_verdict_pairs_the_builds(tiny_sweep, tmp_path):
    """Where the data allows it, the codec curves are also drawn at its native 64² (loaded beside the thread that
    draws the build's size), with their images' bytes; the per-image pairs of the verdict stay at the build's size."""
    import shutil

    from aecrypt.compression.record import NATIVE_SIZE, run_compression

    root = tmp_path / "results"
    shutil.copytree(tiny_sweep[0], root)
    out = run_compression("tiny", root, native=True)
    record = json.loads((out / paths.COMPRESSION_FILES.record).read_text())
    assert record["sizes"] == [32, NATIVE_SIZE]
    rd = pd.read_csv(out / paths.COMPRESSION_FILES.rd)
    assert set(rd[rd["kind"] == "codec"]["size"]) == {32, NATIVE_SIZE}
    assert set(rd[rd["kind"] != "codec"]["size"]) == {32}  # the autoencoders run at the build's size only
    png = pd.read_csv(out / paths.COMPRESSION_FILES.bytes).query("method == 'PNG'")
    assert sorted(png["size"]) == [32, NATIVE_SIZE]
    assert set(pd.read_csv(out / paths.COMPRESSION_FILES.per_image)["size"]) == {32}
