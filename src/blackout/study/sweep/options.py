"""What a sweep is: its options, the spec shipped to workers, and each trial's seed."""

from __future__ import annotations

import dataclasses
import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from blackout.errors import BlackoutError
from blackout.flow.balance import PARTICIPATION_RULES
from blackout.scenario import Scenario, load_scenario

#: the sweep folder format written into the manifest
FORMAT = "blackout-sweep/1"

__all__ = ["ENGINES", "FORMAT", "SweepOptions", "as_stored", "chunk_meta", "sweep_manifest", "trial_seed"]

ENGINES = ("detailed", "fast")


@dataclass(frozen=True)
class SweepOptions:
    """What a sweep varies and how its trials run.

    engine : "detailed" (the cascade engine, scenario settings) or "fast" (batched DC).
    load_scale : (lo, hi): all loads x U(lo, hi) per trial; None: the scenario's level.
    random_outages : K random initiating branch outages per trial at t = 0 (by length).
    trip_multiple : fast engine (and its simple-DC re-run): trip when |P| > this x rate_a.
    derive_ratings : (k, floor_mva, override_given): rate branches from the balanced base
        DC flows, ``k * max(|flow|, floor_mva)``; None keeps the scenario's ratings.
    trial_time_limit_s : detailed engine: a trial running longer is recorded as an error
        (enforced where the trial runs in a process's main thread; None: no limit).
    sample_uncertain : draw the scenario's ``uncertain:`` inputs per trial (after the load
        factor and the random outages, from the trial's generator); False: every trial
        uses their central values (``blackout sweep --central``).
    restore : detailed engine: also simulate each trial's restoration and record
        ``restored_90_h`` (h until 90 % of demand is served for good) and
        ``energy_not_served_mwh`` (``blackout sweep --restore``; slower).
    participation : fast engine (and its simple-DC re-run) and derived ratings: how an
        island's imbalance is shared among its units, from the case's dispatch
        (headroom, pmax or droop; :mod:`blackout.flow.balance`).
    """

    engine: str = "detailed"
    load_scale: tuple[float, float] | None = None
    random_outages: int = 0
    trip_multiple: float = 1.0
    derive_ratings: tuple[float, float, bool] | None = None
    trial_time_limit_s: float | None = None
    sample_uncertain: bool = True
    restore: bool = False
    participation: str = "headroom"

    def validate(self) -> None:
        """Raise :class:`BlackoutError` on an option out of its range."""
        if self.engine not in ENGINES:
            raise BlackoutError(f"--engine: expected one of {', '.join(ENGINES)}, "
                                f"got {self.engine!r}")
        if self.load_scale is not None:
            lo, hi = self.load_scale
            if not (0 < lo <= hi < np.inf):
                raise BlackoutError(f"--load-scale LO,HI needs 0 < LO <= HI, got {lo},{hi}")
        if self.random_outages < 0:
            raise BlackoutError(f"--random-outages must be >= 0, got {self.random_outages}")
        if not (self.trip_multiple > 0 and np.isfinite(self.trip_multiple)):
            raise BlackoutError(f"--trip-multiple must be a finite number > 0, got "
                                f"{self.trip_multiple}")
        if self.derive_ratings is not None:
            k, floor, _ = self.derive_ratings
            if not (k > 0 and floor >= 0):
                raise BlackoutError("--derive-ratings: K must be > 0 and FLOOR_MVA >= 0")
        if self.trial_time_limit_s is not None and not self.trial_time_limit_s > 0:
            raise BlackoutError("--trial-time-limit must be > 0 s")
        if self.participation not in PARTICIPATION_RULES:
            raise BlackoutError(f"--participation: expected one of "
                                f"{', '.join(PARTICIPATION_RULES)}, got {self.participation!r}")
        if self.restore and self.engine != "detailed":
            raise BlackoutError("--restore needs --engine detailed")

    def to_dict(self) -> dict[str, Any]:
        """The options as JSON-ready data (as stored in the manifest)."""
        plain: dict[str, Any] = json.loads(json.dumps(dataclasses.asdict(self)))
        return plain

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> SweepOptions:
        """Options from :meth:`to_dict`'s data."""
        d = dict(data)
        for key in ("load_scale", "derive_ratings"):
            if d.get(key) is not None:
                d[key] = tuple(d[key])
        return cls(**d)


@dataclass(frozen=True)
class SweepSpec:
    """Everything a worker needs to run any trial of a sweep (small, picklable)."""

    scenario: dict[str, Any]
    options: SweepOptions
    root_seed: int
    trials: int
    chunk_size: int

    @property
    def key(self) -> str:
        """Hash of what a worker's context depends on."""
        blob = json.dumps([self.scenario, self.options.to_dict()], sort_keys=True)
        return hashlib.sha256(blob.encode()).hexdigest()[:16]


def trial_seed(root_seed: int, trial: int) -> int:
    """The 32-bit seed of ``trial``: ``SeedSequence(root_seed).spawn(N)[trial]``'s first word."""
    child = np.random.SeedSequence(root_seed, spawn_key=(trial,))
    return int(child.generate_state(1, np.uint32)[0])


def scenario_data(sc: Scenario) -> dict[str, Any]:
    """The scenario as data, its case resolved to an absolute path when it is a file."""
    data = sc.model_dump(mode="json")
    base = sc.base_dir
    case = Path(sc.case)
    if base is not None and case.suffix and not case.is_absolute() and (base / case).exists():
        data["case"] = str((base / case).resolve())
    return data


def sweep_manifest(spec: SweepSpec, scenario: str, case: str, ratings_rule: Any) -> dict[str, Any]:
    """The manifest a sweep folder carries: what was run, how it is seeded, with what."""
    from datetime import datetime, timezone
    from importlib.metadata import PackageNotFoundError, version

    versions: dict[str, str] = {}
    for pkg in ("blackout-sim", "numpy", "scipy", "pandapower", "pyarrow"):
        try:
            versions[pkg] = version(pkg)
        except PackageNotFoundError:
            continue
    return {"format": FORMAT, "scenario": scenario, "case": case,
            "scenario_spec": spec.scenario, "trials": spec.trials,
            "root_seed": spec.root_seed, "engine": spec.options.engine,
            "options": spec.options.to_dict(), "chunk_size": spec.chunk_size,
            "chunks": -(-spec.trials // spec.chunk_size),
            "ratings": ratings_rule,
            "seeding": "trial i: numpy SeedSequence(root_seed).spawn(trials)[i]"
                       ".generate_state(1, uint32)[0]",
            "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            "versions": versions}


def as_stored(old: dict[str, Any], new: dict[str, Any]) -> dict[str, Any]:
    """``new`` with the stored ``options`` and ``scenario_spec`` kept where they describe the
    same sweep once the fields added since (with their defaults) are filled in: a sweep
    written by an earlier version resumes."""
    out = dict(new)
    try:
        if SweepOptions.from_dict(dict(old.get("options") or {})).to_dict() == new["options"]:
            out["options"] = old["options"]
        if scenario_data(load_scenario(dict(old["scenario_spec"]))) == new["scenario_spec"]:
            out["scenario_spec"] = old["scenario_spec"]
    except (BlackoutError, KeyError, TypeError, ValueError):
        pass  # not comparable: the store reports the difference
    return out


def chunk_meta(spec: SweepSpec, scenario: str, case: str) -> dict[str, Any]:
    """What every chunk file carries as its Parquet key-value entry ``blackout``."""
    return {"case": case, "scenario": scenario, "trials_requested": spec.trials,
            "seed": spec.root_seed, "engine": spec.options.engine}
