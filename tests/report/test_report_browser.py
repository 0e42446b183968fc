"""The HTML report opened from file:// in headless chromium with networking disabled."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

import blackout
from blackout.report import write_report

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"


def _open_offline(browser: Any, path: Path) -> tuple[Any, Any, list[str], list[str]]:
    ctx = browser.new_context(offline=True, viewport={"width": 1300, "height": 1800})
    page = ctx.new_page()
    errors: list[str] = []
    requests: list[str] = []

    def file_only(route: Any) -> None:
        if route.request.url.startswith("file://"):
            route.continue_()
        else:
            requests.append(route.request.url)
            route.abort()

    page.route("**/*", file_only)
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.goto(path.as_uri())
    page.wait_for_selector("#map[data-ready='1']", timeout=30_000)
    return ctx, page, errors, requests


def _slide_to_end(page: Any) -> None:
    page.eval_on_selector("#frame-slider", "s => { s.value = s.max; "
                                           "s.dispatchEvent(new Event('input')); }")
    page.wait_for_function("document.getElementById('map').dataset.frame === "
                           "document.getElementById('frame-slider').max")


def test_report_renders_offline_and_the_slider_moves_the_map(offline_browser: Any, guri_trip: Any,
                                                             tmp_path: Path) -> None:
    path = write_report(guri_trip, tmp_path / "report.html")
    ctx, page, errors, requests = _open_offline(offline_browser, path)
    for plot in ("map", "plot-frequency", "plot-served"):
        assert page.locator(f"#{plot}.js-plotly-plot .main-svg").count() >= 1, plot
    assert page.locator("#map .scatterlayer .trace").count() >= 24
    assert page.locator("#events tbody tr").count() == len(guri_trip.events)
    before = page.inner_text("#clock")
    assert before.startswith("16:50:00 | t = 0.0 s")  # the clock, as the CLI prints it
    assert page.get_attribute("#map", "data-frame") == "0"
    _slide_to_end(page)
    after = page.inner_text("#clock")
    assert after != before and f"events {len(guri_trip.events)}" in after
    assert page.get_attribute("#map", "data-branches-out") == "1"
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "report-guri-trip.png"), full_page=True)
    assert errors == [] and requests == []
    ctx.close()


def test_slider_darkens_a_region(offline_browser: Any, venezuela: blackout.Grid,
                                 tmp_path: Path) -> None:
    reg = venezuela.bus["region"]
    per_region = np.bincount(reg[reg >= 0], weights=venezuela.bus_load_mw()[reg >= 0],
                             minlength=venezuela.region.n)
    demand = dict(zip(venezuela.region["name"].tolist(), per_region.tolist(), strict=True))
    by_region = {n: [d, 0.0 if n == "Bolívar" else d] for n, d in demand.items()}
    run = {"case": "venezuela2019",
           "summary": {"load_lost_mw": demand["Bolívar"], "regions_total": 24,
                       "regions_dark": ["Bolívar"],
                       "load_lost_by_mechanism_mw": {"tripped": demand["Bolívar"]}},
           "events": [{"time_s": 5.0, "element": "Guri-Malena 765 kV 1", "kind": "branch",
                       "action": "trip", "cause": "user"}],
           "traces": {"time_s": [0.0, 10.0], "served_mw": [sum(demand.values()),
                                                           sum(demand.values()) -
                                                           demand["Bolívar"]],
                      "served_mw_by_region": by_region}}
    path = write_report(run, tmp_path / "dark.html")
    ctx, page, errors, _ = _open_offline(offline_browser, path)
    fill = ("() => { const ix = JSON.parse(document.getElementById('map-data').textContent).index;"
            " const k = ix.region_ids.indexOf(21);"
            " return document.getElementById('map').data[ix.regions[k]].fillcolor; }")
    assert str(venezuela.region["name"][21]) == "Bolívar"
    lit = page.evaluate(fill)
    _slide_to_end(page)
    assert page.evaluate(fill) != lit
    assert page.get_attribute("#map", "data-dark-regions") == "1"
    assert page.locator("#plot-waterfall .main-svg").count() >= 1
    assert errors == []
    ctx.close()


def test_restoration_chart_runs_past_a_day_and_the_slider_with_it(
        offline_browser: Any, guri_trip: Any, tmp_path: Path) -> None:
    hours = list(range(193))
    pct = [100.0, 0.0] + [min(100.0, 0.6 * h) for h in hours[2:]]
    run = {**guri_trip.to_dict(), "case": "venezuela2019",
           "restoration": {"horizon_h": 192.0, "curve": {
               "time_h": hours, "served_mw": [110.0 * p for p in pct], "served_percent": pct,
               "served_percent_by_region": {"Bolívar": pct}}},
           "critical": {"hospital": {"curve": {"time_h": hours, "service_percent": pct}}}}
    path = write_report(run, tmp_path / "report.html")
    ctx, page, errors, requests = _open_offline(offline_browser, path)
    for plot in ("plot-restoration", "plot-critical"):
        xmax = page.evaluate(f"Math.max(...document.getElementById('{plot}').data"
                             ".flatMap(d => d.x))")
        assert xmax > 24, plot  # drawn, in hours, beyond the first day
    assert page.locator("#plot-restoration .scatterlayer .trace").count() >= 2
    _slide_to_end(page)
    assert "t = 192.0 h | restoration" in page.inner_text("#clock")
    assert errors == [] and requests == []
    ctx.close()


def test_report_map_greys_dead_lines_after_the_blackout(offline_browser: Any,
                                                        guri_two_trips: Any,
                                                        tmp_path: Path) -> None:
    path = write_report(guri_two_trips, tmp_path / "report.html")
    ctx, page, errors, requests = _open_offline(offline_browser, path)
    assert page.get_attribute("#map", "data-branches-dead") == "0"
    _slide_to_end(page)
    dead = int(page.get_attribute("#map", "data-branches-dead") or 0)
    assert dead > 20
    drawn = page.evaluate("""() => {
      const d = document.getElementById('map').data;
      const t = d.find((x) => x.name === 'de-energised' && x.mode === 'lines');
      return {colour: t.line.color, segments: t.x.filter((v) => v === null).length};
    }""")
    assert drawn == {"colour": "#52525b", "segments": dead}
    assert errors == [] and requests == []
    ctx.close()
