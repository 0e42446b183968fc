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


def _boom(name: str) -> None:
    raise RuntimeError(f"boom while loading {name}")


def test_internal_error_names_its_traceback_file(monkeypatch, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """Without --debug: one line, exit 1, naming the file that holds the full traceback."""
    monkeypatch.setattr("blackout.cli.grid_cmds.load_case", _boom)
    monkeypatch.setattr("tempfile.tempdir", str(tmp_path))
    monkeypatch.delenv("BLACKOUT_DEBUG", raising=False)
    result = runner.invoke(app, ["pf", "case9"])
    assert result.exit_code == 1
    lines = [ln for ln in result.output.splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith("internal error: RuntimeError: boom")
    assert "Traceback" not in result.output
    written = sorted(tmp_path.glob("blackout-error-*.txt"))
    assert len(written) == 1 and str(written[0]) in lines[0]
    text = written[0].read_text()
    assert "Traceback (most recent call last)" in text and "_boom" in text


def test_debug_prints_the_traceback(monkeypatch, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """--debug before the command, after it, or BLACKOUT_DEBUG=1 prints the traceback."""
    monkeypatch.setattr("blackout.cli.grid_cmds.load_case", _boom)
    monkeypatch.setattr("tempfile.tempdir", str(tmp_path))
    monkeypatch.delenv("BLACKOUT_DEBUG", raising=False)
    for args, env in ((["--debug", "pf", "case9"], {}), (["pf", "case9", "--debug"], {}),
                      (["pf", "case9"], {"BLACKOUT_DEBUG": "1"})):
        result = runner.invoke(app, args, env=env)
        assert result.exit_code == 1, args
        assert "Traceback (most recent call last)" in result.output, args
        assert "_boom" in result.output and "internal error: RuntimeError" in result.output
    # the flag does not stick to the next command
    result = runner.invoke(app, ["pf", "case9"])
    assert "Traceback" not in result.output
    # a bad-input error stays exit 2; with --debug its traceback is shown too
    monkeypatch.undo()
    result = runner.invoke(app, ["--debug", "pf", "nosuchcase"])
    assert result.exit_code == 2 and "Traceback" in result.output
    assert result.output.strip().splitlines()[-1].startswith("error: unknown case")


def test_option_errors_are_one_line_too() -> None:
    """click's own usage errors (unknown option, wrong type, missing argument) are one
    ``error:`` line with exit 2, like every other bad input."""
    for args, part in ((["pf", "case9", "--fmt", "json"], "No such option: --fmt"),
                       (["run", "--at", "abc"], "'--at'"),
                       (["pf"], "Missing argument"),
                       (["--bogus"], "No such option: --bogus")):
        result = runner.invoke(app, args)
        assert result.exit_code == 2, args
        lines = [ln for ln in result.output.splitlines() if ln.strip()]
        assert len(lines) == 1 and lines[0].startswith("error: ") and part in lines[0], lines
    assert runner.invoke(app, ["pf", "--help"]).exit_code == 0
