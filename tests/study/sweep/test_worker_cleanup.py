"""A sweep's worker processes die with the main process, even one killed with SIGKILL
(issue 24): nothing of the sweep stays alive holding its stdout open."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from blackout.study.sweep.executors import WORKER_NAME

SCENARIO = Path(__file__).parents[2] / "data" / "scenarios" / "sweep-case118-dc.yaml"

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"),
                                reason="reads the process table from /proc")


def _group(pgid: int) -> dict[int, str]:
    """Live (not zombie) processes of process group ``pgid``: pid -> name."""
    out = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            name, rest = (entry / "stat").read_text().rsplit(")", 1)
        except OSError:
            continue
        fields = rest.split()
        if int(fields[2]) == pgid and fields[0] != "Z":
            out[int(entry.name)] = name.split("(", 1)[1]
    return out


def _wait(condition, timeout_s: float) -> bool:  # type: ignore[no-untyped-def]
    end = time.monotonic() + timeout_s
    while time.monotonic() < end:
        if condition():
            return True
        time.sleep(0.1)
    return bool(condition())


def test_sigkill_of_a_sweep_leaves_no_process_and_closes_its_output(tmp_path: Path) -> None:
    blackout = Path(sys.executable).parent / "blackout"
    cmd = [str(blackout), "sweep", str(SCENARIO), "--trials", "100000", "--out",
           str(tmp_path / "s"), "--workers", "2", "--random-outages", "1",
           "--derive-ratings", "1.5", "--chunk-size", "1"]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            start_new_session=True)  # its own process group
    try:
        # both workers started and armed their guard (they rename themselves)
        started = _wait(lambda: list(_group(proc.pid).values()).count(
            WORKER_NAME.decode()[:15]) >= 2, 240.0)
        assert started, f"workers did not start: {_group(proc.pid)}"
        assert len(_group(proc.pid)) >= 3  # main, 2 workers (+ the resource tracker)
        os.kill(proc.pid, signal.SIGKILL)
        t0 = time.monotonic()
        assert _wait(lambda: not _group(proc.pid), 10.0), \
            f"alive 10 s after the kill: {_group(proc.pid)}"
        assert proc.stdout is not None
        fd = proc.stdout.fileno()
        os.set_blocking(fd, False)

        def end_of_file() -> bool:  # nobody holds the pipe's write end any more
            try:
                return os.read(fd, 1 << 16) == b""
            except BlockingIOError:
                return False

        assert _wait(end_of_file, max(0.0, 10.0 - (time.monotonic() - t0)))
    finally:
        for pid in _group(proc.pid):
            os.kill(pid, signal.SIGKILL)
        proc.wait()
        if proc.stdout is not None:
            proc.stdout.close()
