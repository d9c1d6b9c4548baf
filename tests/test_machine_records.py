"""Machine records (benchmarks/stamp.py): a quick record of the machine, once measured, is taken from this user's
machine records by a fresh clone, another profile or another data set on the same machine and libraries, and is
measured again when the machine, a library or the benchmark's code changes."""

from __future__ import annotations

import json
import sys
from importlib import metadata

import pytest

from aecrypt import paths

sys.path.insert(0, str(paths.ROOT / "benchmarks"))
import stamp  # noqa: E402


def _record(path, key: str, value: float) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"key": key, "value": value}))


def test_a_machine_record_is_taken_by_another_clone_and_measured_again_when_its_key_changes(tmp_path):
    key = stamp.key(("run.py", "stamp.py"), "AMD EPYC (2 cores; avx2 fma)", stamp.environment())
    first = tmp_path / "clone-a" / "results" / "bench.json"
    assert not stamp.current(first, key)  # nothing measured yet on this machine
    _record(first, key, 57.0)
    stamp.keep(first, key)
    other = tmp_path / "clone-b" / "results" / "bench.json"
    assert stamp.current(other, key)
    assert json.loads(other.read_text()) == {"key": key, "value": 57.0}
    another_cpu = stamp.key(("run.py", "stamp.py"), "Intel Xeon (2 cores; avx2 fma avx512f)", stamp.environment())
    assert not stamp.current(tmp_path / "clone-c" / "bench.json", another_cpu)
    edited = stamp.key(("run.py", "measure.py", "stamp.py"), "AMD EPYC (2 cores; avx2 fma)", stamp.environment())
    assert edited != key and not stamp.current(tmp_path / "clone-d" / "bench.json", edited)


def test_a_new_library_version_is_a_new_environment(monkeypatch):
    before = stamp.environment()
    real = metadata.version

    def newer(name: str) -> str:
        return "99.0" if name == "tensorflow" else real(name)

    monkeypatch.setattr(stamp.metadata, "version", newer)
    assert stamp.environment() != before and "tensorflow 99.0" in stamp.environment()


@pytest.mark.parametrize("script", ["run.py", "link.py"])
def test_the_quick_machine_records_are_kept_and_taken_from_this_machines_records(script):
    text = (paths.ROOT / "benchmarks" / script).read_text()
    assert "stamp.current(out, record_key)" in text and "stamp.keep(out, record_key)" in text
    assert "stamp.environment()" in text and "run_id)" not in text.split("record_key = ")[1].split("\n")[0]


def test_an_edit_to_the_code_a_record_measures_measures_it_again_and_an_edit_elsewhere_does_not(package_copy):
    """Before: a record's key hashed the benchmark script's bytes only, so the link record survived an edit to the
    packets it times. Now the key covers the aecrypt code the script reaches (`closure.code_key`), by definition."""
    key = stamp.key(("link.py", "stamp.py"), "a machine")
    page = package_copy / "book" / "pages" / "claims.py"  # the link benchmark imports no page
    page.write_text(page.read_text() + "\nprint(end='')\n")  # a statement its import would run
    assert stamp.key(("link.py", "stamp.py"), "a machine") == key
    packets_py = package_copy / "link" / "packets.py"
    text = packets_py.read_text()
    anchor = "def check_fresh(header: Header, now_ns: int | None = None) -> None:\n"
    body = text.index('"""', text.index('"""', text.index(anchor)) + 3) + 3  # after check_fresh's docstring
    packets_py.write_text(text[:body] + "\n    _probe = 1" + text[body:])
    assert stamp.key(("link.py", "stamp.py"), "a machine") != key


def test_the_quick_performance_records_measurements_share_one_process_and_each_keeps_its_own_result():
    import run

    small = [["peak", "--n", "64", "--repeats", "1"], ["peak", "--n", "32", "--repeats", "1"]]
    first, second = run.measure_together(small)
    assert (first["n"], second["n"]) == (64, 32) and first["gflops"] > 0 and second["gflops"] > 0
    # a measurement the process refuses: every one of them says why, none is lost from the list
    refused = run.measure_together([["peak", "--n", "64"], ["peak", "--threads", "1"]])
    assert len(refused) == 2 and all("share its threads" in r["error"] for r in refused)


def test_a_timing_waits_for_the_steps_beside_it_and_a_step_beside_keeps_its_status(tmp_path, monkeypatch):
    """make book runs the steps that time nothing beside the compression step, each holding a lock shared
    (benchmarks/beside.py); the compression step times its latencies only once none is left (latency.alone)."""
    import fcntl
    import subprocess
    import threading
    import time

    from aecrypt.compression import latency

    lock = tmp_path / "quiet.lock"
    waits = "import sys; sys.stdin.read(); sys.exit(3)"  # runs until told to end, then fails with 3
    beside = subprocess.Popen(
        [sys.executable, str(paths.ROOT / "benchmarks" / "beside.py"), str(lock), "--", sys.executable, "-c", waits],
        stdin=subprocess.PIPE,
    )
    deadline = time.monotonic() + 30
    while True:  # until the step beside holds the lock
        with open(lock, "a") as probe:
            try:
                fcntl.flock(probe, fcntl.LOCK_EX | fcntl.LOCK_NB)
                fcntl.flock(probe, fcntl.LOCK_UN)
            except BlockingIOError:
                break
        assert time.monotonic() < deadline, "beside.py never took the lock"
        time.sleep(0.01)
    monkeypatch.setenv(latency.QUIET_LOCK, str(lock))
    timing = threading.Event()

    def time_alone():
        with latency.alone():
            timing.set()

    thread = threading.Thread(target=time_alone)
    thread.start()
    assert not timing.wait(0.5)  # the step beside is still running: no timing yet
    beside.communicate(b"")  # it ends
    thread.join(30)
    assert timing.is_set() and beside.returncode == 3  # timed once it had gone; its status is the command's
    monkeypatch.delenv(latency.QUIET_LOCK)
    with latency.alone() as waited:  # where make book set no lock, a timing starts at once
        assert waited == 0.0
