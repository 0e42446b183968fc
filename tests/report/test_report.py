"""The report's data, figures and HTML, and `blackout report` end to end (no browser)."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from typer.testing import CliRunner

import blackout
from blackout.cli import app, commands  # noqa: F401  (registers the commands)
from blackout.errors import BlackoutError
from blackout.report import case_geojson, read_sweep, sweep_view, view_data, write_report
from blackout.report.figures import waterfall_figure

runner = CliRunner()


def test_case_geojson_of_venezuela(venezuela: blackout.Grid) -> None:
    fc = case_geojson(venezuela)
    regions = [f for f in fc["features"] if f["properties"]["layer"] == "region"]
    assert len(regions) == 24
    assert {f["properties"]["code"] for f in regions} == set(venezuela.region["code"].tolist())
    # Dependencias Federales has no load: drawn as land, not a region
    assert any(f["properties"]["layer"] == "land" for f in fc["features"])
    branches = [f for f in fc["features"] if f["properties"]["layer"] == "branch"]
    assert [f["properties"]["id"] for f in branches] == list(range(venezuela.branch.n))
    b0 = branches[0]
    f_bus = b0["properties"]["from_bus"]
    assert b0["geometry"]["coordinates"][0] == [float(venezuela.bus["lon"][f_bus]),
                                                float(venezuela.bus["lat"][f_bus])]
    json.dumps(fc, allow_nan=False)


def test_case_without_coordinates_gets_a_seeded_layout() -> None:
    grid = blackout.load_case("case39")
    a, b = case_geojson(grid), case_geojson(grid)
    assert a == b and a["properties"]["geographic"] is False
    pts = [f["geometry"]["coordinates"] for f in a["features"] if f["properties"]["layer"] == "bus"]
    assert len(pts) == 39 and len({tuple(p) for p in pts}) == 39


def test_view_data_has_frames_and_cause_chains(guri_trip: Any) -> None:
    view = view_data(guri_trip)
    ev = view["events"]
    assert ev[0]["element"] == "Guri-Malena 765 kV 1" and ev[0]["chain"] == ""
    later = [e for e in ev if e["caused_by"] is not None]
    assert later and all("Guri-Malena 765 kV 1 trip (user)" in e["chain"] for e in later)
    frames = view["frames"]
    assert [f["time_s"] for f in frames] == sorted(f["time_s"] for f in frames)
    line = ev[0]["element_id"]
    assert all(line in f["branches_out"] for f in frames if f["time_s"] >= ev[0]["time_s"])
    assert frames[-1]["events_so_far"] == len(ev)
    assert all(len(f["region_served_fraction"]) == 24 for f in frames)
    json.dumps(view, allow_nan=False)


def test_view_data_from_the_dict_resolves_names(guri_trip: Any, venezuela: blackout.Grid) -> None:
    view = view_data(guri_trip.to_dict(), venezuela)
    assert view["events"][0]["element_id"] == venezuela.find("branch", "Guri-Malena 765 kV 1")
    assert view["frames"][-1]["branches_out"] == view_data(guri_trip)["frames"][-1]["branches_out"]


def _run_dict(guri_trip: Any, **extra: Any) -> dict[str, Any]:
    return {**guri_trip.to_dict(), "case": "venezuela2019", **extra}


def test_optional_sections_are_drawn_only_when_present(guri_trip: Any, tmp_path: Path) -> None:
    plain = write_report(_run_dict(guri_trip), tmp_path / "plain.html").read_text()
    assert 'id="plot-frequency"' in plain and 'id="plot-served"' in plain
    assert "plot-restoration" not in plain and "plot-critical" not in plain
    extra = {"restoration": {"time_h": [0, 1, 2], "served_mw": [0, 5000, 11000],
                             "by_region": {"Zulia": [0, 100, 900]}},
             "critical": {"time_s": [0, 60], "hospitals": [0, 12], "water": [0, 3]}}
    full = write_report(_run_dict(guri_trip, **extra), tmp_path / "full.html").read_text()
    assert 'id="plot-restoration"' in full and 'id="plot-critical"' in full


def test_report_is_self_contained(guri_trip: Any, tmp_path: Path) -> None:
    text = write_report(guri_trip, tmp_path / "r.html").read_text()
    assert not re.search(r"<script[^>]+src=|<link[^>]+href=", text)
    assert "Plotly" in text and 'id="frame-slider"' in text
    assert "Guri-Malena 765 kV 1" in text


def test_waterfall_steps_down_by_mechanism() -> None:
    view = {"summary": {"load_lost_mw": 700.0,
                        "load_lost_by_mechanism_mw": {"ufls": 500.0, "tripped": 200.0}},
            "regions": [{"id": 0, "name": "A", "demand_mw": 1000.0}], "traces": {}}
    fig = waterfall_figure(view)
    assert fig is not None
    w = fig["data"][0]
    assert w["x"] == ["demand", "ufls", "tripped", "served at end"]
    assert w["y"][:3] == [1000.0, -500.0, -200.0]
    assert waterfall_figure({"summary": {"load_lost_mw": 0.0}, "regions": []}) is None


def test_sweep_report(tmp_path: Path, venezuela: blackout.Grid) -> None:
    df = pd.DataFrame({"initiating": [[0], [1], [0, 2], [3]],
                       "load_lost_mw": [100.0, 0.0, 3000.0, 10.0]})
    folder = tmp_path / "sweep"
    folder.mkdir()
    df.to_parquet(folder / "part-0.parquet")
    (folder / "meta.json").write_text(json.dumps({"case": "venezuela2019"}))
    trials, meta = read_sweep(folder)
    sv = sweep_view(trials, meta, venezuela)
    assert sv["summary"]["expected_demand_loss_mw"] == pytest.approx(3110.0 / 4)
    top = sv["critical_lines"][0]
    assert top["name"] == str(venezuela.branch["name"][2]) and top["mean_loss_mw"] == 3000.0
    ccdf = dict(sv["figures"][0][2]["data"][0].items())
    assert ccdf["x"] == [10.0, 100.0, 3000.0] and ccdf["y"] == pytest.approx([0.75, 0.5, 0.25])
    out = tmp_path / "sweep.html"
    result = runner.invoke(app, ["report", str(folder), "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert 'id="plot-ccdf"' in out.read_text() and "expected demand loss" in out.read_text()


def test_sweep_report_leaves_failed_trials_out(tmp_path: Path) -> None:
    df = pd.DataFrame({"trial": [0, 1, 2], "status": ["ok", "error", "ok"],
                       "load_lost_mw": [100.0, float("nan"), 300.0],
                       "initiating": [[0], [1], [2]]})
    view = sweep_view(df, {})
    assert view["summary"]["trials"] == 2 and view["summary"]["trials_failed"] == 1
    assert view["summary"]["expected_demand_loss_mw"] == pytest.approx(200.0)
    folder = tmp_path / "sweep"
    folder.mkdir()
    df.to_parquet(folder / "chunk-000000.parquet")
    out = tmp_path / "sweep.html"
    result = runner.invoke(app, ["report", str(folder), "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert "1 failed, left out" in out.read_text()


def test_cli_report_from_run_json(guri_trip: Any, tmp_path: Path) -> None:
    run = tmp_path / "run.json"
    run.write_text(json.dumps(guri_trip.to_dict()))
    out = tmp_path / "out" / "report.html"
    result = runner.invoke(app, ["report", str(run), "-o", str(out), "--case", "venezuela2019"])
    assert result.exit_code == 0, result.output
    assert 'id="map"' in out.read_text()


@pytest.mark.parametrize(("content", "message"), [
    (None, "no such file"), ("{not json", "not a JSON run result"),
    ('{"a": 1}', "needs 'summary' and 'events'")])
def test_cli_report_bad_input_exits_2(tmp_path: Path, content: str | None, message: str) -> None:
    path = tmp_path / "run.json"
    if content is not None:
        path.write_text(content)
    result = runner.invoke(app, ["report", str(path), "-o", str(tmp_path / "r.html")])
    assert result.exit_code == 2
    assert message in result.output and "Traceback" not in result.output


def test_view_data_rejects_other_types() -> None:
    with pytest.raises(TypeError):
        view_data(42)
    assert issubclass(BlackoutError, Exception)
