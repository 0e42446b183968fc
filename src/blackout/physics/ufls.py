"""Staged under-frequency load shedding (UFLS), per region.

A stage is (frequency threshold, time delay, fraction of the load). When an island's
frequency stays below a stage's threshold for its delay, every load of the island in a
region whose UFLS is not blocked loses that fraction of its original demand, once per
stage. The scheme is a data table so a utility's own values can be dropped in
(``CascadeSettings.ufls_by_region``).

Default (modelling-references §3.1): ERCOT's five-stage scheme approved by the PUCT
in October 2023 (NOGRR247, effective 1 October 2026): 59.3 / 59.1 / 58.9 / 58.7 /
58.5 Hz, 5 % of load each (25 % cumulative), minimum delay 6 cycles (0.1 s); plus
supplemental anti-stall stages at 59.5 Hz after 90 / 120 / 150 s, 1.5 % each (1.5 /
3.0 / 4.5 % cumulative). NERC PRC-006 makes a 25 % generation deficit the design
envelope that such a scheme must arrest. Thresholds are given at 60 Hz and scaled by
f_nominal / 60 (a 50 Hz grid gets the same per-unit settings).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["UflsStage", "ERCOT_2026_STAGES", "ERCOT_2026_ANTI_STALL", "UflsScheme"]


@dataclass(frozen=True)
class UflsStage:
    """One UFLS stage: below ``threshold_hz`` (at 60 Hz) for ``delay_s``, shed ``fraction``."""

    threshold_hz: float
    delay_s: float
    fraction: float


ERCOT_2026_STAGES: tuple[UflsStage, ...] = (
    UflsStage(59.3, 0.1, 0.05),
    UflsStage(59.1, 0.1, 0.05),
    UflsStage(58.9, 0.1, 0.05),
    UflsStage(58.7, 0.1, 0.05),
    UflsStage(58.5, 0.1, 0.05),
)
ERCOT_2026_ANTI_STALL: tuple[UflsStage, ...] = (
    UflsStage(59.5, 90.0, 0.015),
    UflsStage(59.5, 120.0, 0.015),
    UflsStage(59.5, 150.0, 0.015),
)


class UflsScheme:
    """UFLS relays of every load: which stages each load has, which have operated, blocks.

    Stages are numbered across the whole grid (one list of distinct stages); each load
    gets the stages of its region (the default table unless the region has its own).
    """

    def __init__(self, load_region: np.ndarray, region_names: list[str], f_hz: float,
                 default: tuple[UflsStage, ...],
                 by_region: dict[str, tuple[UflsStage, ...]]) -> None:
        scale = f_hz / 60.0
        tables = {r: by_region.get(name, default) for r, name in enumerate(region_names)}
        tables[-1] = default
        stages: list[UflsStage] = []
        for t in tables.values():
            for s in t:
                if s not in stages:
                    stages.append(s)
        self.stages = stages
        self.threshold_hz = np.array([s.threshold_hz * scale for s in stages])
        self.delay_s = np.array([s.delay_s for s in stages])
        self.fraction = np.array([s.fraction for s in stages])
        n = load_region.size
        self.armed = np.zeros((n, len(stages)), dtype=bool)
        for r, table in tables.items():
            rows = load_region == r
            for s in table:
                self.armed[rows, stages.index(s)] = True
        self.operated = np.zeros_like(self.armed)
        self.load_region = load_region
        self.blocked_region = np.zeros(len(region_names) + 1, dtype=bool)  # last: no region

    def block(self, region: int, blocked: bool = True) -> None:
        """Block (or unblock) UFLS in region ``region`` (-1: everywhere)."""
        if region < 0:
            self.blocked_region[:] = blocked
        else:
            self.blocked_region[region] = blocked

    def thresholds(self) -> list[float]:
        """Distinct stage thresholds, Hz."""
        return sorted({float(t) for t in self.threshold_hz})

    def due(self, stage: int, loads: np.ndarray) -> np.ndarray:
        """Loads among ``loads`` whose relay for ``stage`` is armed, unblocked, not operated."""
        blocked = self.blocked_region[np.where(self.load_region[loads] < 0, -1,
                                               self.load_region[loads])]
        ok = self.armed[loads, stage] & ~self.operated[loads, stage] & ~blocked
        return loads[ok]
