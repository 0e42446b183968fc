"""Impact: who is dark, for how long, and what stops working.

:class:`ServedCurve` holds served load per bus over time and computes served
load per region (MW, % of demand), population without power, energy not served
(MWh), customer-hours and per-region outage durations. :func:`critical_services`
models hospitals and dialysis units on backup generators, Caracas-style water
pumping with a reservoir buffer, a metro, telecom sites on batteries and card
payments. See docs/impact.md for the models and their sources.
"""

from blackout.impact.critical import (
    CriticalReport,
    ServiceTrace,
    critical_params,
    critical_services,
)
from blackout.impact.metrics import RESTORED_FRACTION, ServedCurve

__all__ = [
    "RESTORED_FRACTION",
    "CriticalReport",
    "ServedCurve",
    "ServiceTrace",
    "critical_params",
    "critical_services",
]
