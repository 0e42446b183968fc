"""``blackout run``: simulate a cascade and print its timeline.

With a SCENARIO (a built-in name or a file) the scenario's threats give the
initiating events. With ``--trip NAME[,NAME]`` only the named elements trip, at
``--at`` seconds, on ``--case`` (default venezuela2019). With neither, the built-in
scenario ``venezuela-2019-03-07-fire`` runs: a vegetation fire under the Guri-Malena
765 kV circuits; what follows (the third circuit's overload trip, the collapse) is
left to the physics. ``default_7_march`` keeps the plain two-circuit trip.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from blackout.bounds import MAX_HORIZON_S
from blackout.cases import load_case
from blackout.cli.app import Format, app, emit, guarded
from blackout.errors import BlackoutError
from blackout.events import Event
from blackout.grid.model import Grid

if TYPE_CHECKING:  # the engine loads pandapower: imported when a command runs
    from blackout.cascade import Timeline

__all__ = ["run_cmd", "run_trips", "default_7_march", "DEFAULT_TRIPS"]

#: The 7 March 2019 default: two of the three Guri-Malena circuits lost to a fire.
DEFAULT_TRIPS = ("Guri-Malena 765 kV 1", "Guri-Malena 765 kV 2")


def trip_events(grid: Grid, names: list[str], *, at_s: float = 0.0,
                cause: str = "scheduled trip") -> list[Event]:
    """Trip events for elements named ``names`` (branches, generators, buses or loads)."""
    events = []
    for name in names:
        kind, pos = grid.find_any(name.strip())
        events.append(Event(float(at_s), kind, pos, "trip", cause=cause))
    return events


#: ``--preset`` values: the cascade rule a run uses
PRESETS = ("detailed", "accfm")


def run_trips(case: str, names: list[str], *, at_s: float = 0.0, dc: bool = False,
              horizon_s: float = 3600.0, cause: str = "scheduled trip",
              preset: str = "detailed", ratings: str | None = None) -> Timeline:
    """Load ``case``, trip ``names`` at ``at_s`` and simulate (AC unless ``dc``).

    ``preset``: "detailed" (the time-domain engine) or "accfm" (the AC-CFM rule,
    :meth:`CascadeSettings.accfm_like`). ``ratings``: a ``--derive-ratings`` rule
    (:data:`blackout.grid.ratings.RATINGS_GRAMMAR`) for the case's unrated branches."""
    from blackout.cascade import CascadeSettings, simulate
    from blackout.grid.ratings import apply_ratings

    grid = apply_ratings(load_case(case), ratings)
    if preset == "accfm":
        settings = CascadeSettings.accfm_like().with_(horizon_s=horizon_s)
    else:
        settings = CascadeSettings(mode="dc" if dc else "ac", horizon_s=horizon_s)
    return simulate(grid, trip_events(grid, names, at_s=at_s, cause=cause), settings=settings)


def default_7_march(*, dc: bool = False, horizon_s: float = 3600.0) -> Timeline:
    """The built-in default: a vegetation fire trips Guri-Malena 765 kV 1 and 2 at t = 0."""
    return run_trips("venezuela2019", list(DEFAULT_TRIPS), dc=dc, horizon_s=horizon_s,
                     cause="vegetation fire")


@app.command("run")
@guarded
def run_cmd(
    scenario: Annotated[str | None, typer.Argument(
        help="scenario name or file (default: the 7 March 2019 fire)")] = None,
    case: Annotated[str, typer.Option("--case", help="case name or file")] = "venezuela2019",
    trip: Annotated[str | None, typer.Option(
        "--trip", help="elements to trip, comma-separated names")] = None,
    at: Annotated[float, typer.Option("--at", help="time of the trips, s")] = 0.0,
    dc: Annotated[bool, typer.Option("--dc", help="DC power flow instead of AC")] = False,
    horizon: Annotated[float | None, typer.Option(
        "--horizon", help="simulated time, s (default: the scenario's, else 3600)")] = None,
    fmt: Annotated[Format | None, typer.Option("--format", "-f", help="table or json")] = None,
    out: Annotated[Path | None, typer.Option("--out", "-o", help="write to FILE")] = None,
    report: Annotated[Path | None, typer.Option(
        "--report", help="also write the self-contained HTML report to FILE")] = None,
    restore: Annotated[bool | None, typer.Option(
        "--restore/--no-restore",
        help="simulate impact and restoration after the cascade (default: on for scenarios, "
             "off for --trip)")] = None,
    from_sweep: Annotated[Path | None, typer.Option(
        "--from-sweep", help="re-run one trial of the sweep in folder DIR (with --trial)")
    ] = None,
    trial: Annotated[int | None, typer.Option(
        "--trial", help="the sweep trial to re-run (with --from-sweep)")] = None,
    preset: Annotated[str, typer.Option(
        "--preset", help="cascade rule: detailed (time-domain engine) or accfm (the "
                         "AC-CFM rule, rounds without time)")] = "detailed",
    ratings: Annotated[str | None, typer.Option(
        "--derive-ratings", help="rate the case's unrated branches as K*max(base flow, "
        "FLOOR_MVA): K[,FLOOR_MVA][,basis=dc|ac][,override] (with --trip)")] = None,
) -> None:
    """Simulate a cascade: trip elements by name, run a scenario, or the 7 March default."""
    if horizon is not None and not 0 < horizon <= MAX_HORIZON_S:
        raise BlackoutError(f"--horizon must be > 0 s and at most {MAX_HORIZON_S:.0f} s "
                            f"(30 days), got {horizon}")
    if not (math.isfinite(at) and at >= 0):
        raise BlackoutError(f"--at must be a finite time >= 0 s, got {at}")
    if trip and at >= (horizon or 3600.0):
        raise BlackoutError(f"--at {at:g} s is not before the end of the run (--horizon "
                            f"{horizon or 3600.0:g} s): nothing would trip")
    if preset not in PRESETS:
        raise BlackoutError(f"--preset must be one of {', '.join(PRESETS)}, got {preset!r}")
    if preset == "accfm" and dc:
        raise BlackoutError("--preset accfm is an AC rule: drop --dc")
    if trial is not None and trial < 0:
        raise BlackoutError(f"--trial must be >= 0, got {trial}")
    from blackout.outcome import outcome_of, run_scenario

    if from_sweep is not None or trial is not None:
        if from_sweep is None or trial is None:
            raise BlackoutError("--from-sweep DIR and --trial I go together")
        if scenario or trip:
            raise BlackoutError("--from-sweep re-runs a sweep's trial: give no SCENARIO "
                                "and no --trip")
        from blackout.study.sweep.results import rerun_trial

        rerun = rerun_trial(from_sweep, trial)
        sweep_trial = rerun.to_dict()
        outcome = outcome_of(rerun.timeline, compiled=rerun.compiled if restore else None,
                             restore=bool(restore), label=f"sweep trial {trial}")
        if restore:  # the JSON of a re-run trial keeps its shape: no scenario sections
            outcome.scenario, outcome.case = None, None
        outcome.extra["sweep_trial"] = sweep_trial
    elif trip:
        from blackout.grid.ratings import parse_ratings_spec, unrated_branches

        if ratings is not None:
            parse_ratings_spec(ratings)  # bad input -> exit 2 before any work
        names = [n for n in trip.split(",") if n.strip()]
        unrated = unrated_branches(load_case(case)) if ratings is None else 0
        if unrated:  # the first line of output: no overload can trip those branches
            typer.echo(f"warning: {unrated} in-service branches of {case} have no rating "
                       "(rate_a_mva = 0) and never trip on overload, so the cascade cannot "
                       "spread over them; rate them with --derive-ratings "
                       "K[,FLOOR_MVA] (e.g. 1.3,31.7)", err=True)
        timeline = run_trips(case, names, at_s=at, dc=dc, horizon_s=horizon or 3600.0,
                             preset=preset, ratings=ratings)
        outcome = outcome_of(timeline, restore=bool(restore),
                             label=f"trip {', '.join(n.strip() for n in names)}")
    elif ratings is not None:
        raise BlackoutError("--derive-ratings goes with --trip (a scenario file rates its "
                            "grid with its own derive_ratings field)")
    elif case != "venezuela2019" and not scenario:
        raise BlackoutError(f"no initiating event for case {case}: give --trip NAME[,NAME]")
    else:
        overrides: dict[str, object] = {} if horizon is None else {"horizon_s": horizon}
        if dc:
            overrides["mode"] = "dc"
        if preset == "accfm":
            overrides.update(accfm=True, q_limits=True, mode="ac")
        outcome = run_scenario(scenario, restore=restore is not False, **overrides)
    data = outcome.to_dict()
    text = outcome.render_text()
    if "sweep_trial" in outcome.extra:
        st = outcome.extra["sweep_trial"]
        text += (f"\n\nsweep trial {st['trial']} (seed {st['seed']}, "
                 f"{st['engine']} engine): reproduces the recorded trial: "
                 f"{st['matches']}")
    emit(data, text, fmt, out)
    if report:
        outcome.report(report)
        typer.echo(f"wrote {report}", err=True)
