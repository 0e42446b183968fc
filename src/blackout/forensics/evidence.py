"""Evidence files: what was observed, how to measure it on a simulation, who said so.

An evidence file (YAML or TOML) holds *observations*. Each one says

- what was seen, in words (``description``) and as a range of values of one
  named *observable* measured on a simulated timeline (``observable``, ``range``);
- where it comes from (``source``) and how far that source is to be trusted
  (``reliability`` in [0, 1]); a claim later withdrawn is kept, marked
  ``retracted: true``, with reliability 0, so that it is shown but weighs nothing;
  ``partisan`` names the side a source speaks for (used by the sensitivity test
  that sets every partisan reliability to zero).

It may also list *candidate* observables: things nobody has reported yet (a relay
record, a SCADA log) whose expected information gain tells which one would best
settle the question.

Times of day (``"16:53"``) are allowed in the range of time observables; they
are compared with the simulated wall clock (the scenario's ``start_time`` plus
the simulated time).
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from blackout.errors import BlackoutError
from blackout.inputfiles import MAX_NESTING, TEXT_MAX_BYTES, check_nesting, read_text

__all__ = [
    "Candidate",
    "Evidence",
    "EvidenceError",
    "Observable",
    "Observation",
    "Selection",
    "builtin_evidence",
    "load_evidence",
    "parse_clock",
]

DATA_DIR = Path(__file__).parent / "data"
DEFAULT_EVIDENCE = "venezuela-2019-03"


class EvidenceError(BlackoutError):
    """An evidence or hypothesis file is invalid: the message names the file and field."""


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def parse_clock(value: Any) -> Any:
    """Seconds since midnight of ``"HH:MM"`` or ``"HH:MM:SS"``; other values unchanged."""
    if isinstance(value, str) and ":" in value:
        parts = value.strip().split(":")
        try:
            nums = [int(p) for p in parts]
        except ValueError:
            raise ValueError(f"not a time of day: {value!r} (use HH:MM or HH:MM:SS)") from None
        if len(nums) not in (2, 3) or not (0 <= nums[0] < 48 and 0 <= nums[1] < 60):
            raise ValueError(f"not a time of day: {value!r} (use HH:MM or HH:MM:SS)")
        return float(nums[0] * 3600 + nums[1] * 60 + (nums[2] if len(nums) == 3 else 0))
    return value


class Selection(_Model):
    """A set of grid elements, by name, name fragment, corridor or voltage.

    An element is selected when it matches *any* of ``names`` (exact),
    ``contains`` (substring) or ``corridors`` and, if ``kv_min`` is given, its
    nominal voltage (branches: the from-bus voltage) is at least ``kv_min``.
    With no names, fragments or corridors, every element of the kind matches
    (subject to ``kv_min``).
    """

    element: Literal["branch", "gen", "load", "bus"] = "branch"
    names: list[str] = Field(default_factory=list)
    contains: list[str] = Field(default_factory=list)
    corridors: list[str] = Field(default_factory=list)
    kv_min: float | None = Field(default=None, ge=0)


#: Observable kinds and what each measures (the unit of its range).
OBSERVABLE_KINDS: dict[str, str] = {
    "regions_dark": "number of regions with < 10 % of their demand served at `at` (count)",
    "load_lost_percent": "share of demand not served at `at` (%)",
    "tripped_count": "how many of the selected elements tripped by `at` (count)",
    "trip_time": "time of the first trip among the selected elements (s, or time of day)",
    "first_out": "1 if the first element of the selection's kind to trip is in the selection",
    "before": "1 if the selection trips before `other` (or `other` never trips), else 0",
    "interval": "first trip of `other` minus first trip of the selection (s; inf if either "
                "never trips)",
    "time_to_collapse": "first time served load fell below 10 % of demand (s, or time of day)",
    "frequency_nadir": "lowest frequency of any island (Hz)",
    "frequency_zenith": "highest frequency of any island (Hz)",
    "islands_max": "largest number of energised islands at any time (count)",
    "region_restored_h": "hours from the start until the last of `regions` is 90 % served "
                         "for good (`first`: first re-energised); inf if never (restoration)",
}


class Observable(_Model):
    """How to measure one quantity on a simulated timeline (see ``OBSERVABLE_KINDS``)."""

    kind: Literal["regions_dark", "load_lost_percent", "tripped_count", "trip_time",
                  "first_out", "before", "interval", "time_to_collapse", "frequency_nadir",
                  "frequency_zenith", "islands_max", "region_restored_h"]
    select: Selection | None = Field(default=None, description=(
        "elements (tripped_count, trip_time, first_out, before)"))
    other: Selection | None = Field(default=None, description="the second set (before)")
    regions: list[str] = Field(default_factory=list, description="region names "
                               "(region_restored_h)")
    first: bool = Field(default=False, description=(
        "region_restored_h: first re-energised instead of 90 % served for good"))
    at: float | None = Field(default=None, ge=0, allow_inf_nan=False, description=(
        "measure at this time (s after the start, >= 0, or time of day); none: the end"))
    clock: bool = Field(default=False, description=(
        "times are times of day (set automatically when the range is written HH:MM)"))

    @field_validator("at", mode="before")
    @classmethod
    def _clock_at(cls, value: Any) -> Any:
        return parse_clock(value)

    @model_validator(mode="after")
    def _needs(self) -> Observable:
        if self.kind in ("tripped_count", "trip_time", "first_out", "before", "interval") and \
                self.select is None:
            raise ValueError(f"observable {self.kind!r} needs 'select'")
        if self.kind in ("before", "interval") and self.other is None:
            raise ValueError(f"observable {self.kind!r} needs 'other'")
        if self.kind == "region_restored_h" and not self.regions:
            raise ValueError("observable 'region_restored_h' needs 'regions'")
        return self


class Observation(_Model):
    """One reported fact, how to measure it, its source and reliability."""

    name: str = Field(min_length=1)
    description: str = ""
    observable: Observable
    range: tuple[float, float] = Field(description=(
        "the observed value lies in [low, high]; times may be written HH:MM"))
    tolerance: float | None = Field(default=None, gt=0, description=(
        "soft edge of the range: a value d outside it keeps exp(-d^2 / 2 tol^2) of the "
        "likelihood (default: per observable kind)"))
    source: str = Field(min_length=1)
    reliability: float = Field(default=1.0, ge=0, le=1)
    partisan: str | None = Field(default=None, description=(
        "the side the source speaks for (e.g. 'government', 'opposition'), if any"))
    retracted: bool = Field(default=False, description=(
        "the claim was withdrawn or contradicted: kept and shown, reliability 0"))

    @model_validator(mode="before")
    @classmethod
    def _clock_range(cls, data: Any) -> Any:
        if not isinstance(data, dict) or "range" not in data:
            return data
        rng = data["range"]
        if isinstance(rng, (list, tuple)) and any(isinstance(v, str) and ":" in v
                                                  for v in rng):
            data = {**data, "range": [parse_clock(v) for v in rng]}
            obs = data.get("observable")
            if isinstance(obs, dict):
                data["observable"] = {**obs, "clock": True}
        if data.get("retracted") and "reliability" not in data:
            data = {**data, "reliability": 0.0}
        return data

    @model_validator(mode="after")
    def _consistent(self) -> Observation:
        low, high = self.range
        if not (math.isfinite(low) and math.isfinite(high)):
            raise ValueError(f"range values must be finite numbers, got [{low}, {high}]")
        if not low <= high:
            raise ValueError(f"range low ({low}) must be <= high ({high})")
        if self.retracted and self.reliability != 0:
            raise ValueError("a retracted observation has reliability 0 "
                             f"(got {self.reliability})")
        return self

    @property
    def edge(self) -> float:
        """The soft edge width used by the likelihood kernel (unit of the observable)."""
        if self.tolerance is not None:
            return self.tolerance
        return DEFAULT_TOLERANCE[self.observable.kind]


def needs_restoration(observables: list[Observable] | tuple[Observable, ...]) -> bool:
    """Whether measuring these observables needs a restoration run."""
    return any(o.kind == "region_restored_h" for o in observables)


#: Default soft edge per observable kind: about the resolution a report gives.
DEFAULT_TOLERANCE: dict[str, float] = {
    "regions_dark": 1.0, "load_lost_percent": 5.0, "tripped_count": 0.5,
    "trip_time": 60.0, "first_out": 0.25, "before": 0.25, "interval": 60.0, "time_to_collapse": 60.0,
    "frequency_nadir": 0.2, "frequency_zenith": 0.2, "islands_max": 0.5,
    "region_restored_h": 12.0,
}


class Candidate(_Model):
    """An observable nobody has reported yet; ``bins`` are the outcomes told apart."""

    name: str = Field(min_length=1)
    description: str = ""
    observable: Observable
    bins: list[float] | None = Field(default=None, description=(
        "increasing bin edges of the outcome (default: 0/1 for yes-no observables, "
        "else quartiles of the simulated values)"))

    @field_validator("bins", mode="before")
    @classmethod
    def _clock_bins(cls, value: Any) -> Any:
        if isinstance(value, list):
            return [parse_clock(v) for v in value]
        return value


class Evidence(_Model):
    """An evidence file: observations (with sources) and candidate observables."""

    name: str = Field(min_length=1)
    description: str = ""
    period: str = ""
    observations: list[Observation] = Field(min_length=1)
    candidates: list[Candidate] = Field(default_factory=list)

    @model_validator(mode="after")
    def _unique(self) -> Evidence:
        names = [o.name for o in self.observations] + [c.name for c in self.candidates]
        dup = sorted({n for n in names if names.count(n) > 1})
        if dup:
            raise ValueError(f"names must be unique; repeated: {', '.join(dup)}")
        return self

    def with_reliabilities(self, reliability: dict[str, float]) -> Evidence:
        """A copy with some observations' reliabilities replaced (by name)."""
        obs = [o.model_copy(update={"reliability": reliability[o.name]})
               if o.name in reliability else o for o in self.observations]
        return self.model_copy(update={"observations": obs})


# ------------------------------------------------------------------------ loading
def builtin_evidence() -> dict[str, Path]:
    """Built-in evidence files by name (``forensics/data/*.yaml`` except hypotheses)."""
    return {p.stem: p for p in sorted(DATA_DIR.glob("*.yaml"))
            if not p.stem.startswith("hypotheses")}


def read_mapping(source: str | Path, what: str) -> tuple[dict[str, Any], str]:
    """Parse a YAML or TOML file into a mapping; errors name the file."""
    path = Path(source)
    # a regular UTF-8 file of at most 4 MiB (a FIFO, directory or /dev/zero is refused)
    text = read_text(path, max_bytes=TEXT_MAX_BYTES, what=what, error=EvidenceError)
    try:
        if path.suffix == ".toml":
            import tomllib

            data: Any = tomllib.loads(text)
        elif path.suffix in (".yaml", ".yml"):
            data = yaml.safe_load(text)
        else:
            raise EvidenceError(f"{path}: unknown {what} format {path.suffix!r}; "
                                "allowed: .yaml, .yml, .toml")
    except (yaml.YAMLError, ValueError) as exc:
        if isinstance(exc, EvidenceError):
            raise
        raise EvidenceError(f"{path}: not valid {path.suffix[1:].upper()}: "
                            f"{str(exc).splitlines()[0]}") from None
    except RecursionError:
        raise EvidenceError(f"{path}: nested too deeply") from None
    if check_nesting(data, limit=MAX_NESTING) is not None:
        raise EvidenceError(f"{path}: nested too deeply (over {MAX_NESTING} levels)")
    if not isinstance(data, dict):
        raise EvidenceError(f"{path}: a {what} file is a mapping, got {type(data).__name__}")
    return data, str(path)


def validation_error(source: str, exc: ValidationError) -> EvidenceError:
    """One-line EvidenceError naming the file and the first failing field."""
    first = exc.errors()[0]
    loc = ".".join(str(p) for p in first["loc"])
    msg = str(first["msg"]).removeprefix("Value error, ")
    if first["type"] == "missing":
        msg = "required field missing"
    elif first["type"] == "extra_forbidden":
        msg = "unknown field"
    more = f" (and {len(exc.errors()) - 1} more problems)" if len(exc.errors()) > 1 else ""
    return EvidenceError(f"{source}: {loc}: {msg}{more}")


def load_evidence(source: str | Path | dict[str, Any] | None = None) -> Evidence:
    """Validate an evidence file, a built-in evidence name or a mapping.

    With no argument, the built-in evidence of 7-14 March 2019. Raises
    :class:`EvidenceError` naming the file and field.
    """
    if source is None:
        source = DEFAULT_EVIDENCE
    if isinstance(source, dict):
        data, where = source, "<evidence>"
    else:
        builtin = builtin_evidence()
        if isinstance(source, str) and source in builtin:
            source = builtin[source]
        elif not Path(source).exists() and Path(str(source)).suffix == "":
            raise EvidenceError(f"{source}: not an evidence file nor a built-in evidence "
                                f"(built-in: {', '.join(builtin)})")
        data, where = read_mapping(source, "evidence")
    try:
        return Evidence.model_validate(data)
    except ValidationError as exc:
        raise validation_error(where, exc) from None
