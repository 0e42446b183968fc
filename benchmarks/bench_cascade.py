"""Benchmark the detailed cascade engine (issue 4). Prints results; not a test.

Targets on the 2-core reference machine: Venezuela end to end under 2 s, a
case2869pegase AC cascade of at least 10 trips under 30 s.

Run: ``python benchmarks/bench_cascade.py``
"""

from __future__ import annotations

import time

import numpy as np

from blackout import Event, load_case
from blackout.cascade import CascadeSettings, simulate
from blackout.flow import run_dc
from blackout.grid.ratings import derive_ratings


def timed(label: str, func, repeat: int = 3) -> None:  # type: ignore[no-untyped-def]
    best, tl = float("inf"), None
    for _ in range(repeat):
        t0 = time.perf_counter()
        tl = func()
        best = min(best, time.perf_counter() - t0)
    s = tl.summary()
    trips = sum(n for c, n in s["trips_by_cause"].items())
    print(f"{label:<58} {best:7.2f} s  trips {trips:4d}  load lost {s['load_lost_percent']:5.1f} %"
          f"  events {len(tl.events)}")


def venezuela(n_circuits: int, mode: str):  # type: ignore[no-untyped-def]
    grid = load_case("venezuela2019")
    events = [Event(0.0, "branch", grid.find("branch", f"Guri-Malena 765 kV {k}"), "trip",
                    cause="vegetation fire") for k in range(1, n_circuits + 1)]
    return lambda: simulate(grid, events, settings=CascadeSettings(mode=mode))


def pegase():  # type: ignore[no-untyped-def]
    # case2869pegase carries base-case overloads on its given ratings (up to 949 %), so
    # every branch is re-rated at 1.5 x its base DC flow (floor 50 MVA) and the branch
    # with the largest flow is tripped.
    grid = derive_ratings(load_case("case2869pegase"), k=1.5, override_given=True)
    first = int(np.argmax(np.abs(run_dc(grid).branch["p_from_mw"])))
    events = [Event(0.0, "branch", first, "trip", cause="benchmark")]
    return lambda: simulate(grid, events, settings=CascadeSettings(mode="ac", horizon_s=1800.0))


if __name__ == "__main__":
    for n in (1, 2, 3):
        timed(f"venezuela2019 AC, {n} Guri-Malena circuit(s), 1 h horizon", venezuela(n, "ac"))
    timed("venezuela2019 DC, 2 circuits", venezuela(2, "dc"))
    timed("case2869pegase AC, largest-flow branch, 30 min", pegase(), repeat=1)
