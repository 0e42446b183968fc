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
    notes = [
        f"Targets on case9241pegase: AC overhead over raw lightsim2grid < 1.5x (measured "
        f"{big['ours_ac_over_lightsim2grid']}x); DC at least 5x faster than pandapower rundcpp "
        f"(measured {big['pandapower_dc_over_ours']}x).",
        "Median of 7 repeats (5 for pandapower) after one warm-up call, one process, "
        "OPENBLAS_NUM_THREADS=1.",
    ]
    write_result("pf", "Power flow (bench_pf.py)", rows, notes)


if __name__ == "__main__":
    main()
