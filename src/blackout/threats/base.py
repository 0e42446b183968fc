"""What every threat shares: the spec base class, time values, name resolution, effects.

A threat is a small pydantic *spec* (what the scenario file says) and a function
``effects(grid, spec, *, rng, resolver) -> ThreatEffects`` turning it into timed
:class:`~blackout.events.Event` objects plus two kinds of data that are not grid
events: engine-setting overrides (e.g. a hidden-failure probability, a slower
operator) and data for the restoration module (repair times, crew shortages,
interference with reclosing). Threats never import the cascade engine.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Annotated, Any

import numpy as np
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, WithJsonSchema, model_validator

from blackout.errors import ScenarioError, UnknownElementError
from blackout.grid.model import Grid
from blackout.threats.effects import ThreatEffects

__all__ = [
    "Loc",
    "Probability",
    "Resolver",
    "Seconds",
    "Spec",
    "ThreatEffects",
    "format_loc",
    "parse_seconds",
    "rng_for",
    "scenario_error",
]

Loc = tuple[str | int, ...]

_UNITS_S = {"s": 1.0, "sec": 1.0, "second": 1.0, "seconds": 1.0, "min": 60.0,
            "minute": 60.0, "minutes": 60.0, "h": 3600.0, "hour": 3600.0, "hours": 3600.0,
            "d": 86400.0, "day": 86400.0, "days": 86400.0}
_DURATION = re.compile(r"^\s*([-+]?\d+(?:\.\d*)?(?:[eE][-+]?\d+)?)\s*([A-Za-z]+)\s*$")


def parse_seconds(value: Any) -> Any:
    """A time in seconds from a number or a string with a unit (``"90 s"``, ``"15 min"``, ``"2 h"``).

    Anything else is passed through for pydantic to reject; a string with an
    unknown unit raises ``ValueError`` listing the allowed units.
    """
    if isinstance(value, str):
        m = _DURATION.match(value)
        if not m:
            try:
                return float(value)
            except ValueError:
                raise ValueError(f"expected a time in seconds or '<number> <unit>' with unit "
                                 f"s, min, h or d; got {value!r}") from None
        number, unit = m.groups()
        if unit.lower() not in _UNITS_S:
            raise ValueError(f"unknown time unit {unit!r} in {value!r}; allowed: s, min, h, d")
        return float(number) * _UNITS_S[unit.lower()]
    return value


#: A non-negative time in seconds; YAML/TOML may also write "15 min", "2 h".
Seconds = Annotated[
    float,
    BeforeValidator(parse_seconds),
    Field(ge=0, allow_inf_nan=False),
    WithJsonSchema({"anyOf": [{"type": "number", "minimum": 0},
                              {"type": "string", "pattern": r"^\d+(\.\d*)?\s*(s|min|h|d)$"}],
                    "description": "time in seconds, or a number with unit s, min, h or d"}),
]

#: A probability in [0, 1].
Probability = Annotated[float, Field(ge=0.0, le=1.0, allow_inf_nan=False)]


class Spec(BaseModel):
    """Base of every scenario section: unknown fields are errors that list the allowed ones."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    @model_validator(mode="before")
    @classmethod
    def _known_fields(cls, data: Any) -> Any:
        if isinstance(data, dict):
            allowed = set(cls.model_fields)
            unknown = [k for k in data if k not in allowed]
            if unknown:
                raise ValueError(f"unknown field {unknown[0]!r}; allowed: "
                                 f"{', '.join(sorted(allowed))}")
        return data


class Resolver:
    """Resolves element names of a scenario on a grid; errors name the file and field path.

    ``base`` is the field path of the threat (``("threats", 0)``); ``line_of``
    maps a full field path to a line number where the file format allows.
    """

    def __init__(self, grid: Grid, *, source: str = "<scenario>", base: Loc = (),
                 line_of: Any = None) -> None:
        self.grid = grid
        self.source = source
        self.base = base
        self._line_of = line_of

    def at(self, *loc: str | int) -> Resolver:
        """A resolver for a sub-section."""
        return Resolver(self.grid, source=self.source, base=self.base + loc,
                        line_of=self._line_of)

    def error(self, loc: Sequence[str | int], message: str) -> ScenarioError:
        """A ScenarioError naming the file, the field path (and line) and the message."""
        full = self.base + tuple(loc)
        return scenario_error(self.source, full, message, self._line_of)

    def find(self, element: str, name: str, loc: Sequence[str | int]) -> int:
        """Position of the ``element`` called ``name``; the error lists the closest names."""
        try:
            return self.grid.find(element, name)
        except UnknownElementError as exc:
            raise self.error(loc, str(exc)) from None

    def bus_or_substation(self, name: str, loc: Sequence[str | int]) -> list[int]:
        """Bus positions of a substation: the bus called ``name``, else buses starting with it.

        A substation with several voltage levels ("Guri 765 kV", "Guri 400 kV") is
        named by its common prefix ("Guri").
        """
        names = [str(n) for n in self.grid.bus["name"]]
        if name in names:
            return [names.index(name)]
        pref = [i for i, n in enumerate(names)
                if n.casefold().startswith(name.casefold() + " ") or n.casefold() == name.casefold()]
        if pref:
            return pref
        return [self.find("bus", name, loc)]


def scenario_error(source: str, loc: Sequence[str | int], message: str,
                   line_of: Any = None) -> ScenarioError:
    """Format ``FILE: field a.b[2].c (line N): message``."""
    path = format_loc(loc)
    line = line_of(tuple(loc)) if line_of is not None else None
    where = f"field {path}" if path else "top level"
    if line is not None:
        where += f" (line {line})"
    return ScenarioError(f"{source}: {where}: {message}")


def format_loc(loc: Sequence[str | int]) -> str:
    """``("threats", 0, "polygons")`` -> ``threats[0].polygons``."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out


def rng_for(seed: int, index: int) -> np.random.Generator:
    """The random stream of threat number ``index``: adding a threat does not shift the others."""
    return np.random.default_rng([int(seed) & 0xFFFFFFFF, index])
