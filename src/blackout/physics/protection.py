"""Protection: line overload relays, generator frequency envelopes, UVLS, out-of-step,
hidden failures. Settings are plain dataclasses with published defaults; the logic is
small vectorised functions that the cascade engine calls.

Sources (details in ``docs/cascade.md``):

* Overload relay: DCSIMSEP / COSMIC inverse time, trip when ∫(I/I_rate - 1) dt >= 7.5 s
  (15 s at 150 % of the emergency rating), pickup on the emergency rating (rate_b, else
  rate_a); instantaneous above 200 % (Grid2Op's "hard overflow").
* Generator off-nominal frequency: NERC PRC-024-2 Attachment 1, ERCOT table (islanded
  60 Hz grid); scaled by f_nominal / 60 for 50 Hz grids. Overspeed 110 % (NEMA SM-23).
* UVLS: COSMIC, 0.90 pu for 0.5 s sheds 25 % of the bus load (off by default).
* Hidden failures: Chen, Thorp & Dobson (2005): each relay exposed by a trip (a branch
  sharing a bus with it) misoperates with probability p.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = [
    "RelaySettings",
    "UvlsSettings",
    "OutOfStepSettings",
    "HiddenFailureSettings",
    "ERCOT_UNDER_FREQUENCY",
    "ERCOT_OVER_FREQUENCY",
    "RelayTable",
    "relay_table",
    "time_to_trip_s",
    "scaled_envelope",
    "exposed_branches",
    "corridor_angles",
]

#: PRC-024-2 Attachment 1, ERCOT: (threshold Hz at 60 Hz, seconds beyond it before a trip).
ERCOT_UNDER_FREQUENCY: tuple[tuple[float, float], ...] = (
    (57.5, 0.0), (58.0, 2.0), (58.4, 30.0), (59.4, 540.0))
ERCOT_OVER_FREQUENCY: tuple[tuple[float, float], ...] = (
    (61.8, 0.0), (61.6, 30.0), (60.6, 540.0))


@dataclass(frozen=True)
class RelaySettings:
    """Inverse-time overload relay of a line or transformer.

    threshold_s : trip when ∫ (I/I_rate - 1) dt reaches this (7.5 s: DCSIMSEP/COSMIC).
    instantaneous : trip at once above this multiple of I_rate (2.0: Grid2Op).
    rating : which rating is I_rate: "rate_b" (emergency; falls back to rate_a where 0),
        "rate_a" or "rate_c".
    enabled : False disables the relay (as a ``block_relay`` event does).
    """

    threshold_s: float = 7.5
    instantaneous: float = 2.0
    rating: str = "rate_b"
    enabled: bool = True


@dataclass(frozen=True)
class UvlsSettings:
    """Under-voltage load shedding (COSMIC): below ``threshold_pu`` for ``delay_s`` sheds
    ``fraction`` of the bus's connected load; repeats while the voltage stays low."""

    enabled: bool = False
    threshold_pu: float = 0.90
    fraction: float = 0.25
    delay_s: float = 0.5


@dataclass(frozen=True)
class OutOfStepSettings:
    """Stability (out-of-step) trip of a stability-limited corridor.

    Rule: the circuits that share a non-empty ``corridor`` name are one transfer path. When
    the largest voltage-angle difference across its in-service circuits exceeds
    ``angle_deg`` for ``delay_s``, the path has lost synchronism (a two-machine equivalent
    is unstable beyond 90°; 60° leaves the first-swing margin that sudden outages need), and
    the out-of-step relays open every circuit of the corridor. Off for corridors without a
    name; ``enabled=False`` switches the rule off.
    """

    enabled: bool = True
    angle_deg: float = 60.0
    delay_s: float = 0.5


@dataclass(frozen=True)
class HiddenFailureSettings:
    """Hidden failures: a relay exposed by a neighbouring trip misoperates with probability
    ``p`` (0 disables; the neglect threat raises it)."""

    p: float = 0.0


@dataclass(frozen=True)
class RelayTable:
    """Relay settings resolved per branch (aligned arrays)."""

    rating_mva: np.ndarray
    threshold_s: np.ndarray
    instantaneous: np.ndarray
    enabled: np.ndarray


def relay_table(branch: dict[str, np.ndarray] | object, vn_kv: np.ndarray,
                default: RelaySettings, by_kv: dict[float, RelaySettings],
                by_name: dict[str, RelaySettings]) -> RelayTable:
    """Per-branch relay settings: the default, then the voltage class (within 5 % of the
    branch's higher end voltage), then the branch name. Unrated branches are unprotected."""
    br = branch
    n = len(br["name"])  # type: ignore[index]
    names = [str(s) for s in br["name"]]  # type: ignore[index]
    chosen = [default] * n
    for kv, s in by_kv.items():
        hit = np.flatnonzero(np.abs(vn_kv - kv) <= 0.05 * kv)
        for i in hit.tolist():
            chosen[i] = s
    index = {nm: i for i, nm in enumerate(names)}
    for nm, s in by_name.items():
        if nm in index:
            chosen[index[nm]] = s
    rate_a = np.asarray(br["rate_a_mva"], dtype=float)  # type: ignore[index]
    rating = np.empty(n)
    for i, s in enumerate(chosen):
        r = float(br[f"{s.rating}_mva"][i]) if s.rating != "rate_a" else 0.0  # type: ignore[index]
        rating[i] = r if r > 0 else rate_a[i]
    return RelayTable(
        rating_mva=rating,
        threshold_s=np.array([s.threshold_s for s in chosen], dtype=float),
        instantaneous=np.array([s.instantaneous for s in chosen], dtype=float),
        enabled=np.array([s.enabled for s in chosen], dtype=bool) & (rating > 0),
    )


def time_to_trip_s(ratio: np.ndarray, accumulated_s: np.ndarray,
                   threshold_s: np.ndarray) -> np.ndarray:
    """Seconds until each relay trips if I/I_rate stays at ``ratio`` (inf below pickup).

    Inverse time: the integral of (ratio - 1) reaches ``threshold_s``, so at constant ratio
    t = (threshold - accumulated) / (ratio - 1): 15 s at 150 % from rest, 7.5 s at 200 %.
    """
    excess = ratio - 1.0
    with np.errstate(divide="ignore", invalid="ignore"):
        t = np.where(excess > 0, (threshold_s - accumulated_s) / excess, np.inf)
    return np.maximum(t, 0.0)


def scaled_envelope(table: tuple[tuple[float, float], ...], f_hz: float) -> list[tuple[float, float]]:
    """An envelope given at 60 Hz, scaled to a grid of nominal frequency ``f_hz``."""
    return [(thr * f_hz / 60.0, delay) for thr, delay in table]


def exposed_branches(from_bus: np.ndarray, to_bus: np.ndarray, branch_in: np.ndarray,
                     tripped: int) -> np.ndarray:
    """In-service branches sharing a bus with branch ``tripped`` (their relays saw the fault)."""
    ends = {int(from_bus[tripped]), int(to_bus[tripped])}
    touch = np.isin(from_bus, list(ends)) | np.isin(to_bus, list(ends))
    touch[tripped] = False
    return np.flatnonzero(touch & branch_in)


def corridor_angles(corridor: np.ndarray, from_bus: np.ndarray, to_bus: np.ndarray,
                    branch_live: np.ndarray, va_degree: np.ndarray) -> dict[str, float]:
    """Largest |angle difference| (degrees) across the live circuits of each named corridor."""
    out: dict[str, float] = {}
    for name in sorted({str(c) for c in corridor if str(c)}):
        members = np.flatnonzero((corridor == name) & branch_live)
        if members.size:
            diff = np.abs(va_degree[from_bus[members]] - va_degree[to_bus[members]])
            diff = np.where(diff > 180.0, 360.0 - diff, diff)
            out[name] = float(diff.max())
    return out
