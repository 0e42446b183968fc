"""Fixtures for the web tests: a `blackout serve` subprocess and Debian's chromium."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
CHROMIUM_ARGS = ["--no-sandbox", "--use-angle=swiftshader", "--enable-unsafe-swiftshader",
                 "--ignore-gpu-blocklist"]


def system_chromium() -> str | None:
    """Debian's chromium (Playwright's own browser download cannot work here)."""
    for name in ("chromium", "chromium-browser"):
        path = shutil.which(name)
        if path:
            return path
    return None


# module scope: Playwright's sync API cannot run two instances at once
@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    path = system_chromium()
    if path is None:
        pytest.skip("Debian's chromium is not installed (apt-get install -y chromium)")
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright not installed")
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=path, args=CHROMIUM_ARGS)
        yield b
        b.close()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="session")
def server(server_process: subprocess.Popen[bytes]) -> str:
    """`blackout serve` on 127.0.0.1 and a free port: its base URL."""
    return str(server_process.url)  # type: ignore[attr-defined]


@pytest.fixture(scope="session")
def server_process() -> Iterator[subprocess.Popen[bytes]]:
    """`blackout serve` on 127.0.0.1 and a free port; the process, with ``.url`` set."""
    port = _free_port()
    exe = Path(sys.executable).parent / "blackout"
    cmd = [str(exe)] if exe.exists() else [sys.executable, "-c",
                                           "from blackout.cli import main; main()"]
    proc = subprocess.Popen([*cmd, "serve", "--port", str(port)], stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, env={**os.environ, "NO_COLOR": "1"})
    url = f"http://127.0.0.1:{port}"
    deadline = time.time() + 60
    while True:
        try:
            with urllib.request.urlopen(url + "/api/cases", timeout=2) as r:
                if r.status == 200:
                    break
        except OSError:
            if proc.poll() is not None or time.time() > deadline:
                err = proc.stderr.read().decode() if proc.stderr else ""
                proc.kill()
                proc.wait()
                if proc.stderr is not None:
                    proc.stderr.close()
                pytest.fail(f"blackout serve did not start: {err[-2000:]}")
            time.sleep(0.3)
    proc.url = url  # type: ignore[attr-defined]
    yield proc
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
    if proc.stderr is not None:  # warnings are errors: no pipe left for the GC to find
        proc.stderr.close()
