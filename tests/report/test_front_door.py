"""The front door: ``blackout.run_scenario -> Outcome``, the terminal text and the report
that the CLI, the server and Python all build from it."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from typer.testing import CliRunner

import blackout
from blackout.cli import app, commands  # noqa: F401  (registers the commands)
from blackout.outcome import Outcome, outcome_of


def _undated(html: str) -> str:
    return re.sub(r"generated \d{4}-\d\d-\d\dT\d\d:\d\d:\d\d", "generated <t>", html)


@pytest.fixture(scope="module")
def cli_default_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, Path]:
    """`blackout run --format table --report FILE`: the default 7 March scenario."""
    folder = tmp_path_factory.mktemp("cli")
    result = CliRunner().invoke(app, ["run", "--format", "table",
                                      "--report", str(folder / "cli.html")])
    assert result.exit_code == 0, result.output
    return result.stdout, folder / "cli.html"


def test_default_run_prints_a_short_story_headed_by_its_scenario(
        cli_default_run: tuple[str, Path]) -> None:
    lines = cli_default_run[0].splitlines()
    assert len(lines) <= 60
    assert lines[0].startswith("venezuela-2019-03-07-fire on venezuela2019")
    assert sum("UFLS" in ln and "stage" in ln for ln in lines) == 5  # one line per stage
    assert not any(re.search(r"set_droop|set_p\b|block_ufls", ln) for ln in lines)
    # a cause chain's initiating event is tagged once and referred to by its tag
    tagged = [ln for ln in lines if ln.endswith("[A]") and ", after" not in ln]
    assert len(tagged) == 1
    assert sum("[A]" in ln for ln in lines) > 3
    assert not any(ln.rstrip().endswith(":") for ln in lines)  # no empty list lines


def test_python_and_cli_give_the_same_run_and_report(cli_default_run: tuple[str, Path],
                                                     tmp_path: Path) -> None:
    out = blackout.run_scenario("venezuela-2019-03-07-fire")
    assert isinstance(out, Outcome)
    page = out.report(tmp_path / "py.html")
    assert _undated(page.read_text()) == _undated(cli_default_run[1].read_text())
    data = out.to_dict()
    assert list(data)[:3] == ["summary", "events", "traces"]
    assert data["scenario"]["name"] == "venezuela-2019-03-07-fire"
    trips = [e for e in data["events"] if e["action"] == "trip"]
    # every trip after the first names what caused it (the fire's common-mode trip of
    # circuit 2 points at circuit 1's flashover)
    assert trips and all(e["caused_by"] is not None for e in trips[1:])
    assert json.loads(json.dumps(data)) == data  # plain JSON
    assert out.to_frame("restoration").index.name == "time_h"
    crit = out.to_frame("critical")
    assert {"hospital", "payments"} <= set(crit.columns) and crit.index.max() > 24
    assert isinstance(out.to_frame("events"), pd.DataFrame)
    s = out.summary()
    assert s["scenario"] == "venezuela-2019-03-07-fire" and s["restoration"] is not None
    assert out.render_text().splitlines()[0] == cli_default_run[0].splitlines()[0]


def test_outcome_of_named_trips_keeps_the_plain_json(guri_trip: Any) -> None:
    out = outcome_of(guri_trip, restore=False, label="trip Guri-Malena 765 kV 1")
    assert list(out.to_dict()) == ["summary", "events", "traces"]
    assert out.render_text().splitlines()[0].startswith("trip Guri-Malena 765 kV 1 on ")
    with pytest.raises(ValueError, match="unknown frame"):
        out.to_frame("nope")


def test_terminal_groups_and_sub_second_clocks(venezuela: blackout.Grid) -> None:
    from blackout.cascade.timeline import Timeline
    from blackout.events import Event
    from blackout.report.text import render_run_text

    tl = Timeline(grid=venezuela, mode="ac", start_clock="16:50:00")
    root = tl.record(Event(0.0, "branch", 0, "trip", cause="user"))
    hf = {"why": "hidden failure (relay misoperation, p = 0.3)"}
    for b in range(1, 6):  # five relays misoperate at once: one line
        tl.record(Event(0.0, "branch", b, "trip", cause="hidden failure", caused_by=root,
                        detail=hf))
    for b in (6, 7):  # two overload trips a little later: a line each, tenths shown
        tl.record(Event(9.25 + 0.3 * (b - 6), "branch", b, "trip", cause="overload",
                        caused_by=1, detail={"why": f"overload {150 + b}%"}))
    for r in range(venezuela.region.n):  # a UFLS stage over every region: one line
        tl.record(Event(9.3, "region", r, "shed", cause="ufls", value=0.05, caused_by=6,
                        detail={"mechanism": "ufls", "stage_hz": 59.3, "mw": 10.0}))
    lines = render_run_text(tl, title="a test run").splitlines()
    assert lines[0] == "a test run"
    assert sum("5 branches tripped: hidden failure" in ln for ln in lines) == 1
    over = [ln for ln in lines if "tripped: overload" in ln]
    assert [ln[:10] for ln in over] == ["16:50:09.2", "16:50:09.5"]
    assert all(ln.endswith("[A]") for ln in over)  # referred to the tagged initiating trip
    stage = [ln for ln in lines if "UFLS 59.3 Hz stage" in ln]
    assert len(stage) == 1 and f"in {venezuela.region.n} regions (240 MW)" in stage[0]
