"""A run of named trips, the scenario-less start of a cascade (``blackout run --trip``).

:func:`trip_events` turns element names into trip events, :func:`run_trips` loads a case,
rates it if asked, trips the elements and simulates; :func:`default_7_march` is the plain
two-circuit trip of the 7 March 2019 Guri-Malena fire (the built-in scenario
``venezuela-2019-03-07-fire`` is the full account).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from blackout.cases import load_case
from blackout.events import Event
from blackout.grid.model import Grid

if TYPE_CHECKING:  # the engine loads pandapower: imported when a run starts
    from blackout.cascade import Timeline

__all__ = ["DEFAULT_TRIPS", "PRESETS", "default_7_march", "run_trips", "trip_events"]

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
              preset: str = "detailed", ratings: str | None = None,
              q_limits: bool = False) -> Timeline:
    """Load ``case``, trip ``names`` at ``at_s`` and simulate (AC unless ``dc``).

    ``preset``: "detailed" (the time-domain engine) or "accfm" (the AC-CFM rule,
    :meth:`CascadeSettings.accfm_like`). ``ratings``: a ``--derive-ratings`` rule
    (:data:`blackout.grid.ratings.RATINGS_GRAMMAR`) for the case's unrated branches.
    ``q_limits``: the detailed engine's AC flows enforce reactive limits."""
    from blackout.cascade import CascadeSettings, simulate
    from blackout.flow.ratings import apply_ratings

    grid = apply_ratings(load_case(case), ratings)
    if preset == "accfm":
        settings = CascadeSettings.accfm_like().with_(horizon_s=horizon_s)
    else:
        settings = CascadeSettings(mode="dc" if dc else "ac", horizon_s=horizon_s,
                                   q_limits=q_limits)
    return simulate(grid, trip_events(grid, names, at_s=at_s, cause=cause), settings=settings)


def default_7_march(*, dc: bool = False, horizon_s: float = 3600.0) -> Timeline:
    """The built-in default: a vegetation fire trips Guri-Malena 765 kV 1 and 2 at t = 0."""
    return run_trips("venezuela2019", list(DEFAULT_TRIPS), dc=dc, horizon_s=horizon_s,
                     cause="vegetation fire")
