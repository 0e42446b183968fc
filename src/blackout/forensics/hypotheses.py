"""Hypotheses: a scenario template with uncertain parameters and their priors.

A hypothesis is one account of what happened (a fire, a cyber-attack, ...)
written as a scenario (a built-in scenario as ``base``, with ``scenario``
overrides merged over it) whose uncertain numbers are *parameters*: each has a
prior and the dotted paths in the scenario it sets (``threats.0.vegetation_load``,
``threats.0.actions.3.at_s``, ``start_time``). A trial draws every parameter from
its prior and runs the scenario so made.

A hypothesis file holds several hypotheses and the engine options they share
(the cascade engine's mode and horizon: forensics simulates each hypothesis many
times, so the default is the detailed engine in DC mode).
"""

from __future__ import annotations

import copy
import math
from pathlib import Path
from typing import Any, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from blackout.forensics.evidence import (
    DATA_DIR,
    EvidenceError,
    parse_clock,
    read_mapping,
    validation_error,
)

__all__ = [
    "EngineOptions",
    "Hypothesis",
    "HypothesisSet",
    "Parameter",
    "Prior",
    "load_hypotheses",
    "set_path",
]

DEFAULT_HYPOTHESES = "hypotheses-venezuela-2019-03-07"


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Prior(_Model):
    """A prior distribution: uniform, loguniform, normal (truncated to [low, high]), integer
    (uniform on low..high) or choice (``options`` with optional ``weights``)."""

    dist: Literal["uniform", "loguniform", "normal", "integer", "choice"]
    low: float | None = None
    high: float | None = None
    mean: float | None = None
    sd: float | None = Field(default=None, gt=0)
    options: list[Any] | None = None
    weights: list[float] | None = None

    @model_validator(mode="before")
    @classmethod
    def _clocks(cls, data: Any) -> Any:
        if isinstance(data, dict):
            data = {k: parse_clock(v) if k in ("low", "high", "mean") else v
                    for k, v in data.items()}
        return data

    @model_validator(mode="after")
    def _complete(self) -> Prior:
        if self.dist == "choice":
            if not self.options:
                raise ValueError("a choice prior needs 'options'")
            if self.weights is not None and (len(self.weights) != len(self.options)
                                             or min(self.weights) < 0 or sum(self.weights) <= 0):
                raise ValueError("'weights' must be one non-negative number per option")
            return self
        if self.dist == "normal":
            if self.mean is None or self.sd is None:
                raise ValueError("a normal prior needs 'mean' and 'sd'")
            return self
        if self.low is None or self.high is None or not self.low <= self.high:
            raise ValueError(f"a {self.dist} prior needs 'low' <= 'high'")
        if self.dist == "loguniform" and self.low <= 0:
            raise ValueError("a loguniform prior needs 'low' > 0")
        return self

    def sample(self, rng: np.random.Generator) -> Any:
        """One draw."""
        if self.dist == "choice":
            assert self.options is not None
            p = None if self.weights is None else np.asarray(self.weights) / sum(self.weights)
            return copy.deepcopy(self.options[int(rng.choice(len(self.options), p=p))])
        if self.dist == "normal":
            assert self.mean is not None and self.sd is not None
            lo = -math.inf if self.low is None else self.low
            hi = math.inf if self.high is None else self.high
            for _ in range(1000):
                x = float(rng.normal(self.mean, self.sd))
                if lo <= x <= hi:
                    return x
            return float(np.clip(self.mean, lo, hi))
        assert self.low is not None and self.high is not None
        if self.dist == "integer":
            return int(rng.integers(int(self.low), int(self.high) + 1))
        if self.dist == "loguniform":
            return float(math.exp(rng.uniform(math.log(self.low), math.log(self.high))))
        return float(rng.uniform(self.low, self.high))

    def describe(self) -> dict[str, Any]:
        """The prior as a JSON-safe mapping (unset fields left out)."""
        return self.model_dump(exclude_none=True)


class Parameter(_Model):
    """An uncertain number (or choice) of a hypothesis and where it goes in the scenario."""

    name: str = Field(min_length=1)
    description: str = ""
    unit: str = ""
    paths: list[str] = Field(min_length=1, description=(
        "dotted paths in the scenario set to the drawn value (list items by position)"))
    prior: Prior
    format: Literal["value", "clock"] = Field(default="value", description=(
        "clock: the value is a time of day in seconds and replaces the time of an "
        "ISO 8601 start_time"))
    add_to: str | None = Field(default=None, description=(
        "an earlier parameter whose value is added before setting the paths (e.g. a "
        "delay after an attack's first step); the drawn value is what is reported"))


class Hypothesis(_Model):
    """One explanation: a scenario template, its uncertain parameters and a prior weight."""

    name: str = Field(min_length=1)
    description: str = ""
    account: str = Field(default="", description="whose account this follows")
    sources: list[str] = Field(default_factory=list)
    prior_weight: float = Field(default=1.0, gt=0, description=(
        "prior probability, up to a constant shared by all hypotheses"))
    base: str | None = Field(default=None, description="built-in scenario name or file")
    scenario: dict[str, Any] = Field(default_factory=dict, description=(
        "scenario fields merged over the base (lists are replaced whole)"))
    parameters: list[Parameter] = Field(default_factory=list)

    @model_validator(mode="after")
    def _something(self) -> Hypothesis:
        if self.base is None and not self.scenario:
            raise ValueError("a hypothesis needs a 'base' scenario or a 'scenario'")
        names = [p.name for p in self.parameters]
        if len(set(names)) != len(names):
            raise ValueError(f"parameter names must be unique, got {names}")
        for k, p in enumerate(self.parameters):
            if p.add_to is not None and p.add_to not in names[:k]:
                raise ValueError(f"parameter {p.name!r}: add_to must name an earlier "
                                 f"parameter, got {p.add_to!r}")
        return self

    def template(self) -> dict[str, Any]:
        """The scenario mapping before parameters are set."""
        data: dict[str, Any] = {}
        if self.base is not None:
            from blackout.scenario.load import load_scenario

            data = load_scenario(self.base).model_dump(mode="json")
        return _merge(data, copy.deepcopy(self.scenario))

    def sample(self, rng: np.random.Generator) -> dict[str, Any]:
        """Draw every parameter from its prior, in the order given."""
        return {p.name: p.prior.sample(rng) for p in self.parameters}

    def instantiate(self, values: dict[str, Any], *, seed: int,
                    template: dict[str, Any] | None = None) -> dict[str, Any]:
        """The concrete scenario mapping for these parameter values and seed."""
        data = copy.deepcopy(template if template is not None else self.template())
        for p in self.parameters:
            value = values[p.name]
            if p.add_to is not None:
                value = value + _absolute(self, values, p.add_to)
            for path in p.paths:
                if p.format == "clock":
                    set_path(data, path, _with_clock(_get_path(data, path), float(value)))
                else:
                    set_path(data, path, copy.deepcopy(value))
        data["seed"] = int(seed)
        data["name"] = f"{data.get('name', self.name)} [{self.name}]"
        return data


class EngineOptions(_Model):
    """Cascade-engine options shared by every trial."""

    mode: Literal["ac", "dc"] = "dc"
    simple: bool = Field(default=False, description="the reduced DC rule (no dynamics)")
    horizon_s: float | None = Field(default=None, gt=0, description=(
        "cap on the simulated time, s (none: each scenario's horizon)"))
    trial_time_limit_s: float | None = Field(default=60.0, gt=0, description=(
        "wall-clock limit of one trial, s; a trial over it is left out and counted as "
        "failed (none: no limit; in Dask worker threads checked at every time step)"))


class HypothesisSet(_Model):
    """A hypothesis file: competing hypotheses and the engine options they share."""

    name: str = Field(min_length=1)
    description: str = ""
    engine: EngineOptions = Field(default_factory=EngineOptions)
    hypotheses: list[Hypothesis] = Field(min_length=1)

    @model_validator(mode="after")
    def _unique(self) -> HypothesisSet:
        names = [h.name for h in self.hypotheses]
        if len(set(names)) != len(names):
            raise ValueError(f"hypothesis names must be unique, got {names}")
        return self

    def only(self, names: list[str] | None) -> HypothesisSet:
        """A copy keeping the named hypotheses (all when ``names`` is empty)."""
        if not names:
            return self
        known = {h.name: h for h in self.hypotheses}
        missing = [n for n in names if n not in known]
        if missing:
            raise EvidenceError(f"unknown hypothesis {', '.join(missing)}; "
                                f"allowed: {', '.join(known)}")
        return self.model_copy(update={"hypotheses": [known[n] for n in names]})


def _absolute(hyp: Hypothesis, values: dict[str, Any], name: str) -> Any:
    """The value set for parameter ``name`` (its draw plus what it is added to)."""
    p = next(q for q in hyp.parameters if q.name == name)
    return values[name] + (_absolute(hyp, values, p.add_to) if p.add_to else 0)


# ------------------------------------------------------------------------ paths
def _split(path: str) -> list[str | int]:
    return [int(p) if p.lstrip("-").isdigit() else p for p in path.split(".")]


def _get_path(data: Any, path: str) -> Any:
    cur = data
    for part in _split(path):
        cur = cur[part]
    return cur


def set_path(data: dict[str, Any], path: str, value: Any) -> None:
    """Set ``data[a][b][0]... = value`` for the dotted ``path`` ``"a.b.0"``.

    Raises :class:`EvidenceError` when an intermediate key or index is missing.
    """
    parts = _split(path)
    cur: Any = data
    for k, part in enumerate(parts[:-1]):
        try:
            cur = cur[part]
        except (KeyError, IndexError, TypeError):
            if isinstance(cur, dict) and isinstance(part, str):
                cur[part] = {}
                cur = cur[part]
                continue
            where = ".".join(str(p) for p in parts[:k + 1])
            raise EvidenceError(f"parameter path {path!r}: nothing at {where!r} "
                                "in the scenario") from None
    last = parts[-1]
    if isinstance(cur, list) and isinstance(last, int) and not -len(cur) <= last < len(cur):
        raise EvidenceError(f"parameter path {path!r}: index {last} out of range")
    cur[last] = value


def _with_clock(iso: Any, seconds: float) -> str:
    """``iso`` (YYYY-MM-DDTHH:MM:SS+hh:mm) with its time of day replaced by ``seconds``."""
    total = int(round(seconds))
    hms = f"{total // 3600 % 24:02d}:{total // 60 % 60:02d}:{total % 60:02d}"
    if not isinstance(iso, str) or "T" not in iso:
        return f"2000-01-01T{hms}"
    date, rest = iso.split("T", 1)
    tz = rest[8:] if len(rest) > 8 else ""
    return f"{date}T{hms}{tz}"


def _merge(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in over.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _merge(out[key], value)
        else:
            out[key] = value
    return out


# ------------------------------------------------------------------------ loading
def load_hypotheses(source: str | Path | dict[str, Any] | None = None) -> HypothesisSet:
    """Validate a hypothesis file, built-in name or mapping (default: 7 March 2019)."""
    if source is None:
        source = DEFAULT_HYPOTHESES
    if isinstance(source, dict):
        data, where = source, "<hypotheses>"
    else:
        if isinstance(source, str) and (DATA_DIR / f"{source}.yaml").exists():
            source = DATA_DIR / f"{source}.yaml"
        data, where = read_mapping(source, "hypothesis")
    try:
        return HypothesisSet.model_validate(data)
    except ValidationError as exc:
        raise validation_error(where, exc) from None
