"""Warm kernels: a worker runs its runs one after another in one Jupyter kernel, so that the kernel's launch and
the import of TensorFlow and Keras (about 7 s a run on 2 cores) are paid once per worker, not once per run.

Before each run the kernel is made to look like a fresh one (`runtime.begin_run`: IPython's namespace reset,
Keras's session cleared, the run's own working folder, log and clock); `tests/test_warm_kernels.py` shows that a
run's numbers are then bit-for-bit those of the same run in a fresh kernel, which is the condition the design
sets for a warm worker. A kernel that died (a run out of memory) is replaced by a fresh one for the next run; a
kernel is shut down with its worker (and, through ipykernel's parent poller, when its worker is killed).

One kernel per thread count: the first run's `runtime.configure` fixes the kernel's thread pools. With the
environment variable AECRYPT_FRESH_KERNELS=1 every run gets a kernel of its own, as before warm kernels
(`make bench-stages` times both).
"""

from __future__ import annotations

import atexit
import multiprocessing.util
import os
import tempfile

from jupyter_client.asynchronous import AsyncKernelClient
from jupyter_client.manager import AsyncKernelManager
from jupyter_core.utils import run_sync

#: The kernel's C-level output (TensorFlow's start-up log) goes to the run's kernel.log, not into its notebook.
KERNEL_ARGUMENTS = ["--IPKernelApp.capture_fd_output=False"]
#: Seconds a reset may take before the kernel is counted as dead.
RESET_TIMEOUT = 120


#: Set to 1: a fresh kernel for every run.
FRESH = "AECRYPT_FRESH_KERNELS"


def wanted() -> bool:
    """Whether runs go to warm kernels (unless AECRYPT_FRESH_KERNELS=1)."""
    return os.environ.get(FRESH, "") not in ("1", "true", "yes")


class _Client(AsyncKernelClient):
    """A client whose channels, once started, stay started: nbclient starts them for every notebook it runs."""

    def start_channels(self, *args, **kwargs) -> None:
        if not self.channels_running:
            super().start_channels(*args, **kwargs)


class WarmKernel(AsyncKernelManager):
    """A kernel manager that hands out one client for the kernel's life (nbclient asks for one per notebook)."""

    def __init__(self):
        home = tempfile.TemporaryDirectory(prefix="aecrypt-kernel-")
        # IPC sockets in a folder of its own: no TCP port, not even on loopback, for a kernel only this worker uses
        super().__init__(
            kernel_name="python3", client_class="aecrypt.runs.kernels._Client", transport="ipc", ip=f"{home.name}/ipc"
        )
        self._warm_client: _Client | None = None
        self.home = home

    def client(self, **kwargs) -> _Client:
        if self._warm_client is None:
            self._warm_client = super().client(**kwargs)
        return self._warm_client

    def begin_run(self, cwd: str, log: str, started: float) -> None:
        """Reset the kernel for the next run (see the module's docstring); raises RuntimeError if it cannot."""
        client = self.client()
        client.start_channels()
        run_sync(client.wait_for_ready)(timeout=RESET_TIMEOUT)
        code = (  # into the run's folder first: the last run's is gone, and %reset reads the working folder
            f"__import__('os').chdir({cwd!r})\n"
            'get_ipython().run_line_magic("reset", "-f")\n'
            "from aecrypt import runtime as _runtime\n"
            f"_runtime.begin_run({cwd!r}, {log!r}, {started!r})\n"
            "del _runtime\n"
        )
        reply = run_sync(client.execute_interactive)(code, timeout=RESET_TIMEOUT, output_hook=lambda msg: None)
        if reply["content"]["status"] != "ok":
            content = reply["content"]
            raise RuntimeError(f"could not reset the kernel: {content.get('ename')}: {content.get('evalue')}")

    def close(self) -> None:
        if self._warm_client is not None:
            self._warm_client.stop_channels()
        if self.has_kernel:
            run_sync(self.shutdown_kernel)(now=True)
        self.home.cleanup()


_KERNELS: dict[int, WarmKernel] = {}


def kernel(threads: int) -> WarmKernel:
    """This worker's kernel for runs of `threads` threads, started if there is none or the last one died."""
    warm = _KERNELS.get(threads)
    if warm is not None and not run_sync(warm.is_alive)():
        warm.close()
        warm = None
    if warm is None:
        warm = WarmKernel()
        run_sync(warm.start_kernel)(extra_arguments=KERNEL_ARGUMENTS, cwd=warm.home.name)
        _KERNELS[threads] = warm
    return warm


def discard(threads: int) -> None:
    """Shut this worker's kernel for `threads` down (after a run that left it in doubt)."""
    if (warm := _KERNELS.pop(threads, None)) is not None:
        warm.close()


def _close_all() -> None:
    for threads in list(_KERNELS):
        discard(threads)


atexit.register(_close_all)
multiprocessing.util.Finalize(None, _close_all, exitpriority=0)  # a forked worker leaves without atexit
