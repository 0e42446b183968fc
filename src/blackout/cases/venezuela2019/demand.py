"""Demand per state: a stated national total, sourced regional overrides, the rest by population."""

from __future__ import annotations

from blackout.cases.venezuela2019.data import parameters, records

__all__ = ["state_demand_mw"]


def state_demand_mw() -> dict[str, float]:
    """MW per state (24 names). Overrides in ``parameters.toml`` [demand.overrides] are keyed by a
    state name or several joined by ``+`` (split by population); the remaining demand is spread
    over the other states by 2011 census population."""
    par = parameters()["demand"]
    pop = {s["name"]: float(s["population_2011"]) for s in records("states")}
    out: dict[str, float] = {}
    for key, mw in par["overrides"].items():
        names = key.split("+")
        group = sum(pop[n] for n in names)
        for n in names:
            out[n] = mw * pop[n] / group
    rest = par["total_mw"] - sum(out.values())
    others = [n for n in pop if n not in out]
    rest_pop = sum(pop[n] for n in others)
    for n in others:
        out[n] = rest * pop[n] / rest_pop
    return out
