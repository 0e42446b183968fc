"""The ``restoration:`` section of a scenario file: its events and its inputs.

A case carries physics and data, never events. What happens during restoration
(a second collapse, an explosion, a cyber-attack that forces manual operation) is
declared by the scenario whose account contains it, with its source; how fast the
work goes (crews, patrols, black-start units, manual switching) is a scenario input
whose default is the case's value (``restore/data/<case>.toml``).

Example (YAML)::

    restoration:
      crews: 24                       # nominal line crews
      inspection_kmh: 6               # ground patrol, km/h
      reproduces: "national restoration in 5-7 days, capital first"
      departs: ""
      interference:
        - name: venezuela-2019-03-09-second-collapse
          at_h: 43.17
          collapse: true
          damage: [{substation: "San Gerónimo B", repair_h: 60}]
          sources: ["El Comercio/AFP 2019-03-09"]
"""

from __future__ import annotations

from typing import Any

from pydantic import Field, model_validator

from blackout.restore.interference import Interference
from blackout.threats.base import Spec

__all__ = ["DamageSpec", "InterferenceSpec", "RestorationSpec"]


class DamageSpec(Spec):
    """One damaged element: exactly one of substation, branch or unit, and its repair time."""

    substation: str | None = None
    branch: str | None = None
    unit: str | None = None
    repair_h: float = Field(ge=0, allow_inf_nan=False, description="repair time, h")

    @model_validator(mode="after")
    def _one_element(self) -> DamageSpec:
        given = [k for k in ("substation", "branch", "unit") if getattr(self, k) is not None]
        if len(given) != 1:
            raise ValueError("give exactly one of substation, branch, unit")
        return self

    def to_dict(self) -> dict[str, Any]:
        """The engine's damage entry (``{substation|branch|unit: name, repair_h}``)."""
        return {k: v for k, v in self.model_dump().items() if v is not None}


class InterferenceSpec(Spec):
    """An event during restoration (see :mod:`blackout.restore.interference`)."""

    name: str = Field(min_length=1)
    at_h: float = Field(ge=0, allow_inf_nan=False, description=(
        "hours after the event's start (t = 0 of the scenario)"))
    collapse: bool = Field(default=False, description="the live system collapses again")
    collapse_buses: list[str] = Field(default_factory=list, description=(
        "only live islands holding one of these buses collapse (empty: all)"))
    damage: list[DamageSpec] = Field(default_factory=list)
    slowdown_factor: float = Field(default=1.0, ge=1.0, le=100.0, description=(
        "switching and pickup times x this from then on"))
    reclose_fails: bool = False
    bricked_substations: list[str] = Field(default_factory=list)
    description: str = ""
    sources: list[str] = Field(default_factory=list, description=(
        "where the account of this event is published"))

    def to_interference(self) -> Interference:
        """The engine's :class:`Interference`."""
        return Interference(name=self.name, at_h=self.at_h, collapse=self.collapse,
                            collapse_buses=tuple(self.collapse_buses),
                            damage=tuple(d.to_dict() for d in self.damage),
                            slowdown_factor=self.slowdown_factor,
                            reclose_fails=self.reclose_fails,
                            bricked_substations=tuple(self.bricked_substations),
                            description=self.description, sources=tuple(self.sources))


class RestorationSpec(Spec):
    """A scenario's restoration: its interference events and its parameter overrides.

    Every parameter left out takes the case's value (``restore/data/<case>.toml``, else
    ``default.toml``). ``reproduces`` says what of the cited account the restoration
    reproduces; ``departs`` where and why it does not. Both are printed with the run.
    """

    horizon_h: float | None = Field(default=None, gt=0, le=24 * 60, description=(
        "simulated restoration time after the event starts, h"))
    crews: int | None = Field(default=None, ge=1, le=10_000, description=(
        "line crews before workforce cuts"))
    workforce_fraction: float | None = Field(default=None, gt=0, le=1, description=(
        "share of nominal crews available"))
    inspection_kmh: float | None = Field(default=None, gt=0, le=1000, description=(
        "line patrol speed, km/h (ground patrol a few km/h, helicopter ~100)"))
    inspect: str | None = Field(default=None, pattern="^(faulted|all)$", description=(
        "patrol only faulted branches or every tripped branch before reclosing"))
    repair_default_h: float | None = Field(default=None, gt=0, description=(
        "repair time of damage given without one, h"))
    manual_switch_h: float | None = Field(default=None, ge=0, le=240, description=(
        "on-site switching at a substation whose remote control is lost, h"))
    switching_min: float | None = Field(default=None, gt=0, le=600, description=(
        "dispatcher time per switching action, min"))
    pickup_interval_min: float | None = Field(default=None, gt=0, le=600, description=(
        "time between load pickups in one island, min"))
    black_start_units: list[str] | None = Field(default=None, description=(
        "only these units black-start (names); none: the case's choice"))
    interference: list[InterferenceSpec] = Field(default_factory=list, description=(
        "events during restoration claimed by the scenario's account"))
    reproduces: str = Field(default="", description=(
        "what of the cited account the restoration reproduces"))
    departs: str = Field(default="", description=(
        "where and why the restoration departs from the cited account"))

    def overrides(self) -> dict[str, Any]:
        """The parameter overrides given (names of :class:`RestoreParams`)."""
        keys = ("horizon_h", "crews", "workforce_fraction", "inspection_kmh", "inspect",
                "repair_default_h", "manual_switch_h", "switching_min", "pickup_interval_min")
        out: dict[str, Any] = {k: getattr(self, k) for k in keys if getattr(self, k) is not None}
        if self.black_start_units is not None:
            out["black_start_units"] = tuple(self.black_start_units)
        return out

    def events(self) -> list[Interference]:
        """The interference events in time order."""
        return sorted((i.to_interference() for i in self.interference), key=lambda i: i.at_h)
