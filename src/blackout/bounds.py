"""Resource bounds of one run: what the schema accepts and what the engine will do.

Every value a user gives is bounded so that a run ends in bounded time and memory;
a value past a bound is a clear error naming the field, never a run that grows until
the machine runs out. The bounds are tied to the engine's resolution:

- the cascade engine re-solves the power flow at most every
  ``CascadeSettings.max_flow_interval_s`` (1 s) while frequency moves and samples the
  frequency trace every 0.02 s (:meth:`blackout.physics.frequency.IslandFrequency.advance`);
  a threat model's time step or period finer than :data:`MIN_STEP_S` (1 s) only adds
  events the quasi-steady-state model cannot resolve, and timed setpoint changes closer
  than :data:`MIN_EVENT_SPACING_S` (0.02 s) fall between two trace samples;
- a run simulates at most :data:`MAX_HORIZON_S` (30 days): restoration of a national
  blackout takes days, not months;
- one run holds at most :data:`MAX_EVENTS_PER_RUN` events (initiating and caused) and
  takes at most :data:`MAX_STEPS_PER_RUN` time steps; past either the run stops with a
  :class:`~blackout.errors.ResourceLimitError` naming the input that drove it. A
  typical run takes tens to hundreds of each (the built-in scenarios: 12-140 steps,
  17-153 events);
- a threat model steps through time at most :data:`MAX_MODEL_STEPS` times.
"""

from __future__ import annotations

__all__ = [
    "MAX_EVENTS_PER_RUN",
    "MAX_HORIZON_S",
    "MAX_MODEL_STEPS",
    "MAX_STEPS_PER_RUN",
    "MIN_EVENT_SPACING_S",
    "MIN_STEP_S",
]

#: Longest simulated horizon of one run, s (30 days).
MAX_HORIZON_S: float = 30 * 86_400.0

#: Shortest time step or period of a threat model, s (the engine's power-flow interval).
MIN_STEP_S: float = 1.0

#: Shortest spacing of timed setpoint changes, s (the frequency trace's sampling interval).
MIN_EVENT_SPACING_S: float = 0.02

#: Most events (initiating plus caused) one run may schedule.
MAX_EVENTS_PER_RUN: int = 200_000

#: Most time steps (frequency integration intervals) of one cascade run.
MAX_STEPS_PER_RUN: int = 50_000

#: Most time steps of one threat model (e.g. a wildfire's spread steps) in one run.
MAX_MODEL_STEPS: int = 200_000
