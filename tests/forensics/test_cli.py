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


SMALL_HYPOTHESES = """\
name: small
hypotheses:
  - name: early
    scenario: &sc
      name: attack
      case: case39
      mode: dc
      horizon_s: 60
      threats:
        - {kind: cyber, name: attack, actions: [{do: open_breakers, at_s: 5, branches: ["26-28"]}]}
    parameters:
      - {name: at_s, paths: [threats.0.actions.0.at_s], prior: {dist: uniform, low: 0, high: 20}}
  - name: late
    scenario: *sc
    parameters:
      - {name: at_s, paths: [threats.0.actions.0.at_s], prior: {dist: uniform, low: 30, high: 50}}
"""
SMALL_EVIDENCE = """\
name: small evidence
observations:
  - name: line out early
    source: test
    range: [0, 25]
    tolerance: 5
    observable: {kind: trip_time, select: {names: ["26-28"]}}
"""


def test_explain_out_folder_keeps_trials_and_resumes(tmp_path: Path) -> None:
    (tmp_path / "h.yaml").write_text(SMALL_HYPOTHESES, encoding="utf-8")
    (tmp_path / "e.yaml").write_text(SMALL_EVIDENCE, encoding="utf-8")
    run = tmp_path / "run"
    args = ["explain", str(tmp_path / "e.yaml"), "--hypothesis-file", str(tmp_path / "h.yaml"),
            "--trials", "3", "--workers", "1", "--format", "json", "--out", str(run)]
    first = runner.invoke(app, args)
    assert first.exit_code == 0, first.output
    data = json.loads((run / "explanation.json").read_text())
    assert data["run"]["ran"] == 6 and data["run"]["resumed"] == 0
    assert data["failed_trials"] == []
    assert all(h["effective_sample_size"] > 0 for h in data["hypotheses"])
    assert sorted(p.name for p in run.glob("chunk-*.parquet")) == [
        "chunk-000000.parquet", "chunk-000001.parquet"]
    again = runner.invoke(app, args)  # the folder holds a run: no silent overwrite
    assert again.exit_code == 2 and "--resume" in again.output
    resumed = runner.invoke(app, [*args, "--resume"])
    assert resumed.exit_code == 0, resumed.output
    data2 = json.loads((run / "explanation.json").read_text())
    assert data2["run"]["ran"] == 0 and data2["run"]["resumed"] == 6
    assert [h["posterior"] for h in data2["hypotheses"]] == \
        [h["posterior"] for h in data["hypotheses"]]
    no_folder = runner.invoke(app, [*args[:-2], "--out", str(tmp_path / "x.json"), "--resume"])
    assert no_folder.exit_code == 2 and "--out DIR" in no_folder.output
