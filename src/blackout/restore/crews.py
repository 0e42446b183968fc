"""Field crews: line patrols, repairs and on-site switching, limited in number.

A task (patrol a tripped line, repair a damaged element, operate a substation
whose remote control is lost) sits at a location. A free crew drives there
(great-circle distance x road factor / travel speed), works ``work_h`` and is
free again where it finished. Tasks are served in priority order (lower first),
each by the nearest free crew. A repair is never done before ``earliest_h``
(the damage time plus the repair time). A damaged substation is one task whose
``elements`` (its branches and units) all return when it is done.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from blackout.grid.geo import great_circle_km

__all__ = ["Crew", "CrewPool", "Task", "distance_km"]

#: Great-circle distance, km (NaN when a coordinate is unknown): the grid's one rule.
distance_km = great_circle_km


@dataclass
class Task:
    """Work at a place: kind "patrol", "repair" or "manual"; ``key`` names the element."""

    key: tuple[str, int]
    kind: str
    lat: float
    lon: float
    work_h: float
    bus: int
    earliest_h: float = 0.0
    label: str = ""
    done_h: float | None = None
    elements: tuple[tuple[str, int], ...] = ()


@dataclass
class Crew:
    """One crew: where it is and until when it is busy."""

    ident: int
    lat: float
    lon: float
    busy_until_h: float = 0.0
    task: Task | None = None


class CrewPool:
    """Crews and pending tasks; :meth:`collect` finished work, :meth:`assign` free crews."""

    def __init__(self, positions: list[tuple[float, float]], *, travel_kmh: float,
                 road_factor: float, unknown_travel_h: float = 1.0) -> None:
        if not positions:
            raise ValueError("at least one crew is needed")
        self.crews = [Crew(k, lat, lon) for k, (lat, lon) in enumerate(positions)]
        self.pending: dict[tuple[str, int], Task] = {}
        self.travel_kmh, self.road_factor = travel_kmh, road_factor
        self.unknown_travel_h = unknown_travel_h
        self.log: list[dict[str, object]] = []

    def add(self, task: Task) -> None:
        """Queue a task (replacing a pending one for the same element)."""
        self.pending[task.key] = task

    def cancel(self, key: tuple[str, int]) -> None:
        """Drop a pending task (e.g. the element was destroyed again)."""
        self.pending.pop(key, None)

    def busy_with(self, key: tuple[str, int]) -> bool:
        """Whether a crew is working on ``key`` now."""
        return any(c.task is not None and c.task.key == key for c in self.crews)

    def travel_h(self, crew: Crew, task: Task) -> float:
        """Driving time of ``crew`` to ``task``, h."""
        d = distance_km(crew.lat, crew.lon, task.lat, task.lon)
        if not math.isfinite(d):
            return self.unknown_travel_h
        return d * self.road_factor / self.travel_kmh

    def collect(self, t_h: float) -> list[Task]:
        """Tasks finished by ``t_h``; their crews become free where they worked."""
        done = []
        for c in self.crews:
            if c.task is not None and c.busy_until_h <= t_h + 1e-9:
                c.task.done_h = c.busy_until_h
                done.append(c.task)
                c.lat, c.lon = c.task.lat, c.task.lon
                c.task = None
        return done

    def assign(self, t_h: float, priority: dict[tuple[str, int], float]) -> None:
        """Give free crews the highest-priority pending tasks (nearest crew first)."""
        free = [c for c in self.crews if c.task is None]
        if not free or not self.pending:
            return
        order = sorted(self.pending.values(), key=lambda tk: (priority.get(tk.key, 1e9),
                                                              tk.key))
        for task in order:
            if not free:
                break
            j = int(np.argmin([self.travel_h(c, task) for c in free]))
            crew = free.pop(j)
            start = max(t_h, crew.busy_until_h)
            finish = max(start + self.travel_h(crew, task) + task.work_h, task.earliest_h)
            crew.task, crew.busy_until_h = task, finish
            del self.pending[task.key]
            self.log.append({"crew": crew.ident, "task": task.kind, "element": task.label,
                             "start_h": round(start, 3), "finish_h": round(finish, 3)})
