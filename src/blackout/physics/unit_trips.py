"""Generator frequency and under-voltage protection, unit by unit.

Each generator has its own under- and over-frequency relay stages (threshold, delay)
and a mechanical overspeed trip, chosen by its kind from
``physics/data/unit_trips.toml`` (sources there and in ``docs/cascade.md``). A unit
trips when its island's frequency has stayed beyond one of its thresholds for that
stage's delay; units of an island therefore trip one group at a time as the
frequency trajectory crosses their own settings, and the trace runs on through each
trip.

NERC PRC-024 defines where units must NOT trip (a ride-through envelope); every
setting here is checked to lie outside it (:func:`inside_envelope`). An optional
seeded spread moves each unit's thresholds further from nominal by a half-normal
draw (Hz), standing for the scatter of real relay settings; it never moves a
setting into the envelope.

Under-voltage stages (threshold in pu of nominal voltage, delay) follow the same
pattern against PRC-024-2 Attachment 2's low-voltage ride-through table
(:data:`PRC024_LOW_VOLTAGE`): a unit trips when the voltage at its bus has stayed
below its threshold for the delay (:func:`voltage_stages`).
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

import numpy as np

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

__all__ = ["UnitTripSettings", "UnitStage", "VoltageStage", "default_unit_trips",
           "unit_stages", "voltage_stages", "inside_envelope", "PRC024_LOW_VOLTAGE"]

#: NERC PRC-024-2 Attachment 2, low-voltage ride-through at the point of interconnection:
#: (voltage pu, seconds): a unit must ride through voltages below each value for that long
#: (< 0.45 pu 0.15 s, < 0.65 pu 0.30 s, < 0.75 pu 2 s, < 0.90 pu 3 s; 0.90-1.10 continuous).
PRC024_LOW_VOLTAGE: tuple[tuple[float, float], ...] = (
    (0.45, 0.15), (0.65, 0.30), (0.75, 2.0), (0.90, 3.0))


@dataclass(frozen=True)
class UnitTripSettings:
    """Frequency protection of one kind of unit (thresholds at 60 Hz).

    under, over : ((threshold_hz, delay_s), ...): trip once the frequency has stayed
        below (under) or above (over) the threshold for the delay.
    overspeed_pu : instantaneous mechanical overspeed trip, pu of nominal speed (None:
        none).
    under_voltage : ((threshold_pu, delay_s), ...): trip once the voltage at the unit's
        bus has stayed below the threshold (pu of nominal) for the delay (auxiliaries and
        the unit's own 27 element, IEEE C37.102).
    source : where the settings come from (or that they are an assumption).
    """

    under: tuple[tuple[float, float], ...] = ()
    over: tuple[tuple[float, float], ...] = ()
    overspeed_pu: float | None = None
    under_voltage: tuple[tuple[float, float], ...] = ()
    source: str = ""


@dataclass(frozen=True)
class UnitStage:
    """One relay stage shared by a group of units: kind ("under", "over" or
    "overspeed"), threshold (Hz, on this grid), delay (s) and the generator positions."""

    kind: str
    threshold_hz: float
    delay_s: float
    gens: tuple[int, ...]


@dataclass(frozen=True)
class VoltageStage:
    """One under-voltage stage shared by a group of units: threshold (pu of nominal
    voltage), delay (s) and the generator positions."""

    threshold_pu: float
    delay_s: float
    gens: tuple[int, ...]


@lru_cache(maxsize=1)
def _table() -> dict[str, object]:
    text = resources.files("blackout.physics").joinpath("data/unit_trips.toml").read_text("utf-8")
    return tomllib.loads(text)


def default_unit_trips() -> dict[str, UnitTripSettings]:
    """Settings per generator kind, from ``physics/data/unit_trips.toml``."""
    raw = _table()
    sets = {}
    for name, v in raw.items():
        if name == "kinds" or not isinstance(v, dict):
            continue
        sets[name] = UnitTripSettings(
            under=tuple((float(a), float(b)) for a, b in v.get("under", [])),
            over=tuple((float(a), float(b)) for a, b in v.get("over", [])),
            overspeed_pu=float(v["overspeed_pu"]) if "overspeed_pu" in v else None,
            under_voltage=tuple((float(a), float(b)) for a, b in v.get("under_voltage", [])),
            source=str(v.get("source", "")))
    kinds = raw.get("kinds", {})
    assert isinstance(kinds, dict)
    out = {kind: sets[str(which)] for kind, which in kinds.items()}
    out.setdefault("unknown", sets["steam"])
    return out


def inside_envelope(kind: str, threshold_hz: float, delay_s: float,
                    envelope: list[tuple[float, float]]) -> bool:
    """Whether a relay stage would trip inside a ride-through (no-trip) envelope.

    ``envelope`` is PRC-024's table on this grid: ((threshold_hz, seconds), ...): the
    unit must ride through frequencies beyond each threshold for that many seconds.
    An under-frequency stage at ``threshold_hz`` acts on frequencies just below it,
    which lie in the band of the lowest envelope threshold at or above it; the stage
    is outside the envelope when its delay is at least that band's ride-through time
    (any delay where the band's time is 0). Above every envelope threshold a stage is
    always inside (the band of continuous operation). Mirror rule for "over".
    """
    if kind == "under":
        bands = sorted((t, d) for t, d in envelope if t >= threshold_hz - 1e-9)
        if not bands:
            return True
        return delay_s < bands[0][1] - 1e-9
    bands = sorted(((t, d) for t, d in envelope if t <= threshold_hz + 1e-9), reverse=True)
    if not bands:
        return True
    return delay_s < bands[0][1] - 1e-9


def unit_stages(kinds: np.ndarray, f_hz: float, table: dict[str, UnitTripSettings],
                under_envelope: list[tuple[float, float]],
                over_envelope: list[tuple[float, float]],
                spread_hz: float = 0.0, seed: int = 0) -> list[UnitStage]:
    """Every unit's relay stages on a grid of nominal ``f_hz``, grouped by setting.

    Parameters
    ----------
    kinds : generator kind per unit (``grid.gen["kind"]``).
    f_hz : nominal frequency, Hz (settings are given at 60 Hz and scaled).
    table : settings per kind (:func:`default_unit_trips`); a kind not listed uses
        "unknown".
    under_envelope, over_envelope : the ride-through envelopes on this grid (Hz, s).
    spread_hz : standard deviation of a half-normal offset of each unit's thresholds
        away from nominal (0: every unit of a kind identical).
    seed : seed of that draw.

    Raises
    ------
    ValueError : a setting lies inside the ride-through envelope.
    """
    scale = f_hz / 60.0
    rng = np.random.default_rng(seed)
    groups: dict[tuple[str, float, float], list[int]] = {}
    fallback = table.get("unknown") or UnitTripSettings()
    for g, kind in enumerate(np.asarray(kinds).astype(str).tolist()):
        s = table.get(kind, fallback)
        offset = abs(float(rng.normal(0.0, spread_hz))) if spread_hz > 0 else 0.0
        for thr, delay in s.under:
            hz = round(thr * scale - offset, 4)
            if inside_envelope("under", hz, delay, under_envelope):
                raise ValueError(f"under-frequency setting {thr} Hz / {delay} s of kind "
                                 f"{kind!r} lies inside the ride-through envelope")
            groups.setdefault(("under", hz, delay), []).append(g)
        for thr, delay in s.over:
            hz = round(thr * scale + offset, 4)
            if inside_envelope("over", hz, delay, over_envelope):
                raise ValueError(f"over-frequency setting {thr} Hz / {delay} s of kind "
                                 f"{kind!r} lies inside the ride-through envelope")
            groups.setdefault(("over", hz, delay), []).append(g)
        if s.overspeed_pu is not None:
            groups.setdefault(("overspeed", round(s.overspeed_pu * f_hz, 4), 0.0), []).append(g)
    return [UnitStage(k, thr, d, tuple(gens)) for (k, thr, d), gens in sorted(groups.items())]


def voltage_stages(kinds: np.ndarray, table: dict[str, UnitTripSettings],
                   envelope: tuple[tuple[float, float], ...] = PRC024_LOW_VOLTAGE,
                   spread_pu: float = 0.0, seed: int = 0) -> list[VoltageStage]:
    """Every unit's under-voltage stages, grouped by setting.

    Parameters
    ----------
    kinds : generator kind per unit (``grid.gen["kind"]``).
    table : settings per kind (:func:`default_unit_trips`); a kind not listed uses
        "unknown".
    envelope : the low-voltage ride-through table ((pu, s), ...), default PRC-024-2
        Attachment 2.
    spread_pu : standard deviation of a half-normal offset of each unit's thresholds
        away from nominal (down), pu (0: every unit of a kind identical).
    seed : seed of that draw.

    Raises
    ------
    ValueError : a setting lies inside the ride-through envelope.
    """
    rng = np.random.default_rng(seed)
    groups: dict[tuple[float, float], list[int]] = {}
    fallback = table.get("unknown") or UnitTripSettings()
    env = list(envelope)
    for g, kind in enumerate(np.asarray(kinds).astype(str).tolist()):
        s = table.get(kind, fallback)
        offset = abs(float(rng.normal(0.0, spread_pu))) if spread_pu > 0 else 0.0
        for thr, delay in s.under_voltage:
            pu = round(thr - offset, 4)
            if inside_envelope("under", pu, delay, env):
                raise ValueError(f"under-voltage setting {thr} pu / {delay} s of kind "
                                 f"{kind!r} lies inside the ride-through envelope")
            groups.setdefault((pu, delay), []).append(g)
    return [VoltageStage(thr, d, tuple(gens)) for (thr, d), gens in sorted(groups.items())]
