"""Power-flow speed: ours vs pandapower runpp/rundcpp vs raw lightsim2grid, same process.

Each tool solves the same base case repeatedly (median of repeats). "Raw
lightsim2grid" is its GridModel (``init_from_pandapower``) calling ``ac_pf`` /
``dc_pf`` from a flat start, without any pandapower round trip. Our solver caches
the admittance matrix and the DC factorisation per topology, and solves the largest
energised island through one lightsim2grid LSGrid kept per grid (blackout.flow.lsgrid),
as lightsim2grid's GridModel does between calls.
"""

from __future__ import annotations

import logging
import warnings

import numpy as np
import pandapower as pp
import pandapower.networks as pn
from common import median_time, write_result
from lightsim2grid.gridmodel import init_from_pandapower

import blackout

CASES = ["case118", "case2869pegase", "case9241pegase"]


def main() -> None:
    logging.getLogger("pandapower").setLevel(logging.ERROR)
    warnings.simplefilter("ignore")
    rows = []
    for case in CASES:
        net = getattr(pn, case)()
        grid = blackout.load_case(case)
        model = init_from_pandapower(net)
        v0 = np.ones(len(net.bus), dtype=complex)
        t_ours_ac = median_time(lambda: blackout.run_ac(grid))  # noqa: B023
        t_ours_dc = median_time(lambda: blackout.run_dc(grid))  # noqa: B023
        t_ls_ac = median_time(lambda: model.ac_pf(v0, 30, 1e-8))  # noqa: B023
        t_ls_dc = median_time(lambda: model.dc_pf(v0, 30, 1e-8))  # noqa: B023
        t_pp_ac = median_time(lambda: pp.runpp(net), repeats=5)  # noqa: B023
        t_pp_dc = median_time(lambda: pp.rundcpp(net), repeats=5)  # noqa: B023
        rows.append({
            "case": case,
            "ours_ac_ms": round(t_ours_ac * 1e3, 2),
            "lightsim2grid_ac_ms": round(t_ls_ac * 1e3, 2),
            "pandapower_runpp_ms": round(t_pp_ac * 1e3, 2),
            "ours_ac_over_lightsim2grid": round(t_ours_ac / t_ls_ac, 2),
            "ours_dc_ms": round(t_ours_dc * 1e3, 2),
            "lightsim2grid_dc_ms": round(t_ls_dc * 1e3, 2),
            "pandapower_rundcpp_ms": round(t_pp_dc * 1e3, 2),
            "pandapower_dc_over_ours": round(t_pp_dc / t_ours_dc, 1),
        })
        print(rows[-1], flush=True)
    big = rows[-1]
    ac_ratio, dc_ratio = big["ours_ac_over_lightsim2grid"], big["pandapower_dc_over_ours"]
    notes = [
        "What each timed call includes. ours AC: one full blackout.run_ac(grid) on an "
        "already-loaded grid with warm caches (topology arrays, Ybus, island set-up and the "
        "LSGrid built from our Grid are kept per grid/topology): injections, syncing what "
        "changed into the LSGrid (nothing, between repeats of one state), one LSGrid.ac_pf "
        "of the largest energised island from a flat start (the other islands, if any, "
        "through NRSing_KLU on our Ybus), the check that the answer meets our own power-flow "
        "equations (P/Q mismatch, setpoint magnitudes, slack angle), and the whole result "
        "(flows at both ends, generator P/Q, loadings, island summaries). lightsim2grid raw "
        "AC: its GridModel's ac_pf(V0 flat, 30, 1e-8) on the Ybus/Sbus/V0 it has prepared "
        "(init_from_pandapower done once), no result extraction. ours DC: one full "
        "run_dc(grid) (cached LU, solve per island, full result). pandapower: runpp/rundcpp "
        "on the net, its defaults.",
        "Where the AC time goes: both do 6 Newton iterations on case9241pegase in an LSGrid "
        "that keeps its Jacobian pattern and KLU symbolic analysis between calls; the rest "
        "(injections, check, flows and result) is ours, ~4-5 ms. Before the LSGrid path "
        "(lightsim2grid's python-facing NRSing_KLU.solve on our Ybus, which redoes the "
        "symbolic analysis every call) ours was 3.24x; run_ac(grid, solver='island') still "
        "takes that path.",
        "Median of 7 repeats (5 for pandapower) after one warm-up call, one process, "
        "OPENBLAS_NUM_THREADS=1.",
    ]
    targets = [
        {"target": "issue 2: AC overhead over raw lightsim2grid < 1.5x on case9241pegase",
         "measured": f"{ac_ratio}x", "met": bool(ac_ratio < 1.5)},
        {"target": "issue 2: DC >= 5x faster than pandapower rundcpp on case9241pegase",
         "measured": f"{dc_ratio}x", "met": bool(dc_ratio >= 5)},
    ]
    write_result("pf", "Power flow (bench_pf.py)", rows, notes, targets=targets)


if __name__ == "__main__":
    main()
