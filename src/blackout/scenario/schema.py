"""The scenario file's schema: one pydantic model for YAML or TOML.

:class:`Scenario` names a case, :class:`Snapshot` overrides (load scaling, units and
branches out, fuel-limited plants, derived ratings), threats with their timing
(:mod:`blackout.threats`), :class:`OperatorSpec` and :class:`ProtectionSpec` overrides,
the restoration section, uncertain inputs, the horizon (s) and the random seed. Reading
a file is :mod:`blackout.scenario.load`.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, PrivateAttr, model_validator

from blackout.bounds import MAX_HORIZON_S
from blackout.errors import BlackoutError
from blackout.restore.spec import RestorationSpec
from blackout.threats import ThreatSpec
from blackout.threats.base import Loc, Probability, Seconds, Spec
from blackout.uncertainty import Prior

__all__ = ["DEFAULT_SCENARIO", "DeriveRatings", "FuelLimit", "Operator", "OperatorSpec",
           "Protection", "ProtectionSpec", "Scenario", "Snapshot"]

DEFAULT_SCENARIO = "venezuela-2019-03-07-fire"


class FuelLimit(Spec):
    """A unit whose output is capped by its fuel supply."""

    unit: str
    pmax_mw: float = Field(ge=0, allow_inf_nan=False, description=(
        "maximum output with the fuel at hand, MW"))


class DeriveRatings(Spec):
    """Rate unrated branches as ``k * max(|base flow|, floor_mva)`` (grid.ratings).

    Written as a mapping (``{k: 1.3, floor_mva: 31.7, basis: dc, override: false}``) or
    as the command line's one grammar, ``"K[,FLOOR_MVA][,basis=dc|ac][,override]"``.
    """

    k: float = Field(default=1.5, gt=0, le=10)
    floor_mva: float = Field(default=50.0, ge=0, allow_inf_nan=False)
    basis: Literal["dc", "ac"] = "dc"
    override: bool = Field(default=False, description="re-rate branches that have a rating")

    @model_validator(mode="before")
    @classmethod
    def _from_text(cls, data: Any) -> Any:
        if isinstance(data, str):
            from blackout.grid.ratings import parse_ratings_spec

            try:
                spec = parse_ratings_spec(data, option="derive_ratings")
            except BlackoutError as exc:
                raise ValueError(str(exc)) from None
            return {"k": spec.k, "floor_mva": spec.floor_mva, "basis": spec.basis,
                    "override": spec.override}
        return data


class Snapshot(Spec):
    """Changes to the case's operating point before the threats act.

    After loads are scaled and units removed or capped, the in-service units'
    dispatch is rescaled (within their limits, in proportion to headroom) to the
    new load plus the case's losses, so that the snapshot stays balanced.
    """

    load_scale: float = Field(default=1.0, gt=0, le=10, description="all loads x this")
    region_load_scale: dict[str, float] = Field(default_factory=dict, description=(
        "region name -> extra load multiplier"))
    units_out: list[str] = Field(default_factory=list, description="units out of service")
    branches_out: list[str] = Field(default_factory=list, description="branches out of service")
    fuel_limited: list[FuelLimit] = Field(default_factory=list)
    derive_ratings: DeriveRatings | None = Field(default=None, description=(
        "derive missing branch ratings (cases without ratings, e.g. case118)"))


class OperatorSpec(Spec):
    """The control-room operator's automatic response (redispatch, manual shedding)."""

    enabled: bool = True
    delay_s: Seconds | None = Field(default=None, description=(
        "response delay, s (none: the engine's default)"))


class ProtectionSpec(Spec):
    """Protection overrides for the whole run."""

    hidden_failure_p: Probability | None = Field(default=None, description=(
        "probability that a relay next to a tripped line misoperates"))
    ufls: bool = Field(default=True, description="under-frequency load shedding enabled")


class Scenario(Spec):
    """A scenario file."""

    name: str = Field(min_length=1)
    description: str = ""
    account: str = Field(default="", description="whose account of events this follows")
    sources: list[str] = Field(default_factory=list, description="where the account is published")
    case: str = Field(min_length=1, description="built-in case name or case file")
    start_time: str | None = Field(default=None, description=(
        "wall-clock time of t = 0, ISO 8601 (labels only)"))
    mode: Literal["ac", "dc"] = "ac"
    horizon_s: Seconds = Field(default=3600.0, gt=0, le=MAX_HORIZON_S, description=(
        f"simulated time, s (at most {MAX_HORIZON_S:.0f} s = 30 days; blackout.bounds)"))
    seed: int = Field(default=0, ge=0, le=2**32 - 1)
    snapshot: Snapshot = Field(default_factory=Snapshot)
    threats: list[ThreatSpec] = Field(default_factory=list)
    operator: OperatorSpec = Field(default_factory=OperatorSpec)
    protection: ProtectionSpec = Field(default_factory=ProtectionSpec)
    restoration: RestorationSpec = Field(default_factory=RestorationSpec, description=(
        "restoration inputs (case values by default) and the interference events "
        "this scenario's account claims (blackout.restore.spec)"))
    uncertain: dict[str, Prior] = Field(default_factory=dict, description=(
        "uncertain inputs with priors: `run` uses central values, `sweep` samples them "
        "(blackout.uncertainty)"))

    _source: str = PrivateAttr(default="<scenario>")
    _line_of: Callable[[Loc], int | None] | None = PrivateAttr(default=None)
    _base_dir: Path | None = PrivateAttr(default=None)

    @property
    def source(self) -> str:
        """The file this scenario came from (or ``<scenario>``)."""
        return self._source

    @property
    def line_of(self) -> Callable[[Loc], int | None] | None:
        """Maps a field's location to its line in :attr:`source` (None: no line numbers)."""
        return self._line_of

    @property
    def base_dir(self) -> Path | None:
        """The folder relative case paths are read from (the scenario file's folder)."""
        return self._base_dir

    def with_origin(self, source: str, line_of: Callable[[Loc], int | None] | None,
                    base_dir: Path | None) -> Scenario:
        """Record where this scenario was read from (for errors naming file and line)."""
        self._source, self._line_of, self._base_dir = source, line_of, base_dir
        return self


#: The names before the cascade engine's Operator and Protection were told apart.
Operator = OperatorSpec
Protection = ProtectionSpec
