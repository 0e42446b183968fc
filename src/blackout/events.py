"""Events: the vocabulary shared by threats, the cascade engine and restoration.

An :class:`Event` is a scheduled or recorded change to the state of the grid: a
branch opens, a generator trips, a block of load is shed. Every event carries its
cause, so that a timeline can be followed back to the initiating event.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

__all__ = ["Event", "ElementKind", "ACTIONS"]

ElementKind = Literal["branch", "gen", "load", "bus", "region", "relay", "ufls", "island"]

#: Actions the cascade engine understands, with their meaning.
ACTIONS: dict[str, str] = {
    "trip": "element taken out of service (breaker opens)",
    "close": "element returned to service (breaker closes)",
    "derate": "branch rating multiplied by `value` (e.g. hot air from a fire)",
    "set_p": "generator active-power setpoint set to `value` MW",
    "set_droop": "generator governor droop set to `value` (per unit)",
    "shed": "fraction `value` of a load disconnected",
    "restore": "fraction `value` of a load reconnected",
    "block_relay": "protection of the element disabled",
    "unblock_relay": "protection of the element re-enabled",
    "block_ufls": "under-frequency load shedding disabled in the element's region (or everywhere)",
}


@dataclass(frozen=True, order=True)
class Event:
    """A change to the grid's state at ``time_s`` seconds after the start.

    ``element`` is the element's integer position in its table (``-1`` when the
    event applies to the whole grid), ``cause`` a short text saying why, and
    ``caused_by`` the index of the event in the timeline that caused this one
    (``None`` for an initiating event).
    """

    time_s: float
    kind: str = field(compare=False)
    element: int = field(compare=False)
    action: str = field(compare=False)
    cause: str = field(compare=False, default="scheduled")
    value: float | None = field(compare=False, default=None)
    caused_by: int | None = field(compare=False, default=None)
    detail: dict[str, Any] = field(compare=False, default_factory=dict)

    def __post_init__(self) -> None:
        if self.action not in ACTIONS:
            raise ValueError(f"unknown event action {self.action!r}; allowed: {sorted(ACTIONS)}")
        if self.time_s < 0:
            raise ValueError(f"event time must be >= 0 s, got {self.time_s}")
