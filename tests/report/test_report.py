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
from blackout.report import (
    case_geojson,
    read_sweep,
    render_sweep_report,
    sweep_view,
    view_data,
    write_report,
)
from blackout.report.figures import waterfall_figure
from blackout.report.frames import clock_label

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


def test_run_dict_carries_cause_chains_and_the_report_shows_them(guri_two_trips: Any,
                                                                  tmp_path: Path) -> None:
    d = guri_two_trips.to_dict()
    trips = [e for e in d["events"] if e["action"] == "trip"]
    assert len(trips) > 2
    for e in trips[2:]:  # every trip after the user's two says what caused it
        assert isinstance(e["caused_by"], int) and e["why"] and e["clock"]
        assert isinstance(e["detail"], dict)
    assert any(e["why"] != e["cause"] for e in trips)  # "overload 182% for 9.2 s"
    view = view_data(d, guri_two_trips.grid)
    chains = [e["chain"] for e in view["events"] if e["action"] == "trip"][2:]
    assert chains and all("Guri-Malena 765 kV" in c and "(user)" in c for c in chains)
    # the report from the JSON dict and from the Timeline tell the same chains
    page = write_report({**json.loads(json.dumps(d)), "case": "venezuela2019"},
                        tmp_path / "r.html").read_text()
    assert chains[0] in page or chains[0].replace("\u2190", "&larr;") in page


def _restoration(hours: int = 192) -> dict[str, Any]:
    t = list(range(hours + 1))
    pct = [100.0, 0.0] + [min(100.0, 0.6 * h) for h in t[2:]]
    return {"horizon_h": float(hours), "hours_to_percent": {"90": 150.0},
            "curve": {"time_h": t, "served_mw": [11000.0 * p / 100 for p in pct],
                      "served_percent": pct,
                      "served_percent_by_region": {"Zulia": pct, "Bolívar": pct}}}


def test_restoration_and_critical_services_are_plotted_over_days(guri_trip: Any) -> None:
    from blackout.report.figures import critical_figure, restoration_figure, served_figure

    crit = {"hospital": {"curve": {"time_h": [0, 1, 100], "service_percent": [100, 20, 90]}},
            "water": {"curve": {"time_h": [0, 1, 100], "service_percent": [100, 100, 0]}},
            "dialysis": {"people": 10}}
    view = view_data(_run_dict(guri_trip, restoration=_restoration(), critical=crit))
    rest = restoration_figure(view)
    assert rest is not None and max(rest["data"][0]["x"]) == 192
    assert {d["name"] for d in rest["data"]} >= {"national", "Zulia", "Bolívar"}
    cf = critical_figure(view)
    assert cf is not None and [d["name"] for d in cf["data"]] == ["hospital", "water"]
    served = served_figure(view)
    assert served is not None and any(d.get("xaxis") == "x2" and max(d["x"]) == 192
                                      for d in served["data"])
    # the map's slider runs through the restoration too
    assert view["frames"][-1]["time_s"] == pytest.approx(192 * 3600.0)
    assert view["frames"][-1]["phase"] == "restoration"
    assert view["frames"][-1]["region_served_fraction"][
        [r["name"] for r in view["regions"]].index("Zulia")] == 1.0
    assert restoration_figure(view_data(_run_dict(guri_trip))) is None


def test_report_header_names_the_scenario_and_clock_times(guri_trip: Any,
                                                          tmp_path: Path) -> None:
    d = _run_dict(guri_trip, scenario={"name": "venezuela-2019-03-07-fire",
                                       "account": "engineers and unions",
                                       "start_time": "2019-03-07T16:50:00-04:00"})
    assert d["traces"]["start_clock"] == "16:50:00"
    text = write_report(d, tmp_path / "r.html").read_text()
    assert "<h1>Blackout report: venezuela-2019-03-07-fire</h1>" in text
    assert "case venezuela2019" in text and "engineers and unions" in text
    view = view_data(d)
    assert view["events"][0]["clock"] == "16:50:00"  # t = 0 s
    assert view["frames"][0]["clock"] == "16:50:00"
    assert view["frames"][-1]["clock"] == clock_label("16:50:00", view["frames"][-1]["time_s"])
    assert "<td>16:50:00.0</td>" in text
    assert '"separators":".,"' in text  # 16,329 MW, not 16 329


def test_clock_label() -> None:
    assert clock_label("16:45:00", 249.25) == "16:49:09"
    assert clock_label("16:45:00", 249.25, tenths=True) == "16:49:09.2"
    assert clock_label("16:45:00", 40 * 3600.0) == "08:45:00 (day 3)"  # 7 March -> 9 March
    assert clock_label(None, 12.34) == "t+12.3 s" and clock_label(None, 36000) == "t+10.0 h"


def test_long_labels_are_wrapped_not_truncated() -> None:
    from blackout.report.figures import wrap_label

    names = [f"cyber BlackEnergy-style attack variant {k}" for k in "ABC"]
    wrapped = [wrap_label(n) for n in names]
    assert len(set(wrapped)) == 3 and all("<br>" in w for w in wrapped)
    assert all(w.replace("<br>", " ") == n for w, n in zip(wrapped, names, strict=True))


def test_sweep_report_critical_lines_match_the_sweep_summary(tmp_path: Path) -> None:
    from blackout.study.sweep.results import summarize

    names = [f"line {k}" for k in range(6)]
    df = pd.DataFrame({"trial": list(range(8)), "status": ["ok"] * 8,
                       "load_lost_mw": [0.0, 10.0, 20.0, 3000.0, 2500.0, 40.0, 2800.0, 5.0],
                       "lines_out": [1, 2, 2, 4, 3, 2, 3, 1],
                       "initiating": [[0], [1], [1], [2], [2], [3], [4], [5]],
                       "tripped": [[], [3], [4], [1, 3, 5], [0, 3], [5], [1, 3], []]})
    crit = summarize(df, {}, branch_names=names)["risk"]["critical_lines"]["rows"]
    sv = sweep_view(df, {})
    assert [r["id"] for r in sv["critical_lines"]] == [r["branch"] for r in crit]
    html = render_sweep_report(sv)
    assert html.count("<h2>Most critical lines") == 1
    headings = re.findall(r"<h2>(.*?)</h2>", html)
    assert len(headings) == len(set(headings))


def test_forensics_parameters_print_a_time_of_day_as_a_time() -> None:
    from blackout.report.forensics import format_range

    assert format_range([58550.0, 58800.0, 59100.0], "time of day") == "16:15:50 / 16:20:00 / 16:25:00"
    assert format_range([1.5, 12345.0, 3.0], "s") == "1.5 / 1.234e+04 / 3"
