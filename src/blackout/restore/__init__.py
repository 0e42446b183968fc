"""Restoration: black start, cranking paths, load pickup, crews, fuel and interference.

``restore(grid, timeline, *, params=None, interference=None, scenario=None)`` runs
the restoration from a cascade's end state and returns a :class:`RestorationResult`
(served-load curve, ENS, customer-hours, hours until each region is 90 % served,
critical services). See docs/restoration.md.
"""

from blackout.restore.api import restore
from blackout.restore.calibration import compare_observed, render_table
from blackout.restore.interference import Interference
from blackout.restore.params import RestoreParams, load_params
from blackout.restore.pickup import PickupLimit, max_pickup
from blackout.restore.result import RestorationResult
from blackout.restore.run import impact, restore_event, run_event, summary_text

__all__ = [
    "Interference",
    "compare_observed",
    "impact",
    "render_table",
    "run_event",
    "summary_text",
    "PickupLimit",
    "RestorationResult",
    "RestoreParams",
    "load_params",
    "max_pickup",
    "restore",
    "restore_event",
]
