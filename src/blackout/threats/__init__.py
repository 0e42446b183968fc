"""Threats: each turns a scenario's threat spec into timed events and data.

One module per threat: :mod:`~blackout.threats.wildfire`,
:mod:`~blackout.threats.cyber`, :mod:`~blackout.threats.sabotage`,
:mod:`~blackout.threats.neglect`. Each has a pydantic spec and an
``*_effects(grid, spec, *, rng, resolver, horizon_s) -> ThreatEffects``
function; the effects are typed, frozen dataclasses (:mod:`~blackout.threats.effects`).
Threats never import the cascade engine.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

from pydantic import Field

from blackout.threats.base import Resolver, rng_for
from blackout.threats.cyber import CyberSpec, cyber_effects
from blackout.threats.effects import (
    BlindWindow,
    EngineOverrides,
    Repair,
    RestorationEffects,
    RestorationInterference,
    ThreatEffects,
)
from blackout.threats.neglect import NeglectSpec, neglect_effects, vegetation_factor
from blackout.threats.sabotage import SabotageSpec, sabotage_effects
from blackout.threats.wildfire import WildfireSpec, wildfire_effects

__all__ = [
    "EFFECTS",
    "BlindWindow",
    "EngineOverrides",
    "Repair",
    "RestorationEffects",
    "RestorationInterference",
    "CyberSpec",
    "NeglectSpec",
    "Resolver",
    "SabotageSpec",
    "ThreatEffects",
    "ThreatSpec",
    "WildfireSpec",
    "rng_for",
    "vegetation_factor",
]

#: A threat in a scenario, told apart by its ``kind``.
ThreatSpec = Annotated[
    WildfireSpec | CyberSpec | SabotageSpec | NeglectSpec, Field(discriminator="kind")
]

#: kind -> function turning the spec into effects.
EFFECTS: dict[str, Callable[..., ThreatEffects]] = {
    "wildfire": wildfire_effects,
    "cyber": cyber_effects,
    "sabotage": sabotage_effects,
    "neglect": neglect_effects,
}

