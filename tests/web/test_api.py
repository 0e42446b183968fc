"""Every endpoint of the web API with FastAPI's TestClient, including bad requests."""

from __future__ import annotations

import time
from typing import Any

import pytest

pytest.importorskip("fastapi", reason="the web extra is not installed")
from fastapi.testclient import TestClient  # noqa: E402

from blackout.web import create_app  # noqa: E402
from blackout.web.models import MAX_ELEMENTS  # noqa: E402


@pytest.fixture(scope="module")
def client() -> TestClient:
    return TestClient(create_app(), raise_server_exceptions=False)


def _wait(client: TestClient, job: dict[str, Any], timeout_s: float = 60.0) -> dict[str, Any]:
    deadline = time.time() + timeout_s
    while time.time() < deadline:
        st = client.get(job["poll"]).json()
        if st["status"] in ("done", "failed"):
            return st
        time.sleep(0.2)
    raise AssertionError(f"run {job['id']} still {st['status']} after {timeout_s} s")


def test_lists_cases_and_scenarios(client: TestClient) -> None:
    cases = {c["name"] for c in client.get("/api/cases").json()["cases"]}
    assert {"case39", "venezuela2019"} <= cases
    scenarios = client.get("/api/scenarios").json()["scenarios"]
    assert any(s["case"] == "venezuela2019" for s in scenarios)
    assert all(s["description"] for s in scenarios)


def test_geometry_has_24_regions_and_element_ids(client: TestClient) -> None:
    fc = client.get("/api/cases/venezuela2019/geometry").json()
    assert fc["type"] == "FeatureCollection" and fc["properties"]["geographic"] is True
    layers: dict[str, list[dict[str, Any]]] = {}
    for f in fc["features"]:
        layers.setdefault(f["properties"]["layer"], []).append(f)
    assert len(layers["region"]) == 24
    assert sorted(f["properties"]["id"] for f in layers["branch"]) == list(
        range(len(layers["branch"])))
    guri = [f for f in layers["branch"] if f["properties"]["name"].startswith("Guri-Malena 765")]
    assert len(guri) == 3 and all(f["properties"]["vn_kv"] == 765 for f in guri)
    assert all(f["geometry"]["type"] == "LineString" for f in layers["branch"])


def test_unknown_case_is_404_with_a_hint(client: TestClient) -> None:
    r = client.get("/api/cases/venezuela/geometry")
    assert r.status_code == 404
    assert "unknown case 'venezuela'" in r.json()["error"]
    assert "venezuela2019" in r.json()["error"]
    # a path is never read, however it is spelled
    r = client.get("/api/cases/..%2Fetc%2Fpasswd/geometry")
    assert r.status_code == 404 and "Traceback" not in r.text


@pytest.mark.parametrize(("body", "status", "fragment"), [
    ({"case": "venezuela2019", "trips": [{"name": "Guri-Malena 765 kV"}]}, 422,
     "closest: Guri-Malena 765 kV"),
    ({"case": "venezuela2019", "trips": [{"kind": "gen", "id": 9999}]}, 422, "no gen with id"),
    ({"case": "nowhere", "trips": [{"id": 0}]}, 404, "unknown case 'nowhere'"),
    ({"case": "venezuela2019", "trips": [{"id": 0}] * (MAX_ELEMENTS + 1)}, 422,
     f"at most {MAX_ELEMENTS}"),
    ({"case": "venezuela2019", "trips": [{"id": 0}], "horizon_s": 1e6}, 422, "horizon_s"),
    ({"case": "venezuela2019", "trips": []}, 422, "trips"),
    ({"case": "venezuela2019", "trips": [{"id": 0, "name": "x"}]}, 422, "exactly one"),
    ({"case": "venezuela2019", "trips": [{"id": 0}], "shell": "rm"}, 422, "shell"),
    ({"case": "venezuela2019", "trips": [{"id": 0}], "derive_ratings": "1.3,x"}, 422,
     "derive_ratings expects K[,FLOOR_MVA]"),
])
def test_bad_run_requests_are_4xx_json(client: TestClient, body: dict[str, Any], status: int,
                                       fragment: str) -> None:
    r = client.post("/api/runs", json=body)
    assert r.status_code == status, r.text
    assert fragment in r.json()["error"]
    assert "Traceback" not in r.text


def test_oversized_body_is_413(client: TestClient) -> None:
    r = client.post("/api/runs", content=b"{" + b" " * 70_000 + b"}",
                    headers={"content-type": "application/json"})
    assert r.status_code == 413 and "larger than" in r.json()["error"]


def test_unknown_scenario_and_run_are_404(client: TestClient) -> None:
    r = client.post("/api/scenarios/no-such-thing/runs", json={})
    assert r.status_code == 404 and "unknown scenario" in r.json()["error"]
    r = client.post("/api/scenarios/venezuela-2019-03-07-fire/runs", json={"horizon_s": -1})
    assert r.status_code == 422
    assert client.get("/api/runs/feedbeef").status_code == 404
    assert client.get("/api/runs/feedbeef/report").status_code == 404


def test_trip_run_returns_frames_and_a_report(client: TestClient) -> None:
    r = client.post("/api/runs", json={"case": "venezuela2019",
                                       "trips": [{"name": "Guri-Malena 765 kV 1"}]})
    assert r.status_code == 202
    job = r.json()
    assert job["status"] in ("queued", "running") and job["poll"] == f"/api/runs/{job['id']}"
    st = _wait(client, job)
    assert st["status"] == "done", st.get("error")
    res = st["result"]
    first = res["events"][0]
    assert (first["element"], first["action"], first["cause"]) == (
        "Guri-Malena 765 kV 1", "trip", "user")
    frames = res["frames"]
    assert frames[0]["time_s"] <= frames[-1]["time_s"]
    assert len(frames[-1]["region_served_fraction"]) == 24
    assert first["element_id"] in frames[-1]["branches_out"]
    assert res["summary"]["regions_total"] == 24
    rep = client.get(st["report"])
    assert rep.status_code == 200 and rep.headers["content-type"].startswith("text/html")
    assert 'id="map"' in rep.text and "Guri-Malena 765 kV 1" in rep.text


def test_scenario_run_is_a_job(client: TestClient) -> None:
    r = client.post("/api/scenarios/ukraine-2015-style-case39/runs",
                    json={"mode": "dc", "horizon_s": 60})
    assert r.status_code == 202
    st = _wait(client, r.json())
    assert st["status"] == "done", st.get("error")
    assert st["result"]["scenario"]["name"] == "ukraine-2015-style-case39"
    assert st["result"]["events"]


def test_report_before_done_is_409(client: TestClient) -> None:
    job = client.post("/api/runs", json={"case": "case39", "trips": [{"id": 3}],
                                         "mode": "dc"}).json()
    r = client.get(f"/api/runs/{job['id']}/report")
    assert r.status_code in (200, 409)
    if r.status_code == 409:
        assert "no report yet" in r.json()["error"]
    _wait(client, job)


def test_page_and_maplibre_are_served_locally(client: TestClient) -> None:
    page = client.get("/")
    assert page.status_code == 200
    assert "/vendor/maplibre-gl.js" in page.text and "https://" not in page.text
    js = client.get("/vendor/maplibre-gl.js")
    assert js.status_code == 200 and "maplibregl" in js.text[:5000].lower() + js.text[-5000:]
    assert client.get("/vendor/other.js").status_code == 404
    for name in ("app.js", "map.js", "api.js", "chart.js", "style.css"):
        assert client.get(f"/static/{name}").status_code == 200
    spec = client.get("/openapi.json").json()
    assert {"/api/cases", "/api/runs", "/api/runs/{job_id}"} <= set(spec["paths"])
