"""`blackout run --report` writes the self-contained HTML report beside the timeline."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from blackout.cli import (
    app,
    commands,  # noqa: F401
)


def test_run_writes_report(tmp_path: Path) -> None:
    out, html = tmp_path / "run.json", tmp_path / "run.html"
    result = CliRunner().invoke(app, ["run", "--case", "case39", "--trip", "4-14", "--dc",
                                      "--format", "json", "--out", str(out),
                                      "--report", str(html)])
    assert result.exit_code == 0, result.output
    assert json.loads(out.read_text())["summary"]["load_lost_mw"] > 0
    text = html.read_text()
    assert text.startswith("<!DOCTYPE html>") or text.lower().startswith("<!doctype html>")
    assert "4-14" in text
    # self-contained: no external script or stylesheet (plotly's inlined bundle merely
    # mentions CDN URLs in strings it never fetches offline)
    assert '<script src="http' not in text and '<link rel="stylesheet" href="http' not in text


def test_default_run_includes_restoration_and_critical(tmp_path: Path) -> None:
    """`blackout run` with no argument: the 7 March fire, its cascade and its restoration."""
    out = tmp_path / "default.json"
    result = CliRunner().invoke(app, ["run", "--format", "json", "--out", str(out)])
    assert result.exit_code == 0, result.output
    data = json.loads(out.read_text())
    assert len(data["summary"]["regions_dark"]) >= 20
    rest = data["restoration"]
    for key in ("served_percent_final", "energy_not_served_mwh", "customer_hours",
                "region_restored_h", "curve"):
        assert key in rest
    assert rest["served_percent_final"] > 95
    assert rest["region_restored_h"]["Zulia"] > rest["region_restored_h"]["Distrito Capital"]
    assert data["critical"]
    # the report's table of simulated against observed restoration times, from this JSON
    html = tmp_path / "default.html"
    again = CliRunner().invoke(app, ["report", str(out), "--out", str(html)])
    assert again.exit_code == 0, again.output
    page = html.read_text()
    assert 'id="observed-comparison"' in page
    zulia = next(r for r in rest["observed_comparison"] if r["region"] == "Zulia")
    assert f"<td>Zulia</td><td>{zulia['simulated_h']:.1f}</td>" in page


def test_no_restore_skips_restoration(tmp_path: Path) -> None:
    out = tmp_path / "ukraine.json"
    result = CliRunner().invoke(app, ["run", "ukraine-2015-style-case39", "--dc", "--no-restore",
                                      "--format", "json", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "restoration" not in json.loads(out.read_text())
