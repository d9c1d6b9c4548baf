"""Process-level settings that must be made before Keras is imported: threads and determinism."""

from __future__ import annotations

import contextlib
import os
import platform
import sys


def configure(threads: int | None = None, deterministic: bool = True) -> None:
    """Call before `import keras`. `threads` caps intra-op threads so parallel runs do not
    oversubscribe the cores; determinism makes the same run give identical metrics on CPU."""
    if threads:
        for var in ("OMP_NUM_THREADS", "TF_NUM_INTRAOP_THREADS"):
            os.environ[var] = str(threads)
        os.environ.setdefault("TF_NUM_INTEROP_THREADS", "1")
    if deterministic:
        os.environ.setdefault("TF_DETERMINISTIC_OPS", "1")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # keep run notebooks readable
    os.environ.setdefault("KERAS_BACKEND", "tensorflow")


@contextlib.contextmanager
def stderr_to(path: str | os.PathLike):
    """Send this process's file descriptor 2 (and so a child's, which inherits it) to a file: where C
    libraries write. TensorFlow's C++ start-up lines (absl: oneDNN, CUDA) ignore TF_CPP_MIN_LOG_LEVEL, so a
    command-line tool sends them to os.devnull while Keras loads. Python exceptions still propagate."""
    sys.stderr.flush()
    saved = os.dup(2)
    with open(path, "wb") as target:
        os.dup2(target.fileno(), 2)
        try:
            yield
        finally:
            sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)


#: Set by `begin_run` in a kernel that runs several runs one after another: when this run began (time.time()).
RUN_STARTED = "AECRYPT_RUN_STARTED"
_saved_stderr: int | None = None


_frozen = False


def _freeze_survivors() -> None:
    """Collect, then put what survives out of the garbage collector's sight (`gc.freeze`): its later full passes
    scan only what is made afterwards, not the half-million objects of TensorFlow's, Keras's and aecrypt's
    modules (0.4 s a pass)."""
    import gc

    gc.collect()
    gc.freeze()


def freeze_imports() -> None:
    """Once per process, after its heavy imports: `_freeze_survivors`. A run's kernel does the same at every
    reset (`begin_run`)."""
    global _frozen
    if not _frozen:
        _freeze_survivors()
        _frozen = True


def begin_run(cwd: str, log: str, started: float) -> None:
    """Make a kernel that has run another run look to the next one as a fresh kernel would (`runs.kernels`):
    the working folder, file descriptor 2 to the run's `log` (or back to the kernel's own where `log` is
    empty), the start time the run's clock measures from, the peak-memory mark, and nothing of Keras's or
    Matplotlib's state left from the run before; the run before's garbage is collected and what survives it
    frozen (`gc.freeze`). The user namespace is reset by the caller (IPython's %reset), which this module cannot
    reach."""
    global _saved_stderr

    os.chdir(cwd)
    if _saved_stderr is None:
        _saved_stderr = os.dup(2)
    sys.stderr.flush()
    if log:
        fd = os.open(log, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        os.dup2(fd, 2)
        os.close(fd)
    else:
        os.dup2(_saved_stderr, 2)
    os.environ[RUN_STARTED] = repr(started)
    reset_peak_memory()
    if "keras" in sys.modules:
        sys.modules["keras"].backend.clear_session()
    if "matplotlib.pyplot" in sys.modules:
        sys.modules["matplotlib.pyplot"].close("all")
    # what survives is the kernel's own: the next reset's three full collections (IPython's %reset, Keras's
    # clear_session, this one) and a run's own then scan only what the runs made since
    _freeze_survivors()


def run_started() -> float:
    """When this run began (time.time()): set by `begin_run` in a reused kernel, else this process's start."""
    if started := os.environ.get(RUN_STARTED):
        return float(started)
    import psutil

    return psutil.Process().create_time()


_CLEAR_REFS, _STATUS = "/proc/self/clear_refs", "/proc/self/status"


def reset_peak_memory() -> None:
    """Start the peak-memory mark again from the current resident size (Linux: "5" into clear_refs resets
    VmHWM); elsewhere nothing, and the peak stays the process's."""
    try:
        with open(_CLEAR_REFS, "w") as f:
            f.write("5")
    except OSError:
        pass


def peak_memory_mb() -> float:
    """The peak resident memory since the last `reset_peak_memory` (Linux: VmHWM) or since the process began
    (resource's ru_maxrss: KiB on Linux, bytes on macOS), in MiB; where neither exists, the current size."""
    try:
        with open(_STATUS) as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    try:
        import resource
    except ImportError:  # Windows
        import psutil

        return psutil.Process().memory_info().rss / 2**20
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / 2**20 if sys.platform == "darwin" else peak / 1024


VECTOR_FLAGS = ("avx2", "fma", "avx512f", "avx512_bf16", "amx_bf16", "amx_tile")


def cpu_info() -> dict:
    """CPU model, cores, the vector extensions the runs can use, and any instruction-set limit in force
    (recorded in env.json and by `make bench`; deliberately not part of a run's id)."""
    model, flags = platform.processor() or platform.machine(), set()
    cpuinfo = "/proc/cpuinfo"
    if os.path.isfile(cpuinfo):
        with open(cpuinfo) as f:
            for line in f:
                key, _, value = line.partition(":")
                if key.strip() == "model name":
                    model = value.strip()
                elif key.strip() == "flags":
                    flags = set(value.split())
    limit = os.environ.get("ONEDNN_MAX_CPU_ISA", "")
    return {
        "model": model,
        "cores": os.cpu_count(),
        "vector_extensions": [f for f in VECTOR_FLAGS if f in flags],
        "isa_limit": limit or "none",
        "xla_flags": os.environ.get("XLA_FLAGS", ""),
        # bf16 needs AVX512_BF16 (or AMX) and no limit below AVX-512
        "bf16": ("avx512_bf16" in flags or "amx_bf16" in flags) and (not limit or "AVX512" in limit.upper()),
    }


def cpu_line(cpu: dict) -> str:
    """One CPU as the project names it beside every timing: model, cores, vector extensions and any
    instruction-set limit, e.g. "AMD EPYC (2 cores; avx2 fma avx512f; limited to AVX2)"."""
    limit = cpu.get("isa_limit", "none")
    extensions = " ".join(cpu.get("vector_extensions", [])) or "no AVX"
    limited = "" if limit == "none" else f"; limited to {limit}"
    return f"{cpu['model']} ({cpu['cores']} cores; {extensions}{limited})"


def describe() -> dict:
    """Versions, backend and hardware of this process (written to each run's env.json)."""
    import keras
    import numpy
    import sklearn

    from aecrypt import __version__

    info = {
        "aecrypt": __version__,
        "python": sys.version.split()[0],
        "keras": keras.__version__,
        "keras_backend": keras.backend.backend(),
        "numpy": numpy.__version__,
        "scikit_learn": sklearn.__version__,
        "platform": platform.platform(),
        "machine": platform.machine(),
        "processor": platform.processor() or platform.machine(),
        "cpu_count": os.cpu_count(),
        "threads": os.environ.get("TF_NUM_INTRAOP_THREADS") or os.environ.get("OMP_NUM_THREADS") or "all",
        "deterministic": os.environ.get("TF_DETERMINISTIC_OPS") == "1",
        "cpu": cpu_info(),
    }
    backend = info["keras_backend"]
    try:
        if backend == "tensorflow":
            import tensorflow as tf

            info["backend_version"] = tf.__version__
            info["accelerators"] = [d.name for d in tf.config.list_physical_devices("GPU")]
        elif backend == "jax":
            import jax

            info["backend_version"] = jax.__version__
            info["accelerators"] = [str(d) for d in jax.devices() if d.platform != "cpu"]
        elif backend == "torch":
            import torch

            info["backend_version"] = torch.__version__
            info["accelerators"] = [torch.cuda.get_device_name(0)] if torch.cuda.is_available() else []
    except Exception as exc:  # describing the hardware must never fail a run
        info["accelerators_error"] = repr(exc)
    return info
