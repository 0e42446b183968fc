"""The report's forensics section: rendered from an explanation, never simulated."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from blackout.report import write_report
from blackout.report.forensics import forensics_section, is_explanation

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"


@pytest.fixture(scope="module")
def explanation() -> dict[str, Any]:
    """A real (tiny) explanation of the built-in 7 March 2019 evidence: 2 runs each."""
    from blackout.forensics import explain

    return explain(None, None, only=["fire", "cyber"], trials=2, seed=4).to_dict()


def test_section_lists_every_hypothesis_and_observation(explanation: dict[str, Any]) -> None:
    assert is_explanation(explanation) and not is_explanation({"summary": {}, "events": []})
    html, plots = forensics_section(explanation)
    assert [p["id"] for p in plots] == ["plot-posterior", "plot-evidence-matrix"]
    bars = plots[0]["figure"]["data"][0]
    assert bars["x"] == sorted((h["name"] for h in explanation["hypotheses"]),
                               key=lambda n: -next(h["posterior"] for h in
                                                   explanation["hypotheses"]
                                                   if h["name"] == n))
    assert sum(bars["y"]) == pytest.approx(1.0)
    matrix = plots[1]["figure"]["data"][0]
    assert len(matrix["y"]) == len(explanation["observations"])
    for obs in explanation["observations"]:  # every observation shown, retracted ones too
        assert obs["name"].replace("'", "&#x27;") in html or obs["name"] in html
    assert explanation["honesty"] in html or "nothing more" in html


def test_run_report_includes_forensics_when_given(explanation: dict[str, Any],
                                                  tmp_path: Path) -> None:
    run = {"case": "case9", "summary": {"load_lost_mw": 0.0}, "events": [],
           "traces": {"time_s": [0.0], "served_mw": [315.0]}, "forensics": explanation}
    page = write_report(run, tmp_path / "run.html").read_text()
    assert 'id="forensics"' in page and 'id="summary"' in page
    without = write_report({k: v for k, v in run.items() if k != "forensics"},
                           tmp_path / "plain.html").read_text()
    assert 'id="forensics"' not in without


def test_forensics_report_renders_offline(offline_browser: Any, explanation: dict[str, Any],
                                          tmp_path: Path) -> None:
    src = tmp_path / "explain.json"
    src.write_text(json.dumps(explanation))
    path = write_report(src, tmp_path / "forensics.html")
    ctx = offline_browser.new_context(offline=True, viewport={"width": 1300, "height": 1600})
    page = ctx.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.goto(path.as_uri())
    page.wait_for_selector("#plot-posterior .main-svg", timeout=30_000)
    assert page.locator("#plot-evidence-matrix .main-svg").count() >= 1
    assert page.locator("#posteriors tbody tr").count() == len(explanation["hypotheses"])
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "report-forensics.png"), full_page=True)
    assert errors == []
    ctx.close()
