"""Interference with restoration: new attacks, collapses and slowed work.

An :class:`Interference` happens at ``at_h`` (hours after the event starts) and may

- **collapse** the live system (``collapse = true``): every live island that
  contains one of ``collapse_buses`` (all live islands when empty) loses its
  units, branches and load; restoration restarts from that state (units start
  hot, branches need switching but no new patrol);
- **damage** elements (``damage``: list of ``{substation|branch|unit, repair_h}``):
  they open and stay out until a crew has repaired them;
- **slow** the work from then on: ``slowdown_factor`` multiplies switching and
  pickup times (manual operation, wiped workstations), ``reclose_fails`` makes
  the first closing attempt of each branch fail, ``bricked_substations`` need a
  crew on site (``manual_switch_h``) before any of their breakers can close.

Presets live in the restoration data file (``[interference.<name>]``); a
scenario's cyber ``interfere_restoration`` data (``from_s``, ``reclose_fails``,
``slowdown_factor``, ``bricked_substations``) converts with :func:`from_scenario`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from blackout.errors import BlackoutError

__all__ = ["Interference", "from_scenario", "resolve_interference"]


@dataclass(frozen=True)
class Interference:
    """One interference event (see the module docstring)."""

    name: str
    at_h: float
    collapse: bool = False
    collapse_buses: tuple[str, ...] = ()
    damage: tuple[dict[str, Any], ...] = ()
    slowdown_factor: float = 1.0
    reclose_fails: bool = False
    bricked_substations: tuple[str, ...] = ()
    description: str = ""
    sources: tuple[str, ...] = field(default=())

    @classmethod
    def from_dict(cls, name: str, data: Mapping[str, Any]) -> Interference:
        """From a preset table or a plain dict (``at_h`` or ``at_s`` required)."""
        allowed = {"at_h", "at_s", "collapse", "collapse_buses", "damage", "slowdown_factor",
                   "reclose_fails", "bricked_substations", "description", "sources", "name"}
        unknown = sorted(set(data) - allowed)
        if unknown:
            raise BlackoutError(f"interference {name!r}: unknown field {unknown[0]!r}; "
                                f"allowed: {', '.join(sorted(allowed))}")
        if "at_h" in data:
            at_h = float(data["at_h"])
        elif "at_s" in data:
            at_h = float(data["at_s"]) / 3600.0
        else:
            raise BlackoutError(f"interference {name!r} needs at_h (hours) or at_s (seconds)")
        if at_h < 0:
            raise BlackoutError(f"interference {name!r}: time must be >= 0, got {at_h} h")
        return cls(name=str(data.get("name", name)), at_h=at_h,
                   collapse=bool(data.get("collapse", False)),
                   collapse_buses=tuple(data.get("collapse_buses", ())),
                   damage=tuple(dict(d) for d in data.get("damage", ())),
                   slowdown_factor=float(data.get("slowdown_factor", 1.0)),
                   reclose_fails=bool(data.get("reclose_fails", False)),
                   bricked_substations=tuple(data.get("bricked_substations", ())),
                   description=str(data.get("description", "")),
                   sources=tuple(data.get("sources", ())))

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe summary."""
        return {"name": self.name, "at_h": self.at_h, "collapse": self.collapse,
                "damage": [dict(d) for d in self.damage],
                "slowdown_factor": self.slowdown_factor, "reclose_fails": self.reclose_fails,
                "bricked_substations": list(self.bricked_substations),
                "description": self.description}


def from_scenario(data: Mapping[str, Any]) -> Interference:
    """The cyber threat's ``restoration["interference"]`` dict as an Interference."""
    return Interference(name="cyber interference", at_h=float(data.get("from_s", 0.0)) / 3600.0,
                        slowdown_factor=float(data.get("slowdown_factor", 1.0)),
                        reclose_fails=bool(data.get("reclose_fails", False)),
                        bricked_substations=tuple(data.get("bricked_substations", ())))


def resolve_interference(items: Iterable[str | Interference | Mapping[str, Any]] | None,
                         presets: Mapping[str, Mapping[str, Any]],
                         defaults: Iterable[str] = ()) -> list[Interference]:
    """Interference objects from names (presets), dicts or objects, sorted by time.

    ``None`` means the defaults (preset names); an empty list means none.
    """
    chosen = list(defaults) if items is None else list(items)
    out: list[Interference] = []
    for item in chosen:
        if isinstance(item, Interference):
            out.append(item)
        elif isinstance(item, str):
            if item not in presets:
                raise BlackoutError(f"unknown interference preset {item!r}; known: "
                                    f"{', '.join(sorted(presets)) or 'none'}")
            out.append(Interference.from_dict(item, presets[item]))
        else:
            out.append(Interference.from_dict(str(item.get("name", "interference")), item))
    return sorted(out, key=lambda i: i.at_h)
