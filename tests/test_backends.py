"""The GPU path: a machine with JAX but no TensorFlow runs the real template and the epoch benchmark.
Checked here on the CPU with TensorFlow made unimportable, so no test needs a GPU."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from importlib.util import find_spec

import pytest

from aecrypt import paths

pytestmark = pytest.mark.skipif(not find_spec("jax"), reason="JAX is not installed (it is in the dev extra)")


@pytest.fixture
def without_tensorflow(tmp_path):
    """Environment for a child process in which `import tensorflow` fails, as on the GPU machine."""
    stub = tmp_path / "stub" / "tensorflow"
    stub.mkdir(parents=True)
    (stub / "__init__.py").write_text("raise ImportError('tensorflow is not installed on this machine')\n")
    return dict(os.environ, PYTHONPATH=str(stub.parent), KERAS_BACKEND="jax", TF_CPP_MIN_LOG_LEVEL="3")


def test_the_run_template_works_on_jax_without_tensorflow(without_tensorflow, tmp_path):
    out = subprocess.run(
        [sys.executable, "-m", "papermill", str(paths.TEMPLATE), str(tmp_path / "run.ipynb"), "--no-progress-bar"]
        + ["-p", "profile", "tiny", "-p", "depth", "2", "-p", "threads", "1", "-p", "output_dir", str(tmp_path / "r")]
        + ["-y", json.dumps({"overrides": {"ae_epochs": 1, "clf_epochs": 1}})],
        env=without_tensorflow,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert out.returncode == 0, out.stderr[-2000:]
    env = json.loads((tmp_path / "r" / "env.json").read_text())
    assert env["keras_backend"] == "jax" and env["backend_version"]
    metrics = json.loads((tmp_path / "r" / "metrics.json").read_text())
    assert metrics["cipher_max_error"] < 1e-5 and 0 <= metrics["auc"] <= 1


def test_the_epoch_benchmark_works_on_jax_without_tensorflow(without_tensorflow):
    out = subprocess.run(
        [sys.executable, str(paths.ROOT / "benchmarks" / "paper_epoch.py")]
        + ["--images", "32", "--size", "32", "--epochs", "2", "--depths", "2"],
        env=without_tensorflow,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert out.returncode == 0, out.stderr[-2000:]
    result = json.loads(out.stdout[out.stdout.index("{\n") :])
    assert result["backend"] == "jax" and result["runs"][0]["steady_epoch_seconds"] > 0
