"""Build the Venezuela 2019 Grid from the records in ``data/``.

Substations become one bus per voltage level, joined by autotransformer banks; each corridor
record becomes one branch per circuit; each state gets a 115 kV load bus fed from its nearest
substation by an equivalent supply transformer; generator groups and critical loads come from
their records. Numbers live in the data files; this module only applies the stated rules.
"""

from __future__ import annotations

import math
from collections import defaultdict
from typing import Any

import numpy as np

from blackout.cases.venezuela2019.data import parameters, records, regions_geojson
from blackout.cases.venezuela2019.demand import state_demand_mw
from blackout.cases.venezuela2019.electrical import (
    great_circle_km,
    line_impedance_pu,
    line_ratings_mva,
    point_in_geometry,
    route_length_km,
)
from blackout.cases.venezuela2019.loads import build_loads
from blackout.grid.model import Grid

__all__ = ["build_venezuela2019", "bus_name", "supply_substations"]

_SLACK_BUS = "Guri 765 kV"
_MACHINE_PF = 0.9  # assumption: rated power factor of the machines (mbase = pmax / 0.9)


def bus_name(substation: str, kv: float) -> str:
    """Readable bus name, e.g. ``"Guri 765 kV"``."""
    return f"{substation} {kv:g} kV"


class _Tables:
    """Column lists being filled, one dict per element."""

    def __init__(self) -> None:
        self.bus: dict[str, list[Any]] = defaultdict(list)
        self.branch: dict[str, list[Any]] = defaultdict(list)
        self.gen: dict[str, list[Any]] = defaultdict(list)
        self.index: dict[str, int] = {}

    def add_bus(self, name: str, **cols: Any) -> int:
        pos = len(self.bus["name"])
        self.index[name] = pos
        self.bus["name"].append(name)
        self.bus["number"].append(pos + 1)
        for key, value in cols.items():
            self.bus[key].append(value)
        return pos

    def add_branch(self, **cols: Any) -> None:
        for key, value in cols.items():
            self.branch[key].append(value)


def _region_of(lat: float, lon: float, regions: list[dict[str, Any]]) -> int:
    """Position of the state whose boundary contains the point, else of the nearest capital."""
    for feature in regions_geojson()["features"]:
        if point_in_geometry(feature["geometry"], lat, lon):
            code = feature["properties"]["iso_3166_2"]
            for k, r in enumerate(regions):
                if r["code"] == code:
                    return k
    dist = [great_circle_km(lat, lon, r["lat"], r["lon"]) for r in regions]
    return int(np.argmin(dist))


def supply_substations() -> dict[str, str]:
    """State name -> the substation its load is attached to (nearest load-serving one)."""
    subs = [s for s in records("substations") if s["serves_load"]]
    out = {}
    for st in records("states"):
        dist = [great_circle_km(st["lat"], st["lon"], s["lat"], s["lon"]) for s in subs]
        out[st["name"]] = subs[int(np.argmin(dist))]["name"]
    return out


def _add_substations(t: _Tables, states: list[dict[str, Any]]) -> None:
    for s in records("substations"):
        region = _region_of(s["lat"], s["lon"], states) if s["country"] == "VE" else -1
        live = s["country"] != "CO"  # Colombian links unused since ~2016: isolated buses
        for kv in s["levels_kv"]:
            t.add_bus(bus_name(s["name"], kv), vn_kv=float(kv), region=region, lat=s["lat"],
                      lon=s["lon"], type=1 if live else 4, in_service=live, bs_mvar=0.0)


def _add_lines(t: _Tables, base_mva: float) -> None:
    par = parameters()
    rules, types = par["rules"], par["line_types"]
    subs = {s["name"]: s for s in records("substations")}
    for rec in records("lines"):
        kv = rec["kv"]
        ltype = types[str(kv)]
        length = rec["length_km"] or route_length_km(
            subs[rec["from"]], subs[rec["to"]], routing_factor=rules["routing_factor"])
        r, x, b = line_impedance_pu(ltype, kv, length, base_mva=base_mva,
                                    series_comp=rec["series_comp"])
        rate_a, rate_b, rate_c, basis = line_ratings_mva(
            ltype, length, rules, series_comp=rec["series_comp"], rate_a_mva=rec["rate_a_mva"],
            rate_c_mva=rec["rate_c_mva"])
        f, to = t.index[bus_name(rec["from"], kv)], t.index[bus_name(rec["to"], kv)]
        # shunt reactors at both ends absorb a stated share of the charging (765 kV, long lines)
        share = rec.get("shunt_compensation")
        if share is None:
            long_line = kv >= 765 or length >= rules["reactor_min_length_km"]
            share = rules["shunt_compensation"] if long_line else 0.0
        for end in (f, to):
            t.bus["bs_mvar"][end] -= share * b * base_mva / 2 * rec["circuits"]
        for c in range(1, rec["circuits"] + 1):
            t.add_branch(name=f"{rec['corridor']} {c}", from_bus=f, to_bus=to, r_pu=r, x_pu=x,
                         b_pu=b, rate_a_mva=rate_a, rate_b_mva=rate_b, rate_c_mva=rate_c,
                         rating_given=basis == "given", tap=0.0, kind="line",
                         length_km=round(length, 1), corridor=rec["corridor"],
                         in_service=rec["in_service"])


def _add_transformers(t: _Tables, base_mva: float) -> None:
    rules = parameters()["rules"]
    for rec in records("transformers"):
        hv = t.index[bus_name(rec["substation"], rec["hv"])]
        lv = t.index[bus_name(rec.get("to", rec["substation"]), rec["lv"])]
        x = rules["xfmr_x_pct"] / 100 * base_mva / rec["mva"]
        for c in range(1, rec["banks"] + 1):
            t.add_branch(
                name=f"{rec['substation']} {rec['hv']}/{rec['lv']} kV autotransformer {c}",
                from_bus=hv, to_bus=lv, r_pu=x / rules["xfmr_x_r"], x_pu=x, b_pu=0.0,
                rate_a_mva=rec["mva"], rate_b_mva=rec["mva"] * rules["emergency_long"],
                rate_c_mva=rec["mva"] * rules["emergency_short"], rating_given=False, tap=1.0,
                kind="transformer", length_km=0.0,
                corridor=f"{rec['substation']} substation", in_service=True)


def _add_state_supplies(t: _Tables, states: list[dict[str, Any]], demand: dict[str, float],
                        base_mva: float) -> None:
    rules = parameters()["rules"]
    subs = {s["name"]: s for s in records("substations")}
    local_gen: dict[str, float] = defaultdict(float)
    for g in records("generators"):
        local_gen[g["bus"]] += g["units_online"] * g["unit_mw"]
    feeder = supply_substations()
    for k, st in enumerate(states):
        name = f"{st['name']} load"
        q_mvar = demand[st["name"]] * math.tan(math.acos(parameters()["demand"]["power_factor"]))
        t.add_bus(name, vn_kv=rules["supply_kv"], region=k, lat=st["lat"], lon=st["lon"], type=1,
                  in_service=True, bs_mvar=rules["load_capacitor_share"] * q_mvar)
        sub = subs[feeder[st["name"]]]
        hv = t.index[bus_name(sub["name"], min(sub["levels_kv"]))]
        rating = rules["supply_rating_factor"] * (demand[st["name"]] + local_gen[name])
        x = rules["supply_x_pct"] / 100 * base_mva / rating
        t.add_branch(name=f"{st['name']} supply (equivalent)", from_bus=hv, to_bus=t.index[name],
                     r_pu=x / rules["xfmr_x_r"], x_pu=x, b_pu=0.0, rate_a_mva=rating,
                     rate_b_mva=rating, rate_c_mva=rating, rating_given=False, tap=1.0,
                     kind="transformer", length_km=0.0, corridor=f"{st['name']} supply",
                     in_service=True)


def _add_generators(t: _Tables) -> None:
    dyn = parameters()["dynamics"]
    for g in records("generators"):
        kind = g["kind"]
        pmax = g["units_online"] * g["unit_mw"]
        mbase = pmax / _MACHINE_PF if kind != "svc" else 600.0
        bus = t.index[g["bus"]]
        t.bus["type"][bus] = 3 if g["bus"] == _SLACK_BUS else max(t.bus["type"][bus], 2)
        t.gen["name"].append(g["name"])
        t.gen["bus"].append(bus)
        t.gen["p_mw"].append(float(g["p_mw"]))
        t.gen["vm_pu"].append(float(g.get("vm_pu", 1.03)))
        t.gen["pmin_mw"].append(0.0)
        t.gen["pmax_mw"].append(float(pmax))
        q_range = 0.6 * mbase if kind != "svc" else mbase  # SVC: +-600 Mvar (assumption)
        t.gen["qmin_mvar"].append(-q_range)
        t.gen["qmax_mvar"].append(q_range)
        t.gen["mbase_mva"].append(mbase)
        t.gen["in_service"].append(bool(g["in_service"]))
        t.gen["kind"].append(kind)
        t.gen["inertia_h_s"].append(dyn[kind]["inertia_h_s"])
        t.gen["droop_pu"].append(dyn[kind]["droop_pu"])
        t.gen["black_start"].append(bool(dyn[kind]["black_start"]))
        t.gen["fuel_hours"].append(float("inf"))


def _notes(t: _Tables) -> dict[str, Any]:
    par = parameters()
    cut = set(par["export"]["cut_corridors"])
    cut_names = [n for n, c in zip(t.branch["name"], t.branch["corridor"], strict=True) if c in cut]
    return {
        "source": "blackout's simplified, sourced model of Venezuela's SEN at ~16:50 VET on "
                  "7 March 2019; data and source notes in blackout/cases/venezuela2019/data/; "
                  "every number listed by `blackout cases --describe venezuela2019`",
        "snapshot": par["snapshot"]["time_local"],
        "ratings": "765 kV Guri-Malena-San Gerónimo B: sourced stability-limited transfer; "
                   "Yaracuy-El Tablazo: sourced corridor transfer; others: min(thermal, "
                   "St. Clair loadability x SIL) by voltage class (typical-parameters 1.5)",
        "stability_limits": [{
            "name": "Guayana -> centre export",
            "branches": cut_names,
            "limit_mw": par["export"]["guayana_limit_mw"],
            "source": par["export"]["guayana_limit_source"],
        }],
        "dynamics_by_kind": {k: {kk: vv for kk, vv in v.items() if kk != "source"}
                             for k, v in par["dynamics"].items()},
        "protection": {k: v for k, v in par["protection"].items() if not k.endswith("source")},
        "critical_backup": {
            "hospital": {"backup_fraction": par["critical"]["hospital_backup_fraction"],
                         "backup_hours": par["critical"]["hospital_backup_hours"]},
            "dialysis": {"backup_fraction": par["critical"]["dialysis_backup_fraction"],
                         "backup_hours": par["critical"]["dialysis_backup_hours"]},
            "telecom": {"backup_fraction": par["critical"]["telecom_backup_fraction"],
                        "backup_hours": par["critical"]["telecom_backup_hours"]},
            "water": {"backup_fraction": 0.0, "backup_hours": 0.0},
            "metro": {"backup_fraction": 0.0, "backup_hours": 0.0},
        },
        "critical_customers": "customers of a critical load count the people who depend on "
                              "that service (patients, riders, residents); they overlap the "
                              "state's ordinary customers and must not be added to them",
        "regions_geojson": "blackout/cases/venezuela2019/regions.geojson",
    }


def build_venezuela2019() -> Grid:
    """The built-in case: Venezuela's national grid (SEN) on 7 March 2019 at ~16:50 VET.

    Returns
    -------
    Grid with ~75 buses (765/400/230 kV substations, one 115 kV load bus per state), the
    three Guri-Malena-San Gerónimo B 765 kV circuits, the parallel 400/230 kV paths, 27
    generator groups (MW, H in s, droop in pu) and ordinary plus critical loads (MW, Mvar,
    people). Every number is listed, with its source or assumption, by
    :func:`blackout.cases.venezuela2019.describe_venezuela2019`.
    """
    par = parameters()
    base_mva = par["snapshot"]["base_mva"]
    states = list(records("states"))
    demand = state_demand_mw()
    t = _Tables()
    _add_substations(t, states)
    _add_lines(t, base_mva)
    _add_transformers(t, base_mva)
    _add_state_supplies(t, states, demand, base_mva)
    _add_generators(t)
    load = build_loads(t.index, states, demand)
    region = {
        "name": [s["name"] for s in states],
        "code": [s["code"] for s in states],
        "population": [float(s["population_2011"]) for s in states],
    }
    return Grid.from_columns(
        name="venezuela2019", base_mva=base_mva, f_hz=par["snapshot"]["f_hz"],
        bus=dict(t.bus), branch=dict(t.branch), gen=dict(t.gen), load=load, region=region,
        notes=_notes(t))
