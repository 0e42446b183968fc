"""The server's bounds (issue 24): the body limit on the bytes received (chunked too),
one rendering per report counted against the job limit, error codes in the OpenAPI,
``Allow`` on a 405."""

from __future__ import annotations

import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlparse

import pytest

pytest.importorskip("fastapi", reason="the web extra is not installed")
from fastapi.testclient import TestClient  # noqa: E402

from blackout.web import create_app  # noqa: E402
from blackout.web.models import MAX_BODY_BYTES  # noqa: E402

MB = 1 << 20


@pytest.fixture
def client() -> TestClient:
    return TestClient(create_app(), raise_server_exceptions=False)


def _done(client: TestClient, job: dict[str, Any], timeout_s: float = 60.0) -> dict[str, Any]:
    end = time.time() + timeout_s
    while time.time() < end:
        st = client.get(job["poll"]).json()
        if st["status"] in ("done", "failed"):
            assert st["status"] == "done", st.get("error")
            return st
        time.sleep(0.1)
    raise AssertionError(f"run {job['id']} not done after {timeout_s} s")


def _small_run(client: TestClient) -> dict[str, Any]:
    r = client.post("/api/runs", json={"case": "case39", "trips": [{"id": 3}], "mode": "dc",
                                       "horizon_s": 30})
    assert r.status_code == 202, r.text
    return _done(client, r.json())


# ---------------------------------------------------------------------------- body limit
def test_a_chunked_body_over_the_limit_is_413(client: TestClient) -> None:
    """(The test client reads the whole generator itself; that the server stops reading
    is shown against a real server below.)"""

    def one_megabyte() -> Iterator[bytes]:  # no Content-Length: sent chunked
        for _ in range(64):
            yield b" " * (16 * 1024)

    r = client.post("/api/runs", content=one_megabyte(),
                    headers={"content-type": "application/json"})
    assert r.status_code == 413
    assert r.json() == {"error": f"request body larger than {MAX_BODY_BYTES} bytes",
                        "status": 413}


def test_a_chunked_valid_body_over_the_limit_is_413(client: TestClient) -> None:
    """A well-formed request padded past the limit is refused too (it used to be 202)."""
    body = b'{"case": "case39", "trips": [{"id": 3}]' + b" " * (300 * 1024) + b"}"
    r = client.post("/api/runs", content=iter([body[:1000], body[1000:]]),
                    headers={"content-type": "application/json"})
    assert r.status_code == 413


def test_a_declared_length_over_the_limit_is_413_and_a_small_body_passes(
        client: TestClient) -> None:
    r = client.post("/api/runs", content=b"{" + b" " * 70_000 + b"}",
                    headers={"content-type": "application/json"})
    assert r.status_code == 413
    r = client.post("/api/runs", content=b"{}", headers={"content-length": "x",
                                                         "content-type": "application/json"})
    assert r.status_code == 413
    chunks = iter([b'{"case": "case39", ', b'"trips": [{"id": 3}], "mode": "dc", ',
                   b'"horizon_s": 30}'])
    r = client.post("/api/runs", content=chunks, headers={"content-type": "application/json"})
    assert r.status_code == 202, r.text


def _rss_kb(pid: int) -> int:
    with open(f"/proc/{pid}/status") as fh:
        return int(next(line for line in fh if line.startswith("VmRSS:")).split()[1])


def _chunked_post(url: str, total_bytes: int) -> tuple[int, int]:
    """POST ``total_bytes`` to /api/runs chunked over a raw socket until the server
    answers or closes; (HTTP status, bytes sent)."""
    u = urlparse(url)
    sock = socket.create_connection((u.hostname, u.port), timeout=30)
    sock.sendall(b"POST /api/runs HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                 b"Transfer-Encoding: chunked\r\n\r\n")
    chunk = b" " * 65536
    frame = memoryview(b"%x\r\n" % len(chunk) + chunk + b"\r\n")
    sent, offset = 0, 0  # whole chunks sent; position in the current frame
    sock.setblocking(False)
    reply = b""
    try:
        while sent < total_bytes and not reply:
            try:
                offset += sock.send(frame[offset:])
                if offset == len(frame):
                    sent, offset = sent + len(chunk), 0
            except (BlockingIOError, InterruptedError):
                time.sleep(0.005)
            except (BrokenPipeError, ConnectionResetError):
                break
            try:  # the answer may come while the client is still sending
                reply = sock.recv(4096)
            except BlockingIOError:
                pass
        sock.setblocking(True)
        sock.settimeout(30)
        while not reply.count(b"\r\n\r\n"):
            part = sock.recv(4096)
            if not part:
                break
            reply += part
    except (BrokenPipeError, ConnectionResetError):
        pass
    finally:
        sock.close()
    status = int(reply.split(b" ", 2)[1]) if reply.startswith(b"HTTP/1.1 ") else -1
    return status, sent


@pytest.mark.skipif(not hasattr(socket, "AF_UNIX"), reason="reads /proc")
def test_the_server_refuses_chunked_megabytes_with_flat_memory(
        server_process: subprocess.Popen[bytes]) -> None:
    url = server_process.url  # type: ignore[attr-defined]
    status, _ = _chunked_post(url, 1 * MB)
    assert status == 413
    before = _rss_kb(server_process.pid)
    for _ in range(3):
        status, sent = _chunked_post(url, 32 * MB)
        assert status == 413
        assert sent < 32 * MB  # the server stopped reading long before the end
    grown_kb = _rss_kb(server_process.pid) - before
    assert grown_kb < 8 * 1024, f"server memory grew by {grown_kb} KiB"


# ---------------------------------------------------------------------------- reports
def test_a_report_requested_twice_is_rendered_once(
        client: TestClient, monkeypatch: pytest.MonkeyPatch) -> None:
    import blackout.report as report

    calls = []
    real = report.render_report

    def counted(*args: Any, **kwargs: Any) -> str:
        calls.append(1)
        time.sleep(0.3)  # let a concurrent request arrive while this one renders
        return real(*args, **kwargs)

    monkeypatch.setattr(report, "render_report", counted)
    st = _small_run(client)
    texts: list[str] = []

    def get() -> None:
        r = client.get(st["report"])
        assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
        texts.append(r.text)

    threads = [threading.Thread(target=get) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    get()
    assert len(calls) == 1
    assert len(texts) == 3 and texts[0] == texts[1] == texts[2] and 'id="map"' in texts[0]
    r = client.get(st["report"], headers={"accept-encoding": "gzip"})
    assert r.headers.get("content-encoding") == "gzip" and r.text == texts[0]


def test_report_rendering_counts_against_the_job_limit(
        client: TestClient, monkeypatch: pytest.MonkeyPatch) -> None:
    import blackout.report as report

    st = _small_run(client)
    jobs = client.app.state.jobs  # type: ignore[attr-defined]
    jobs.max_pending = 1
    rendering, release = threading.Event(), threading.Event()
    real = report.render_report

    def slow(*args: Any, **kwargs: Any) -> str:
        rendering.set()
        release.wait(30)
        return real(*args, **kwargs)

    monkeypatch.setattr(report, "render_report", slow)
    first: list[int] = []
    t = threading.Thread(target=lambda: first.append(client.get(st["report"]).status_code))
    t.start()
    try:
        assert rendering.wait(30)
        r = client.post("/api/runs", json={"case": "case39", "trips": [{"id": 3}]})
        assert r.status_code == 429, r.text
        other = client.post("/api/runs", json={"case": "case39", "trips": [{"id": 4}]})
        assert other.status_code == 429
    finally:
        release.set()
        t.join()
    assert first == [200]
    assert client.post("/api/runs", json={"case": "case39", "trips": [{"id": 3}],
                                          "mode": "dc", "horizon_s": 30}).status_code == 202


# ---------------------------------------------------------------------------- API shape
def test_openapi_lists_the_error_codes(client: TestClient) -> None:
    paths = client.get("/openapi.json").json()["paths"]

    def codes(path: str, method: str) -> set[str]:
        return set(paths[path][method]["responses"])

    assert {"404", "413", "422", "429"} <= codes("/api/runs", "post")
    assert {"404", "413", "422", "429"} <= codes("/api/scenarios/{name}/runs", "post")
    assert {"404"} <= codes("/api/runs/{job_id}", "get")
    assert {"404", "409", "429"} <= codes("/api/runs/{job_id}/report", "get")
    assert {"404"} <= codes("/api/cases/{case}/geometry", "get")
    schema = paths["/api/runs"]["post"]["responses"]["413"]["content"]["application/json"]
    assert schema["schema"]["$ref"].endswith("/ErrorBody")


def test_405_carries_allow(client: TestClient) -> None:
    r = client.put("/api/runs", json={})
    assert r.status_code == 405 and r.headers["allow"] == "POST"
    assert r.json()["status"] == 405
    r = client.delete("/api/runs/feedbeef")
    assert r.status_code == 405 and r.headers["allow"] == "GET"
