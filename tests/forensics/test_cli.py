"""``blackout explain`` end to end: the built-in 7 March 2019 evidence, two tiny runs."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from blackout.cli import (
    app,
    commands,  # noqa: F401  (registers the commands)
)

runner = CliRunner()


def test_explain_builtin_json(tmp_path: Path) -> None:
    out, html = tmp_path / "explain.json", tmp_path / "forensics.html"
    result = runner.invoke(app, ["explain", "--hypotheses", "fire", "--hypotheses", "cyber",
                                 "--trials", "2", "--workers", "1", "--seed", "4",
                                 "--format", "json", "--out", str(out),
                                 "--report", str(html)])
    assert result.exit_code == 0, result.output
    data = json.loads(out.read_text())
    assert [h["name"] for h in data["hypotheses"]] == ["fire", "cyber"]
    assert sum(h["posterior"] for h in data["hypotheses"]) == pytest.approx(1.0)
    assert {"name", "posterior", "posterior_sd", "parameters"} <= set(data["hypotheses"][0])
    obs = {o["name"]: o for o in data["observations"]}
    retracted = obs["almost all supply restored by 12 March afternoon"]
    assert retracted["status"] == "retracted" and retracted["reliability"] == 0
    assert retracted["discrimination"] == 0
    assert data["next_best_observation"]["name"]
    assert data["sensitivity"]["partisan_zero"]["zeroed"]
    assert "nothing more" in data["honesty"]
    page = html.read_text()
    assert 'id="forensics"' in page and 'id="plot-posterior"' in page
    assert "almost all supply restored by 12 March afternoon" in page  # listed, not hidden
    # the same report from the JSON file, through `blackout report`
    again = runner.invoke(app, ["report", str(out), "--out", str(tmp_path / "r.html")])
    assert again.exit_code == 0, again.output
    assert 'id="posteriors"' in (tmp_path / "r.html").read_text()


def test_explain_bad_evidence_is_one_line_exit_2(tmp_path: Path) -> None:
    bad = tmp_path / "ev.yaml"
    bad.write_text("name: x\nobservations:\n  - name: a\n    observable: {kind: nope}\n"
                   "    range: [0, 1]\n    source: s\n", encoding="utf-8")
    result = runner.invoke(app, ["explain", str(bad), "--trials", "2", "--workers", "1"])
    assert result.exit_code == 2
    assert "ev.yaml" in result.output and "observable.kind" in result.output
    assert "Traceback" not in result.output
