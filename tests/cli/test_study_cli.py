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
    assert got["1.3,31.7"]["ac_base_overloads"] > 0
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
