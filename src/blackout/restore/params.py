"""Restoration parameters: one dataclass, read from one TOML file per case.

``restore/data/default.toml`` holds generic values with their sources;
``restore/data/<case>.toml`` (e.g. ``venezuela2019.toml``) overrides some of them.
Values that could not be sourced are marked there as *fitted* (to an observed
restoration timeline) or *assumption*; no parameter lives in code.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

from blackout.errors import BlackoutError

__all__ = ["RestoreParams", "load_params", "DATA_DIR"]

DATA_DIR = Path(__file__).parent / "data"


@dataclass(frozen=True)
class RestoreParams:
    """Every setting of the restoration simulation (units in the names).

    Time and resources
        horizon_h, step_h : simulated time after the event starts and the step, h.
        crews : line crews (inspection, repair, manual switching) before workforce cuts.
        workforce_fraction : share of nominal crews available (emigration, neglect).
        crew_bases : bus names where crews start (round-robin); empty: black-start buses.
        travel_kmh, road_factor : crew travel speed and road/great-circle distance ratio.
        inspection_kmh : line patrol speed (ground patrol; helicopters are much faster).
        transformer_inspection_h : inspection of a tripped transformer, h.
        inspect : "faulted" (only branches tripped by a fault) or "all" tripped branches.
        repair_default_h : repair time of damage given without one, h.
        manual_switch_h : on-site switching at a substation whose remote control is lost, h.
    Switching and pickup (per island, one control room)
        switching_min, sync_min, pickup_interval_min : dispatcher time per action, min.
        max_loading_percent : a step is undone when a branch exceeds this loading (power flow).
        open_dead_breakers : open every breaker in dark areas first (all-open strategy).
        flow_mode : "dc" or "ac" power flow for the step check.
    Frequency response rule (see :mod:`blackout.restore.pickup`)
        ufls_offset_hz, ufls_margin_hz : first UFLS stage below nominal, and margin kept.
        nadir_hz_per_pu : frequency dip per 1 pu load step at droop 0.05, by unit kind.
        rocof_max_hz_s : largest initial rate of change of frequency allowed.
        block_cap_fraction : rule-of-thumb cap on a block as a share of online capacity.
    Units
        black_start_h : from decision to a black-start unit energising its bus, h.
        black_start_units : if given, only these units (names) black-start; others wait
            for cranking power even if the case flags them.
        start_hot_h, start_cold_h : start time by kind once cranking power is there, h.
        hot_window_h : a unit tripped less than this ago starts hot.
        cranking_fraction : auxiliary power drawn while starting, share of pmax, by kind.
        ramp_pu_per_h : ramp rate once on line, pmax per hour, by kind.
    Priorities and interference
        region_priority : weight of each region's load when choosing what to restore.
        critical_priority : extra weight of critical loads (hospitals, water, ...).
        gen_priority : weight (per MW) of reaching a unit that can be started.
        damage : extra damage at the start (list of {substation|branch|unit, repair_h}).
        interference : named interference presets (see :mod:`blackout.restore.interference`).
        default_interference : preset names applied when no interference is given.
        observed : region -> [lo, hi] observed hours until 90 % served (calibration only).
        notes : free text (calibration notes, sources) carried into the result.
    """

    horizon_h: float = 192.0
    step_h: float = 0.25
    crews: int = 20
    workforce_fraction: float = 1.0
    crew_bases: tuple[str, ...] = ()
    travel_kmh: float = 50.0
    road_factor: float = 1.3
    inspection_kmh: float = 30.0
    transformer_inspection_h: float = 1.0
    inspect: str = "faulted"
    repair_default_h: float = 48.0
    manual_switch_h: float = 1.0
    switching_min: float = 10.0
    sync_min: float = 30.0
    pickup_interval_min: float = 10.0
    max_loading_percent: float = 100.0
    open_dead_breakers: bool = True
    flow_mode: str = "dc"
    ufls_offset_hz: float = 0.7
    ufls_margin_hz: float = 0.2
    nadir_hz_per_pu: dict[str, float] = field(default_factory=dict)
    rocof_max_hz_s: float = 0.5
    block_cap_fraction: float = 0.05
    black_start_h: float = 0.25
    black_start_units: tuple[str, ...] = ()
    start_hot_h: dict[str, float] = field(default_factory=dict)
    start_cold_h: dict[str, float] = field(default_factory=dict)
    hot_window_h: float = 8.0
    cranking_fraction: dict[str, float] = field(default_factory=dict)
    ramp_pu_per_h: dict[str, float] = field(default_factory=dict)
    region_priority: dict[str, float] = field(default_factory=dict)
    critical_priority: float = 2.0
    gen_priority: float = 1.0
    damage: tuple[dict[str, Any], ...] = ()
    interference: dict[str, dict[str, Any]] = field(default_factory=dict)
    default_interference: tuple[str, ...] = ()
    observed: dict[str, list[float]] = field(default_factory=dict)
    notes: dict[str, Any] = field(default_factory=dict)

    def by_kind(self, table: dict[str, float], kind: str) -> float:
        """A per-kind value, falling back on the table's ``default`` entry."""
        if kind in table:
            return float(table[kind])
        if "default" in table:
            return float(table["default"])
        raise BlackoutError(f"no value for unit kind {kind!r} and no default")

    def with_(self, **changes: Any) -> RestoreParams:
        """A copy with some values changed (e.g. ``crews=1``)."""
        return replace(self, **changes)

    @property
    def crews_available(self) -> int:
        """Crews after the workforce cut (at least one)."""
        return max(1, int(round(self.crews * self.workforce_fraction)))


_TUPLES = {"crew_bases", "damage", "default_interference", "black_start_units"}


def _merge(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for k, v in over.items():
        if isinstance(v, dict) and isinstance(out.get(k), dict) and k not in ("interference",):
            out[k] = {**out[k], **v}
        else:
            out[k] = v
    return out


def _read(path: Path) -> dict[str, Any]:
    with open(path, "rb") as f:
        return tomllib.load(f)


def load_params(case: str | None = None, *, path: str | Path | None = None,
                **overrides: Any) -> RestoreParams:
    """Parameters for ``case``: default.toml, then ``<case>.toml`` if shipped, then ``path``.

    Keys ending in ``_source`` or ``_note`` and the ``[sources]`` table are documentation;
    they are kept in ``notes``. Unknown keys raise :class:`BlackoutError`.
    """
    raw = _read(DATA_DIR / "default.toml")
    if case and (DATA_DIR / f"{case}.toml").exists():
        raw = _merge(raw, _read(DATA_DIR / f"{case}.toml"))
    if path is not None:
        raw = _merge(raw, _read(Path(path)))
    raw = _merge(raw, overrides)
    names = {f.name for f in fields(RestoreParams)}
    kwargs: dict[str, Any] = {}
    notes: dict[str, Any] = dict(raw.pop("notes", {}))
    for k, v in raw.items():
        if k.endswith("_source") or k.endswith("_note") or k == "sources":
            notes[k] = v
            continue
        if k not in names:
            raise BlackoutError(f"unknown restoration parameter {k!r}; allowed: "
                                f"{', '.join(sorted(names))}")
        if isinstance(v, dict):
            v = {kk: vv for kk, vv in v.items()
                 if not (str(kk).endswith("_source") or kk == "source")}
        kwargs[k] = tuple(v) if k in _TUPLES else v
    kwargs["notes"] = notes
    params = RestoreParams(**kwargs)
    if params.inspect not in ("faulted", "all"):
        raise BlackoutError(f"inspect must be 'faulted' or 'all', got {params.inspect!r}")
    if params.flow_mode not in ("dc", "ac"):
        raise BlackoutError(f"flow_mode must be 'dc' or 'ac', got {params.flow_mode!r}")
    return params
