"""Simulated against observed restoration times, per region.

The observed windows live in the case's restoration data file (``[observed]``:
region -> [lo, hi] hours after the event's start until ~90 % of demand is served
again for good, with sources). The residual of a region is 0 inside its window and
the signed distance to the nearest edge outside it (positive: simulated too late).
"""

from __future__ import annotations

from typing import Any

from blackout.restore.result import RestorationResult

__all__ = ["compare_observed", "render_table"]


def compare_observed(result: RestorationResult) -> list[dict[str, Any]]:
    """One row per region: simulated h, observed window, residual h (None if not restored)."""
    obs = result.params.observed
    rows = []
    for region, sim in result.region_restored_h().items():
        window = obs.get(region, obs.get("default"))
        if window is None:
            continue
        lo, hi = float(window[0]), float(window[1])
        if sim is None:
            resid = None
        else:
            resid = 0.0 if lo <= sim <= hi else (sim - hi if sim > hi else sim - lo)
        rows.append({"region": region, "simulated_h": None if sim is None else round(sim, 1),
                     "observed_lo_h": lo, "observed_hi_h": hi,
                     "specific_source": region in obs,
                     "residual_h": None if resid is None else round(resid, 1)})
    return rows


def render_table(rows: list[dict[str, Any]]) -> str:
    """A Markdown table of :func:`compare_observed` rows."""
    out = ["| Region | Simulated (h) | Observed (h) | Residual (h) | Region-specific source |",
           "|---|---|---|---|---|"]
    for r in rows:
        sim = "not restored" if r["simulated_h"] is None else f"{r['simulated_h']:.1f}"
        res = "-" if r["residual_h"] is None else f"{r['residual_h']:+.1f}"
        out.append(f"| {r['region']} | {sim} | {r['observed_lo_h']:.0f}-{r['observed_hi_h']:.0f}"
                   f" | {res} | {'yes' if r['specific_source'] else 'no'} |")
    return "\n".join(out)
