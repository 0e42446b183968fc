"""Loads: each state's ordinary demand plus critical loads carved out of it, and Roraima."""

from __future__ import annotations

import math
from typing import Any

from blackout.cases.venezuela2019.data import parameters

__all__ = ["build_loads", "allocate"]

BRAZIL_BUS = "Boa Vista (Brazil) 230 kV"


def allocate(total: int, weights: list[float]) -> list[int]:
    """Split an integer total in proportion to weights (largest remainder)."""
    s = sum(weights)
    raw = [total * w / s for w in weights]
    out = [math.floor(r) for r in raw]
    order = sorted(range(len(raw)), key=lambda i: raw[i] - out[i], reverse=True)
    for i in order[: total - sum(out)]:
        out[i] += 1
    return out


def build_loads(index: dict[str, int], states: list[dict[str, Any]],
                demand: dict[str, float]) -> dict[str, list[Any]]:
    """Load table columns. Critical loads share their state's load bus and are subtracted from
    its ordinary demand, so each state's total is the stated demand (MW)."""
    par = parameters()
    crit = par["critical"]
    q_per_p = math.tan(math.acos(par["demand"]["power_factor"]))
    pops = [float(s["population_2011"]) for s in states]
    units = allocate(crit["dialysis_units"], pops)
    patients = allocate(crit["dialysis_patients"], pops)
    cols: dict[str, list[Any]] = {k: [] for k in ("name", "bus", "p_mw", "q_mvar", "customers",
                                                  "critical")}

    def add(name: str, bus: int, p_mw: float, customers: float, critical: str) -> None:
        cols["name"].append(name)
        cols["bus"].append(bus)
        cols["p_mw"].append(round(p_mw, 3))
        cols["q_mvar"].append(round(p_mw * q_per_p, 3))
        cols["customers"].append(float(customers))
        cols["critical"].append(critical)

    for k, st in enumerate(states):
        name, bus, total = st["name"], index[f"{st['name']} load"], demand[st["name"]]
        critical: list[tuple[str, float, float, str]] = [
            (f"{name} hospitals", crit["hospital_share"] * total, pops[k], "hospital"),
            (f"{name} dialysis units ({units[k]})", crit["dialysis_mw_per_unit"] * units[k],
             patients[k], "dialysis"),
            (f"{name} telecom sites", crit["telecom_share"] * total, pops[k], "telecom"),
        ]
        if name == crit["water_state"]:
            critical.append(("Tuy I-III water pumping (Caracas supply)", crit["water_tuy_mw"],
                             crit["water_tuy_people"], "water"))
        if name == crit["metro_state"]:
            critical.append(("Caracas Metro", crit["metro_mw"], crit["metro_riders"], "metro"))
        ordinary = total - sum(c[1] for c in critical)
        add(f"{name} demand", bus, ordinary, pops[k], "")
        for c in critical:
            if c[1] > 0:
                add(c[0], bus, c[1], c[2], c[3])
    add("Roraima (Brazil) export", index[BRAZIL_BUS], par["export"]["brazil_mw"], 0.0, "")
    return cols
