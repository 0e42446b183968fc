"""End to end: `blackout scenarios`, `blackout scenario schema`, `blackout run SCENARIO`."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from blackout.cli import commands  # noqa: F401  (registers the commands)
from blackout.cli.app import app

runner = CliRunner()


def test_scenarios_lists_the_builtin_ones_as_json() -> None:
    res = runner.invoke(app, ["scenarios", "--format", "json"])
    assert res.exit_code == 0
    rows = json.loads(res.stdout)["scenarios"]
    assert {r["name"] for r in rows} >= {"venezuela-2019-03-07-fire", "ukraine-2015-style-case39"}
    assert all(r["case"] and r["description"] for r in rows)


def test_scenario_schema_is_json_schema() -> None:
    res = runner.invoke(app, ["scenario", "schema"])
    assert res.exit_code == 0
    schema = json.loads(res.stdout)
    assert schema["title"] == "blackout scenario" and "threats" in schema["properties"]


def test_run_a_scenario_file_and_a_bad_one(tmp_path: Path) -> None:
    res = runner.invoke(app, ["run", "ukraine-2015-style-case39", "--dc", "--horizon", "300",
                              "--format", "json"])
    assert res.exit_code == 0, res.output
    events = json.loads(res.stdout)["events"]
    assert events[0]["cause"].startswith("cyber BlackEnergy3 HMI hijack: breaker opened")
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: x\ncase: case39\nthreats:\n  - kind: flood\n", encoding="utf-8")
    res = runner.invoke(app, ["run", str(bad)])
    assert res.exit_code == 2
    assert res.stderr.count("\n") == 1
    assert "bad.yaml: field threats[0] (line 4): Input tag 'flood'" in res.stderr
