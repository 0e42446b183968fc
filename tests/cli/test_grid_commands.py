"""End-to-end tests of `blackout cases`, `blackout pf` and `blackout convert`."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from blackout.cli import (
    app,
    commands,  # noqa: F401  (registers the commands)
)

runner = CliRunner()


def test_cases_lists_builtins_with_counts() -> None:
    result = runner.invoke(app, ["cases", "--format", "json"])
    assert result.exit_code == 0, result.output
    rows = {r["name"]: r for r in json.loads(result.output)["cases"]}
    for name in ("case9", "case118", "case2869pegase", "case9241pegase", "GBnetwork"):
        assert name in rows
    assert rows["case118"]["buses"] == 118 and rows["case118"]["branches"] == 186
    assert "pandapower" in rows["case9"]["source"]


def test_pf_json_is_column_oriented(tmp_path: Path) -> None:
    out = tmp_path / "pf.json"
    result = runner.invoke(app, ["pf", "case118", "--format", "json", "--out", str(out)])
    assert result.exit_code == 0, result.output
    data = json.loads(out.read_text())
    assert data["converged"] is True
    assert len(data["bus"]["name"]) == 118 and len(data["bus"]["vm_pu"]) == 118
    assert len(data["branch"]["p_from_mw"]) == 186
    assert {"p_to_mw", "loading_percent"} <= set(data["branch"])
    assert data["islands"][0]["converged"] is True
    assert "kind" in data["gen"]


def test_pf_dc_large_case_table() -> None:
    result = runner.invoke(app, ["pf", "case1354pegase", "--dc", "--format", "table"])
    assert result.exit_code == 0, result.output
    assert "DC power flow, converged" in result.output


def test_pf_matpower_file_and_convert_round_trip(tmp_path: Path) -> None:
    m = tmp_path / "c14.m"
    assert runner.invoke(app, ["convert", "case14", str(m)]).exit_code == 0
    js = tmp_path / "c14.json"
    assert runner.invoke(app, ["convert", str(m), str(js)]).exit_code == 0
    m2 = tmp_path / "c14b.m"
    assert runner.invoke(app, ["convert", str(js), str(m2)]).exit_code == 0
    ppjs = tmp_path / "c14pp.json"
    assert runner.invoke(app, ["convert", str(m2), str(ppjs), "--to", "pandapower"]
                         ).exit_code == 0
    a = json.loads(runner.invoke(app, ["pf", str(m), "-f", "json"]).output)
    b = json.loads(runner.invoke(app, ["pf", str(ppjs), "-f", "json"]).output)
    assert max(abs(x - y) for x, y in zip(a["bus"]["vm_pu"], b["bus"]["vm_pu"], strict=True)
               ) < 1e-8


def test_bad_input_exits_2_with_one_line() -> None:
    for args in (["pf", "nosuchcase"], ["pf", "case9", "--derive-ratings", "x"],
                 ["convert", "case9", "out.xyz"]):
        result = runner.invoke(app, args)
        assert result.exit_code == 2, args
        assert result.output.strip().startswith("error:")
        assert "Traceback" not in result.output


def test_derive_ratings_option_reports_loading() -> None:
    result = runner.invoke(app, ["pf", "case118", "--dc", "--derive-ratings", "1.5,50", "-f", "json"])
    data = json.loads(result.output)
    loading = [x for x in data["branch"]["loading_percent"] if x is not None]
    assert len(loading) == 186 and max(loading) <= 100.0 / 1.5 + 1e-6
