"""What ``blackout run`` needs: the run JSON's "restoration" and "critical" sections and a
text summary (darkest regions, longest outages, critical services down and for how long)."""

from __future__ import annotations

from typing import Any

from blackout.grid.model import Grid
from blackout.restore.api import restore
from blackout.restore.calibration import compare_observed
from blackout.restore.result import RestorationResult

__all__ = ["run_event", "summary_text", "restore_event", "impact"]


def restore_event(grid: Grid, timeline: Any, scenario: Any = None,
                  **kwargs: Any) -> RestorationResult:
    """Restore after a scenario's cascade: :func:`blackout.restore.restore` with the
    compiled scenario's restoration data and its file's ``restoration:`` section.

    ``scenario`` may be a compiled scenario (its threats' ``restoration`` data and its
    file's ``restoration:`` section are used), a dict of the threats' data, or None.
    """
    data = getattr(scenario, "restoration", scenario)
    spec = getattr(getattr(scenario, "scenario", None), "restoration", None)
    if spec is not None and "spec" not in kwargs:
        kwargs["spec"] = spec
    return restore(grid, timeline, scenario=data, **kwargs)


#: The old name of :func:`restore_event` (the sweep's trial calls it).
impact = restore_event


def run_event(grid: Grid, timeline: Any, scenario: Any = None) -> dict[str, Any]:
    """``{"restoration": {...}, "critical": {...}}`` for the run JSON.

    Parameters
    ----------
    grid : the grid the cascade ran on (the compiled scenario's snapshot grid).
    timeline : the cascade Timeline.
    scenario : the CompiledScenario (or its ``restoration`` dict, or None). Only the
        interference its scenario file declares applies (the case holds none).
    """
    res = restore_event(grid, timeline, scenario)
    out = res.to_dict()
    if res.params.observed and not res.nothing_to_restore:
        out["observed_comparison"] = compare_observed(res)
    return {"restoration": out, "critical": res.critical_dict(),
            "summary_text": summary_text(res)}


def summary_text(result: RestorationResult, *, top: int = 5) -> str:
    """Plain-text summary for the CLI."""
    c = result.curve
    if result.nothing_to_restore:
        return ("restoration: nothing to restore: the cascade lost no load (energy not "
                f"served {c.energy_not_served_mwh():,.0f} MWh, no interference)")
    rh = result.region_restored_h()
    dark = c.hours_dark()
    lines = [f"restoration: {result.served_percent_final():.1f} % served at "
             f"{c.end_h:.0f} h; energy not served {c.energy_not_served_mwh():,.0f} MWh; "
             f"{c.customer_hours() / 1e6:,.0f} million person-hours without power"]
    h90 = c.time_to_national_h(90)
    lines.append("national demand 90 % served again " + (
        "not within the horizon" if h90 is None else f"at {h90:.1f} h"))
    if dark:  # a case with regions
        worst = sorted(dark, key=dark.__getitem__, reverse=True)[:top]
        lines.append("darkest regions (hours below 10 % served): " + ", ".join(
            f"{r} {dark[r]:.0f} h" for r in worst))
        longest = sorted(rh, key=lambda r: (rh[r] is not None, -(rh[r] or 0.0)))[:top]
        lines.append("longest outages (hours to 90 % served): " + ", ".join(
            f"{r} {'not restored' if rh[r] is None else f'{rh[r]:.0f} h'}" for r in longest))
    crit = result.critical
    for cat in crit.categories():
        down = crit.longest_down_h(cat)
        if not down:
            continue
        region = max(down, key=down.__getitem__)
        lines.append(f"{cat}: down up to {down[region]:.0f} h ({region}); "
                     f"{crit.person_hours_lost(cat) / 1e6:,.1f} million person-hours lost")
    for i in result.interference:
        lines.append(f"interference at {i.at_h:.1f} h: {i.name}"
                     + (f" ({'; '.join(i.sources)})" if i.sources else ""))
    if result.account.get("reproduces"):
        lines.append(f"reproduces: {result.account['reproduces']}")
    if result.account.get("departs"):
        lines.append(f"departs from its account: {result.account['departs']}")
    return "\n".join(lines)
