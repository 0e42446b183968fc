"""What a threat does, typed: events plus engine overrides and restoration data.

:class:`ThreatEffects` is the hand-off from a threat model to the scenario compiler
(:mod:`blackout.scenario`): timed grid events, :class:`EngineOverrides` (a hidden-failure
probability, a slower or blinded operator), :class:`RestorationEffects` (repairs, a crew
shortage, fuel caps, reclosing locks, interference with restoration) and output caps
applied to the snapshot. All frozen: the compiler combines several threats' effects.
``to_dict`` gives the plain data the cascade settings and the restoration read.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from blackout.events import Event

__all__ = ["BlindWindow", "EngineOverrides", "Repair", "RestorationEffects",
           "RestorationInterference", "ThreatEffects"]


@dataclass(frozen=True)
class BlindWindow:
    """The operator sees nothing (``mode`` "blind") or stale data from ``from_s`` to
    ``until_s``, s."""

    from_s: float
    until_s: float
    mode: str

    def to_dict(self) -> dict[str, float | str]:
        """``{"from_s", "until_s", "mode"}`` as the cascade settings read it."""
        return {"from_s": self.from_s, "until_s": self.until_s, "mode": self.mode}


@dataclass(frozen=True)
class EngineOverrides:
    """Engine settings a threat overrides; None: not set by this threat.

    ``hidden_failure_p``: probability a relay next to a trip misoperates;
    ``operator_delay_s``: the operator's reaction time, s; ``operator_blind``: windows
    without (current) data. Combined across threats by the worst case (maximum of
    probabilities and delays; all windows)."""

    hidden_failure_p: float | None = None
    operator_delay_s: float | None = None
    operator_blind: tuple[BlindWindow, ...] = ()


@dataclass(frozen=True)
class Repair:
    """An element out until a crew repairs it: ``element`` "gen", "branch" or "bus",
    its ``name`` (and grid ``position`` when known), ``repair_h`` hours of work, damaged
    at ``at_s`` (None: the restoration's start)."""

    element: str
    name: str
    repair_h: float
    position: int | None = None
    at_s: float | None = None

    def to_dict(self) -> dict[str, object]:
        """The damage spec the restoration reads (keys of unset fields left out)."""
        out: dict[str, object] = {"element": self.element}
        if self.position is not None:
            out["position"] = self.position
        out["name"] = self.name
        if self.at_s is not None:
            out["at_s"] = self.at_s
        out["repair_h"] = self.repair_h
        return out


@dataclass(frozen=True)
class RestorationInterference:
    """An attack on restoration from ``from_s``, s: reclosing fails the first time,
    every action takes ``slowdown_factor`` times as long, the substations named need
    manual switching."""

    from_s: float
    reclose_fails: bool
    slowdown_factor: float
    bricked_substations: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, object]:
        """The dict :func:`blackout.restore.interference.from_scenario` reads."""
        return {"from_s": self.from_s, "reclose_fails": self.reclose_fails,
                "slowdown_factor": self.slowdown_factor,
                "bricked_substations": list(self.bricked_substations)}


@dataclass(frozen=True)
class RestorationEffects:
    """A threat's data for the restoration.

    ``repairs``; ``crews_fraction`` (share of nominal crews, None: not set);
    ``fuel_caps_mw`` (unit name -> output cap, MW); ``reclose_locked_until_s`` (branch
    name -> time before which it may not be reclosed, s); ``interference``."""

    repairs: tuple[Repair, ...] = ()
    crews_fraction: float | None = None
    fuel_caps_mw: Mapping[str, float] = field(default_factory=dict)
    reclose_locked_until_s: Mapping[str, float] = field(default_factory=dict)
    interference: RestorationInterference | None = None


@dataclass(frozen=True)
class ThreatEffects:
    """What a threat does.

    Attributes
    ----------
    events : timed grid events for the cascade engine, sorted by time.
    settings : engine-setting overrides (:class:`EngineOverrides`).
    restoration : data for the restoration (:class:`RestorationEffects`).
    pmax_caps_mw : per generator position, a cap on its maximum output in MW
        applied to the snapshot before the run (fuel shortage).
    """

    events: tuple[Event, ...] = ()
    settings: EngineOverrides = EngineOverrides()
    restoration: RestorationEffects = RestorationEffects()
    pmax_caps_mw: Mapping[int, float] = field(default_factory=dict)

    def sorted_events(self) -> list[Event]:
        """Events ordered by time (stable for equal times)."""
        return sorted(self.events, key=lambda e: e.time_s)


def combine_settings(effects: list[ThreatEffects]) -> dict[str, object]:
    """The threats' engine overrides combined by the worst case, as settings by name:
    maximum of ``hidden_failure_p`` and ``operator_delay_s``, all blinding windows."""
    out: dict[str, object] = {}
    for key in ("hidden_failure_p", "operator_delay_s"):
        values = [v for fx in effects if (v := getattr(fx.settings, key)) is not None]
        if values:
            out[key] = max(values)
    blind = [w.to_dict() for fx in effects for w in fx.settings.operator_blind]
    if blind:
        out["operator_blind"] = blind
    return out


def combine_restoration(effects: list[ThreatEffects]) -> dict[str, object]:
    """The threats' restoration data merged as :func:`blackout.restore.restore` reads it:
    repairs and caps and locks of all threats, the last threat's crew share and
    interference."""
    out: dict[str, object] = {}
    repairs = [r.to_dict() for fx in effects for r in fx.restoration.repairs]
    if repairs:
        out["repairs"] = repairs
    for fx in effects:
        rest = fx.restoration
        if rest.crews_fraction is not None:
            out["crews_fraction"] = rest.crews_fraction
        if rest.interference is not None:
            out["interference"] = rest.interference.to_dict()
        for key, mapping in (("fuel_caps_mw", rest.fuel_caps_mw),
                             ("reclose_locked_until_s", rest.reclose_locked_until_s)):
            if mapping:
                merged = out.setdefault(key, {})
                assert isinstance(merged, dict)
                merged.update(mapping)
    return out
