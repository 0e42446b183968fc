"""The table of every number in the venezuela2019 case, with its source or assumption.

Used by ``blackout cases --describe venezuela2019``. Each row is a dict with ``quantity``,
``value``, ``unit`` and ``source``; ``source`` is either where the number comes from or a text
starting with "assumption:" that says why it was chosen.
"""

from __future__ import annotations

from typing import Any

from blackout.cases.venezuela2019.build import supply_substations
from blackout.cases.venezuela2019.data import parameters, records
from blackout.cases.venezuela2019.demand import state_demand_mw

__all__ = ["describe_venezuela2019"]

_UNITS = {
    "ohm_per_km": "ohm/km", "us_per_km": "uS/km", "mw": "MW", "mva": "MVA", "kv": "kV", "km": "km", "hz": "Hz", "_s": "s", "pu": "pu",
    "pct": "%", "hours": "h", "people": "people", "riders": "people", "patients": "people",
}


def _unit(key: str) -> str:
    for suffix, unit in _UNITS.items():
        if key.endswith(suffix):
            return unit
    return ""


def _src(*parts: str | None) -> str:
    """Join the non-empty parts; an assumption note comes first."""
    kept = [p for p in parts if p]
    kept.sort(key=lambda p: not p.startswith("assumption"))
    return " | ".join(kept)


def _row(quantity: str, value: Any, unit: str, source: str) -> dict[str, Any]:
    return {"quantity": quantity, "value": value, "unit": unit, "source": source}


def _parameter_rows() -> list[dict[str, Any]]:
    rows = []
    for section, table in parameters().items():
        if section in ("line_types", "dynamics"):
            for kind, values in table.items():
                for key, value in values.items():
                    if key != "source":
                        rows.append(_row(f"{section}.{kind}.{key}", value, _unit(key),
                                         values["source"]))
            continue
        flat = {k: v for k, v in table.items() if not isinstance(v, dict)}
        for key, value in flat.items():
            if key.endswith("source"):
                continue
            source = (flat.get(f"{key}_source") or flat.get(f"{key.rsplit('_', 1)[0]}_source")
                      or _nearest_source(flat, key))
            rows.append(_row(f"{section}.{key}", value, _unit(key), source))
        for sub, values in table.items():
            if isinstance(values, dict) and not sub.endswith("sources"):
                notes = table.get(f"{sub.rstrip('s')}_sources", {})
                for key, value in values.items():
                    rows.append(_row(f"{section}.{sub}.{key}", value, "MW", notes.get(key, "")))
    return rows


def _nearest_source(flat: dict[str, Any], key: str) -> str:
    """The source note of a key's group: the first '<prefix>_source' sharing its first word."""
    prefix = key.split("_")[0]
    for k, v in flat.items():
        if k.endswith("source") and k.startswith(prefix):
            return str(v)
    return ""


def _element_rows() -> list[dict[str, Any]]:
    rows = []
    demand = state_demand_mw()
    feeder = supply_substations()
    overridden = {n for key in parameters()["demand"]["overrides"] for n in key.split("+")}
    for st in records("states"):
        n = st["name"]
        rows.append(_row(f"state {n}: population 2011", st["population_2011"], "people",
                         st["source"]))
        how = ("sourced regional figure (see demand.overrides)" if n in overridden else
               "assumption: population share of the demand left after the sourced overrides "
               "(no per-state demand data is public)")
        rows.append(_row(f"state {n}: demand", round(demand[n], 1), "MW",
                         _src(how, st.get("demand_note"))))
        rows.append(_row(f"state {n}: supplied from", feeder[n], "",
                         "assumption: nearest load-serving substation to the state capital "
                         "(capital coordinates from GeoNames, facts file 3)"))
    for s in records("substations"):
        rows.append(_row(f"substation {s['name']}: lat, lon", [s["lat"], s["lon"]], "degree",
                         _src(s["coords"] if s["coords"].startswith("assumption") else None,
                              f"coordinates: {s['coords']}", s["source"])))
        rows.append(_row(f"substation {s['name']}: voltage levels", s["levels_kv"], "kV",
                         _src(s["notes"] if "assumption" in s["notes"] else None, s["source"])))
    for rec in records("lines"):
        what = f"{rec['corridor']}"
        length = rec["length_km"]
        rows.append(_row(f"{what}: length", length if length else "from coordinates", "km",
                         rec["source"] if length else
                         "assumption: great-circle distance x routing factor (rules)"))
        rows.append(_row(f"{what}: circuits", rec["circuits"], "",
                         rec["source"] if rec["circuits_note"] == "sourced" else
                         _src("assumption: circuit count not in the stored sources", rec["notes"])))
        if rec["rating_note"]:
            rows.append(_row(f"{what}: normal / emergency rating",
                             [rec["rate_a_mva"], rec["rate_c_mva"]], "MVA", rec["rating_note"]))
        if rec["series_comp"]:
            rows.append(_row(f"{what}: series compensation", rec["series_comp"], "pu",
                             rec["rating_note"]))
        if not rec["in_service"]:
            rows.append(_row(f"{what}: in service", False, "", rec["source"]))
        if "shunt_compensation" in rec:
            rows.append(_row(f"{what}: shunt reactor share", rec["shunt_compensation"], "pu",
                             rec["shunt_compensation_note"]))
    for rec in records("transformers"):
        rows.append(_row(f"{rec['substation']} {rec['hv']}/{rec['lv']} kV autotransformers",
                         f"{rec['banks']} x {rec['mva']}", "MVA", rec["source"]))
    for g in records("generators"):
        rows.append(_row(f"{g['name']}: output", g["p_mw"], "MW",
                         _src(g["dispatch_basis"], g["source"])))
        rows.append(_row(f"{g['name']}: units online x unit size",
                         f"{g['units_online']} x {g['unit_mw']}", "MW",
                         _src("assumption: enough units online for the output with ~15-25 % "
                              "headroom", g["source"])))
        if g["installed_mw"] is not None:
            rows.append(_row(f"{g['name']}: installed capacity", g["installed_mw"], "MW",
                             g["source"] or g["dispatch_basis"]))
        if "vm_pu" in g:
            rows.append(_row(f"{g['name']}: voltage setpoint", g["vm_pu"], "pu", g["vm_note"]))
    return rows


def describe_venezuela2019() -> list[dict[str, Any]]:
    """Every number of the case: rows {quantity, value, unit, source}.

    Examples
    --------
    >>> rows = describe_venezuela2019()
    >>> all(r["source"] for r in rows)
    True
    """
    rows = _parameter_rows() + _element_rows()
    rows.append(_row("generator voltage setpoint (default)", 1.03, "pu",
                     "assumption: typical 1.00-1.05 pu; no Venezuelan setpoints are public"))
    rows.append(_row("machine rated power factor (mbase = pmax / 0.9)", 0.9, "",
                     "assumption: typical rated power factor of large synchronous machines"))
    rows.append(_row("slack bus", "Guri 765 kV", "",
                     "assumption: the largest plant takes the balance (losses)"))
    return rows
