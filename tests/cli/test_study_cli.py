"""End-to-end tests of `blackout n1` and `blackout nk`."""

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


def test_n1_json(tmp_path: Path) -> None:
    out = tmp_path / "n1.json"
    r = runner.invoke(app, ["n1", "case118", "--top", "5", "--format", "json", "--out",
                            str(out)])
    assert r.exit_code == 0, r.output
    data = json.loads(out.read_text())
    assert data["contingencies"] and len(data["contingencies"]) == 5
    assert {"case", "mode", "ratings", "ranked_by"} <= set(data)
    assert data["mode"] == "dc" and data["case"] == "case118"
    row = data["contingencies"][0]
    assert {"name", "max_loading_pct", "cascade_load_lost_mw"} <= set(row)


def test_n1_ac_with_ratings_sized_on_the_ac_base_flow(tmp_path: Path) -> None:
    """--derive-ratings K,FLOOR,ac sizes ratings on the AC apparent power: the AC base case
    then overloads nothing (with DC-sized ratings case118 starts with overloads in AC)."""
    got = {}
    for rule in ("1.3,31.7", "1.3,31.7,ac"):
        out = tmp_path / f"{rule}.json"
        r = runner.invoke(app, ["n1", "case118", "--ac", "--top", "3", "--derive-ratings",
                                rule, "--format", "json", "--out", str(out)])
        assert r.exit_code == 0, r.output
        got[rule] = json.loads(out.read_text())
        first = next(ln for ln in r.output.splitlines() if ln.strip())
        # the AC base case's own overloads are said in the first line, before any outage
        assert ("above rate_a in the AC base case" in first) == (not rule.endswith("ac"))
    assert got["1.3,31.7"]["ac_base_overloads"] > 0
    assert got["1.3,31.7"]["base_case"]["ac_violations"]["count"] \
        == got["1.3,31.7"]["ac_base_overloads"]
    assert got["1.3,31.7,ac"]["ac_base_overloads"] == 0
    assert "base AC |S|" in got["1.3,31.7,ac"]["ratings"]
    assert "base DC flow" in got["1.3,31.7"]["ratings"]
    for rule in got:  # most verified outages solved by the fast-decoupled path
        assert 0.8 * got[rule]["ac_verified"] < got[rule]["ac_fast_decoupled"] \
            <= got[rule]["ac_verified"]


def test_n1_table() -> None:
    r = runner.invoke(app, ["n1", "case30", "--top", "3", "--format", "table"])
    assert r.exit_code == 0, r.output
    assert "N-1 of case30" in r.output


def test_nk_json_with_malignant(tmp_path: Path) -> None:
    out = tmp_path / "nk.json"
    r = runner.invoke(app, ["nk", "case118", "-k", "2", "--sample", "40", "--malignant",
                            "--trials", "2", "--seed", "1", "--top", "4",
                            "--trip-multiple", "1.2", "--format", "json", "--out", str(out)])
    assert r.exit_code == 0, r.output
    data = json.loads(out.read_text())
    assert {"case", "k", "sets", "risk", "malignant", "ratings"} <= set(data)
    assert data["k"] == 2 and data["sets_run"] == 40 and len(data["sets"]) == 4
    assert {"expected_demand_loss", "demand_loss_distribution", "lines_outaged_distribution",
            "critical_lines"} <= set(data["risk"])
    assert all(len(s["branches"]) <= 2 for s in data["malignant"])
    assert data["malignant_search"]["trials"] == 2


def test_nk_exhaustive_table() -> None:
    r = runner.invoke(app, ["nk", "case14", "-k", "1", "--exhaustive", "--format", "table",
                            "--top", "3"])
    assert r.exit_code == 0, r.output
    assert "N-1 of case14" in r.output


@pytest.mark.parametrize("args", [
    ["nk", "case118", "-k", "0"],
    ["nk", "case14", "-k", "999"],
    ["nk", "case14", "--sample", "0"],
    ["nk", "nosuchcase"],
    ["nk", "case118", "-k", "4", "--exhaustive"],
    ["nk", "case14", "--derive-ratings", "x"],
    ["n1", "case14", "--derive-ratings", "1.5,50,xy"],
    ["n1", "case14", "--derive-ratings", "1.5,50,ac,1"],
    ["n1", "nosuchcase"],
    ["n1", "case14", "--by", "nothing"],
])
def test_bad_input_exits_2_with_one_line(args: list[str]) -> None:
    r = runner.invoke(app, [*args, "--format", "json"])
    assert r.exit_code == 2, r.output
    lines = [ln for ln in r.output.splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith("error:"), r.output


def _first_line(output: str) -> str:
    return next(ln for ln in output.splitlines() if ln.strip())


def test_n1_base_case_violations_reported_apart(tmp_path: Path) -> None:
    """Ratings below the base flows (0.9 x, every branch): the first line says how many
    branches are above rating before any outage and what to do; the cascades are not run;
    ``base_case.violations`` lists them once and no row counts a base violation that did
    not worsen by more than 10 %."""
    out = tmp_path / "n1.json"
    r = runner.invoke(app, ["n1", "case30", "--derive-ratings", "0.9,0,override", "--top",
                            "50", "--format", "json", "--out", str(out)])
    assert r.exit_code == 0, r.output
    first = _first_line(r.output)
    assert first.startswith("warning:") and "above rate_a in the base case" in first
    assert "--grandfather-base" in first and "--cascade" in first
    data = json.loads(out.read_text())
    base = data["base_case"]["violations"]
    assert base["count"] > 20 and len(base["list"]) == base["count"]
    assert data["cascades_run"] is False and data["warnings"] == [first]
    assert data["ranked_by"] == "max_caused_loading_pct"
    caused = [row["max_caused_loading_pct"] for row in data["contingencies"]]
    assert caused == sorted(caused, reverse=True)
    for row in data["contingencies"]:
        assert {"new_violations", "worsened_violations", "max_caused_loading_pct"} <= set(row)
        assert row["new_violations"] + row["worsened_violations"] <= row["overloads"]
        assert row["cascade_lines_out"] == 1
    assert sum(row["overloads"] for row in data["contingencies"]) > sum(
        row["new_violations"] + row["worsened_violations"] for row in data["contingencies"])


def test_n1_grandfather_base_makes_the_base_case_feasible(tmp_path: Path) -> None:
    out = tmp_path / "n1.json"
    r = runner.invoke(app, ["n1", "case30", "--derive-ratings", "0.9,0,override",
                            "--grandfather-base", "--top", "5", "--format", "json", "--out",
                            str(out)])
    assert r.exit_code == 0, r.output
    assert not _first_line(r.output).startswith("warning:")
    data = json.loads(out.read_text())
    assert data["base_case"]["violations"]["count"] == 0 and data["cascades_run"] is True
    assert "1.1 x their base flow" in data["ratings_grandfathered"]


@pytest.mark.parametrize("rule", ["1.3,31.7,dc", "1.3,31.7,basis=dc", "1.3,31.7,all",
                                  "1.3,31.7,basis=dc,override"])
def test_ratings_grammar_and_its_older_forms(rule: str) -> None:
    from blackout.cli.sweep_cmds import parse_ratings
    from blackout.grid.ratings import parse_ratings_spec

    spec = parse_ratings_spec(rule)
    assert (spec.k, spec.floor_mva, spec.basis) == (1.3, 31.7, "dc")
    assert spec.override == rule.endswith(("all", "override"))
    assert parse_ratings(rule) == (1.3, 31.7, spec.override)


def test_nk_participation_option(tmp_path: Path) -> None:
    out = tmp_path / "nk.json"
    r = runner.invoke(app, ["nk", "case30", "-k", "2", "--sample", "20", "--participation",
                            "pmax", "--format", "json", "--out", str(out)])
    assert r.exit_code == 0, r.output
    assert json.loads(out.read_text())["participation"] == "pmax"
    r = runner.invoke(app, ["nk", "case30", "--participation", "nope", "--format", "json"])
    assert r.exit_code == 2 and _first_line(r.output).startswith("error: --participation")


def test_run_warns_of_unrated_branches_and_cascades_with_derived_ratings() -> None:
    """``blackout run --case case118 --trip 38-37``: case118 has no ratings, so the first
    line says so; with ``--derive-ratings 1.3,31.7`` overloads trip."""
    r = runner.invoke(app, ["run", "--case", "case118", "--trip", "38-37", "--dc",
                            "--horizon", "600", "--format", "json"])
    assert r.exit_code == 0, r.output
    first = _first_line(r.output)
    assert first.startswith("warning: 186 in-service branches of case118 have no rating")
    r = runner.invoke(app, ["run", "--case", "case118", "--trip", "38-37", "--dc",
                            "--horizon", "600", "--derive-ratings", "1.3,31.7", "--format",
                            "json"])
    assert r.exit_code == 0, r.output
    assert not _first_line(r.output).startswith("warning:")
    data = json.loads(r.output[r.output.index("{"):])
    assert data["summary"]["trips_by_cause"].get("overload", 0) > 0
