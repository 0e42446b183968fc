"""End-to-end tests of `blackout sweep` and `blackout run --from-sweep`, including a sweep
killed with SIGKILL mid-run and resumed."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from blackout.cli import (
    app,
    commands,  # noqa: F401  (registers the commands)
)
from blackout.study.sweep.store import ResultStore

runner = CliRunner()
SCENARIO = str(Path(__file__).parents[1] / "data" / "scenarios" / "sweep-case118-dc.yaml")
FAST = ["--engine", "fast", "--random-outages", "2", "--derive-ratings", "1.5,50"]


def _sweep(out: Path, *extra: str) -> list[str]:
    return ["sweep", SCENARIO, "--out", str(out), "--workers", "0", *FAST, *extra]


def _values(frame: pd.DataFrame) -> pd.DataFrame:
    out = frame.drop(columns=["wall_s"]).copy()
    for col in ("initiating", "tripped"):
        out[col] = [tuple(int(b) for b in v) for v in out[col]]
    return out


def test_sweep_json_summary_rerun_and_report(tmp_path: Path) -> None:
    out = tmp_path / "sw"
    res = runner.invoke(app, _sweep(out, "--trials", "40", "--seed", "2", "--format", "json"))
    assert res.exit_code == 0, res.output
    s = json.loads(res.stdout)
    for key in ("trials", "trials_ok", "trials_failed", "expected_demand_loss_mw",
                "load_lost_mw", "lines_out_mean", "risk", "power_law", "trials_per_s",
                "folder", "first_error"):
        assert key in s, key
    assert (s["trials"], s["trials_ok"], s["trials_failed"]) == (40, 40, 0)
    assert set(s["risk"]) >= {"expected_demand_loss", "demand_loss_distribution",
                              "lines_outaged_distribution", "critical_lines"}
    frame = ResultStore(out).load()
    assert abs(s["expected_demand_loss_mw"] - frame["load_lost_mw"].mean()) < 1e-9
    i = int(frame["load_lost_mw"].idxmax())  # the largest cascade of the sweep
    assert frame["load_lost_mw"][i] > 0
    again = runner.invoke(app, ["run", "--from-sweep", str(out), "--trial", str(i),
                                "--format", "json"])
    assert again.exit_code == 0, again.output
    run = json.loads(again.stdout)
    assert run["sweep_trial"]["matches"] is True
    assert abs(run["summary"]["load_lost_mw"] - frame["load_lost_mw"][i]) <= 1e-6
    assert sorted(run["sweep_trial"]["rerun"]["tripped"]) == sorted(frame["tripped"][i])
    html = tmp_path / "r.html"
    rep = runner.invoke(app, ["report", str(out), "-o", str(html)])
    assert rep.exit_code == 0, rep.output
    assert html.stat().st_size > 1000


@pytest.mark.parametrize(("args", "message"), [
    (["sweep", "no-such-scenario", "--trials", "3", "--out", "{tmp}/a"], "not a scenario"),
    (["sweep", SCENARIO, "--trials", "0", "--out", "{tmp}/a"], "--trials"),
    (["sweep", SCENARIO, "--trials", "3", "--out", "{tmp}/a", "--load-scale", "x,y"],
     "--load-scale"),
    (["sweep", SCENARIO, "--trials", "3", "--out", "{tmp}/a", "--engine", "warp"], "--engine"),
    (["sweep", SCENARIO, "--trials", "3", "--out", "{tmp}/a", "--workers", "-1"], "--workers"),
    (["sweep", SCENARIO, "--trials", "3", "--out", "{tmp}/a", "--participation", "x"],
     "--participation"),
    (["run", "--from-sweep", "{tmp}", "--trial", "0"], "not a sweep folder"),
    (["run", "--from-sweep", "{tmp}/done", "--trial", "5"], "out of range"),
    (["run", "--from-sweep", "{tmp}/done"], "go together"),
    (["sweep", SCENARIO, "--trials", "3", "--out", "{tmp}/done", *FAST], "already holds"),
    (["sweep", SCENARIO, "--trials", "4", "--out", "{tmp}/done", "--resume", *FAST],
     "different sweep"),
])
def test_bad_input_is_one_line_and_exit_2(tmp_path: Path, args: list[str],
                                          message: str) -> None:
    done = runner.invoke(app, _sweep(tmp_path / "done", "--trials", "3", "-f", "json"))
    assert done.exit_code == 0, done.output
    res = runner.invoke(app, [a.replace("{tmp}", str(tmp_path)) for a in args])
    assert res.exit_code == 2, res.output
    assert res.stderr.startswith("error: ") and res.stderr.count("\n") == 1, res.stderr
    assert message in res.stderr


def test_sigkill_then_resume_gives_the_uninterrupted_trials(tmp_path: Path) -> None:
    killed, whole = tmp_path / "killed", tmp_path / "whole"
    args = ["--trials", "120", "--chunk-size", "5", "--load-scale", "0.9,1.2", "-f", "json"]
    code = "from blackout.cli import main; main()"
    proc = subprocess.Popen([sys.executable, "-c", code, *_sweep(killed, *args)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            env={**os.environ, "OPENBLAS_NUM_THREADS": "1"})
    deadline = time.monotonic() + 60
    while not (killed / "chunk-000000.parquet").exists():
        assert proc.poll() is None, proc.stderr.read() if proc.stderr else ""
        assert time.monotonic() < deadline, "no chunk written within 60 s"
        time.sleep(0.02)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    if proc.stderr is not None:
        proc.stderr.close()
    assert proc.returncode == -signal.SIGKILL
    written = ResultStore(killed).completed()
    assert 0 < len(written) < 24  # killed mid-run
    res = runner.invoke(app, _sweep(killed, *args, "--resume"))
    assert res.exit_code == 0, res.output
    s = json.loads(res.stdout)
    assert s["resumed"] == 5 * len(written) and s["ran"] == 120 - s["resumed"]
    ref = runner.invoke(app, _sweep(whole, *args))
    assert ref.exit_code == 0, ref.output
    a, b = ResultStore(killed).load(), ResultStore(whole).load()
    assert a["trial"].tolist() == list(range(120))  # none lost, none duplicated
    pd.testing.assert_frame_equal(_values(a), _values(b))
    assert not list(killed.glob(".chunk-*"))


def test_sweep_of_a_scenario_with_priors_prints_what_varies(tmp_path: Path) -> None:
    import yaml
    from tests.test_uncertainty import CASE39

    sc = tmp_path / "sc.yaml"
    sc.write_text(yaml.safe_dump(CASE39), encoding="utf-8")
    out = tmp_path / "sw"
    res = runner.invoke(app, ["sweep", str(sc), "--trials", "6", "--out", str(out),
                              "--workers", "0", "--format", "table"])
    assert res.exit_code == 0, res.output
    text = " ".join(res.output.split())
    assert "load lost:" in text and "driven by demand" in text
    assert "no power-law fit" in text and "power-law tail" not in text
    assert "initiating elements (apart): 16-19 (6 trials)" in text
    frame = pd.read_parquet(out)  # the folder is a Parquet dataset
    assert len(frame) == 6 and "input_demand" in frame.columns
    html = tmp_path / "r.html"
    rep = runner.invoke(app, ["report", str(out), "-o", str(html)])
    assert rep.exit_code == 0, rep.output
    page = html.read_text(encoding="utf-8")
    assert "Initiating elements (shown apart)" in page and "no power-law fit" in page
    central = runner.invoke(app, ["sweep", str(sc), "--trials", "2", "--out",
                                  str(tmp_path / "c"), "--workers", "0", "--central",
                                  "--format", "json"])
    assert central.exit_code == 0, central.output
    assert json.loads(central.stdout)["outcomes"]["load_lost_mw"]["varies"] is False


def test_sweep_participation_rule_reaches_the_fast_engine(tmp_path: Path) -> None:
    """--participation is stored with the sweep and used by its fast engine."""
    from blackout.study import load_sweep
    res = runner.invoke(app, _sweep(tmp_path / "p", "--trials", "4", "--participation",
                                    "pmax", "-f", "json"))
    assert res.exit_code == 0, res.output
    manifest = json.loads((tmp_path / "p" / "_manifest.json").read_text())
    assert json.dumps(manifest).count('"participation": "pmax"') >= 1
    assert len(load_sweep(tmp_path / "p")) == 4
