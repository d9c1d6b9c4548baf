"""Warm kernels: a worker runs its runs one after another in one Jupyter kernel, so that the kernel's launch and
the import of TensorFlow and Keras (about 7 s a run on 2 cores) are paid once per worker, not once per run. The
book's pages do the same in each of the processes Sphinx reads them in (`page_kernel`): a kernel's launch and
the pages' imports (about 2 s a page) are paid once per process, not once per page.

Before each run the kernel is made to look like a fresh one (`runtime.begin_run`: IPython's namespace reset,
Keras's session cleared, the run's own working folder, log and clock); `tests/test_warm_kernels.py` shows that a
run's numbers are then bit-for-bit those of the same run in a fresh kernel, which is the condition the design
sets for a warm worker. A page's kernel is reset the same way; the same tests show that a page sees nothing of
the one before it and gives what it gives in a fresh kernel. A kernel that died (a run out of memory) is replaced
by a fresh one for the next run or page; a kernel is shut down with its process (and, through ipykernel's parent
poller, when its process is killed).

One kernel per thread count: the first run's `runtime.configure` fixes the kernel's thread pools. With the
environment variable AECRYPT_FRESH_KERNELS=1 every run and every page gets a kernel of its own, as before warm
kernels (`make bench-stages` times both for runs).
"""

from __future__ import annotations

import atexit
import multiprocessing.util
import os
import tempfile
from collections.abc import Callable

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

    def reset(self, cwd: str, then: str = "") -> None:
        """Make the kernel look like a fresh one working in `cwd` (IPython's namespace reset), then run the code
        `then`; raises RuntimeError if it cannot."""
        client = self.client()
        client.start_channels()
        run_sync(client.wait_for_ready)(timeout=RESET_TIMEOUT)
        # into the new folder first: the last one may be gone, and a reset reads the working folder; a new history
        # session numbers the cells from 1 again, as in a fresh kernel (this cell, kept out of history, is none)
        code = f"__import__('os').chdir({cwd!r})\nget_ipython().reset(new_session=True)\n{then}"
        reply = run_sync(client.execute_interactive)(
            code, store_history=False, timeout=RESET_TIMEOUT, output_hook=lambda msg: None
        )
        if reply["content"]["status"] != "ok":
            content = reply["content"]
            raise RuntimeError(f"could not reset the kernel: {content.get('ename')}: {content.get('evalue')}")

    def begin_run(self, cwd: str, log: str, started: float) -> None:
        """Reset the kernel for the next run (see the module's docstring); raises RuntimeError if it cannot."""
        self.reset(
            cwd,
            "from aecrypt import runtime as _runtime\n"
            f"_runtime.begin_run({cwd!r}, {log!r}, {started!r})\n"
            "del _runtime\n",
        )

    def close(self) -> None:
        if self._warm_client is not None:
            self._warm_client.stop_channels()
        if self.has_kernel:
            run_sync(self.shutdown_kernel)(now=True)
        self.home.cleanup()


_KERNELS: dict[int | str, WarmKernel] = {}
PAGES = "pages"  # the key of the book's pages' kernel


def kernel(key: int | str) -> WarmKernel:
    """This process's kernel for `key` (a run's thread count; PAGES for the book's pages), started if there is
    none or the last one died. A page's kernel captures C-level output into the page, as the kernel nbclient would
    start for it does; a run's sends it to the run's kernel.log."""
    warm = _KERNELS.get(key)
    if warm is not None and not run_sync(warm.is_alive)():
        warm.close()
        warm = None
    if warm is None:
        _close_with_process()
        warm = WarmKernel()
        arguments = [] if key == PAGES else KERNEL_ARGUMENTS
        run_sync(warm.start_kernel)(extra_arguments=arguments, cwd=warm.home.name)
        _KERNELS[key] = warm
    return warm


def discard(key: int | str) -> None:
    """Shut this process's kernel for `key` down (after a run or page that left it in doubt)."""
    if (warm := _KERNELS.pop(key, None)) is not None:
        warm.close()


def ready(key: int | str, reset: Callable[[WarmKernel], None]) -> WarmKernel:
    """This process's kernel for `key`, `reset` for what comes next; a kernel that cannot be reset is replaced once
    by a fresh one (whose reset may then raise)."""
    for attempt in range(2):
        warm = kernel(key)
        try:
            reset(warm)
            return warm
        except Exception:
            discard(key)
            if attempt:
                raise
    raise AssertionError("unreachable")


def page_kernel(cwd: str) -> WarmKernel:
    """This process's kernel for the book's pages, reset for a page that runs in `cwd` (the inline backend closes a
    page's figures after each cell, so none is left for the next)."""
    return ready(PAGES, lambda warm: warm.reset(cwd))


def _close_all() -> None:
    for threads in list(_KERNELS):
        discard(threads)


_FINALIZED: set[int] = set()


def _close_with_process() -> None:
    """Shut this process's kernels down when it leaves: atexit for a process that ends normally, and a
    multiprocessing finalizer for a forked one (it leaves without atexit, and skips a finalizer its parent
    registered), so each process registers its own."""
    if os.getpid() not in _FINALIZED:
        _FINALIZED.add(os.getpid())
        multiprocessing.util.Finalize(None, _close_all, exitpriority=0)


atexit.register(_close_all)
