"""`blackout run` end to end."""

from __future__ import annotations

import json

from typer.testing import CliRunner

import blackout.cli.commands  # noqa: F401  (registers the commands)
from blackout.cli.app import app


def test_run_trips_by_name_as_json() -> None:
    result = CliRunner().invoke(app, ["run", "--case", "case39", "--trip", "4-14", "--dc",
                                      "--horizon", "300", "--format", "json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert list(data) == ["summary", "events", "traces"]
    assert data["events"][0]["element"] == "4-14"
    assert data["events"][0]["cause"] == "scheduled trip"


def test_run_two_guri_malena_circuits_as_text() -> None:
    result = CliRunner().invoke(app, ["run", "--trip", "Guri-Malena 765 kV 1,Guri-Malena 765 kV 2",
                                      "--dc", "--horizon", "60", "--format", "table"])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].startswith("trip Guri-Malena 765 kV 1, Guri-Malena 765 kV 2 on "
                               "venezuela2019")  # the header names the run
    assert lines[1] == "16:50:00  Guri-Malena 765 kV 1 tripped: scheduled trip"
    assert any(ln.startswith("16:50:1") and "Guri-Malena 765 kV 3 tripped: overload" in ln
               and "after Guri-Malena 765 kV 2 trip" in ln for ln in lines)


def test_default_7_march_function() -> None:
    from blackout.cli.run_cmd import default_7_march

    tl = default_7_march(dc=True, horizon_s=60.0)
    assert [e.cause for e in tl.events[:2]] == ["vegetation fire", "vegetation fire"]
    assert tl.summary()["load_lost_percent"] > 90.0


def test_run_unknown_element_exits_2() -> None:
    result = CliRunner().invoke(app, ["run", "--case", "case39", "--trip", "nope"])
    assert result.exit_code == 2
    assert "no element named 'nope'" in result.output


def test_run_q_limits_switch_reaches_the_engine() -> None:
    """With two Guri-Malena circuits out at full load the San Gerónimo SVC needs ~1,100
    Mvar of its 600: with --q-limits the AC flow has no solution at t = 0 and the island's
    loadability margin is shed (the blocker to making it the default, docs/cascade.md);
    without it nothing is shed for voltage collapse."""
    trips = "Guri-Malena 765 kV 1,Guri-Malena 765 kV 2"
    shed = {}
    for flag in ("--q-limits", "--no-q-limits"):
        result = CliRunner().invoke(app, ["run", "--trip", trips, "--horizon", "5", flag,
                                          "--format", "json"])
        assert result.exit_code == 0, result.output
        data = json.loads(result.output)
        shed[flag] = [e for e in data["events"] if e["cause"] == "voltage collapse"]
    assert shed["--q-limits"] and shed["--q-limits"][0]["time_s"] == 0.0
    assert not shed["--no-q-limits"]


def test_run_q_limits_with_dc_exits_2() -> None:
    result = CliRunner().invoke(app, ["run", "--case", "case39", "--trip", "4-14", "--dc",
                                      "--q-limits"])
    assert result.exit_code == 2
    assert "--q-limits" in result.output
