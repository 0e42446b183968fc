"""N-1 against PowSyBl OpenLoadFlow's security analysis on case1354pegase (issue 19 item 5).

The same grid goes to both: case1354pegase (its own dispatch), ratings 1.3 x the base flow
with a 31.7 MVA floor (``derive_ratings``, as the tests' fixtures), exported to a MATPOWER
.mat file and read by pypowsybl's importer; OpenLoadFlow without distributed slack, every
branch outage a contingency and every branch monitored.

- DC: blackout's ``screen_n1(cascade=False)`` (what ``blackout n1 --dc`` ranks) at the
  dispatch of its DC base case (each island's imbalance shared by headroom; the same
  injections sent to OpenLoadFlow), ratings as ACTIVE_POWER limits. Compared: the set of
  contingencies with a new or worsened (10 %) violation, from OpenLoadFlow's own
  limit-violation list, and each contingency's worst post-outage loading.
- AC: blackout's ``verify_outages`` (what ``blackout n1 --ac`` runs per verified outage) on
  the case dispatch (slack takes the losses), against OpenLoadFlow's AC security analysis
  (no reactive limits). One flagging rule applied to both sets of flows (a branch's larger
  end's MVA over rate_a above 100 % where it was within its rating, or above 1.1 x its base
  loading); OpenLoadFlow's own list applies it per side (see tests/flow/test_powsybl_ac.py).

Each side is timed (one run, wall time; pypowsybl's JVM start not included), as a ratio.
"""

from __future__ import annotations

import logging
import tempfile
import time
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from common import write_result

from blackout import load_case
from blackout.flow.ratings import derive_ratings
from blackout.grid.io.powsybl import to_powsybl
from blackout.grid.model import Grid
from blackout.study.contingency.ac_verify import verify_outages
from blackout.study.contingency.n1 import screen_n1
from blackout.study.fastdc.model import DCModel

CASE = "case1354pegase"
PTS = 1e-6  # DC loadings: agreement expected to rounding
TITLE = "N-1 against PowSyBl OpenLoadFlow, case1354pegase (bench_powsybl.py)"
CHUNK = 200  # AC contingencies per OpenLoadFlow call (every branch monitored)


def _network(grid: Grid, folder: Path, limit_type: str, rate: np.ndarray):  # type: ignore[no-untyped-def]

    net, bid = to_powsybl(grid, folder)
    rb = np.flatnonzero(rate > 0).tolist()
    m2 = 2 * len(rb)
    net.create_loading_limits(
        element_id=[bid[b] for b in rb for _ in (0, 1)], side=["ONE", "TWO"] * len(rb),
        name=["permanent"] * m2, type=[limit_type] * m2,
        value=[float(rate[b]) for b in rb for _ in (0, 1)], acceptable_duration=[-1] * m2)
    return net, bid


def _security(net: Any, outages: list[str], monitored: list[str], ac: bool,
              margin_slack: bool = False) -> tuple[Any, float]:
    """OpenLoadFlow's security analysis of ``outages`` (no distributed slack, or with
    ``margin_slack`` the slack shared in proportion to the generators' remaining margin)."""
    import pypowsybl as pw

    sa = pw.security.create_analysis()
    sa.add_single_element_contingencies(outages)
    sa.add_monitored_elements(branch_ids=monitored)
    lf = (pw.loadflow.Parameters(distributed_slack=True, use_reactive_limits=False,
                                 balance_type=pw.loadflow.BalanceType
                                 .PROPORTIONAL_TO_GENERATION_REMAINING_MARGIN)
          if margin_slack else
          pw.loadflow.Parameters(distributed_slack=False, use_reactive_limits=False))
    params = pw.security.Parameters(load_flow_parameters=lf)
    t0 = time.perf_counter()
    res = sa.run_ac(net, parameters=params) if ac else sa.run_dc(net, parameters=params)
    return res, time.perf_counter() - t0


def _loadings(res: Any, bid: list[str], rate: np.ndarray, ac: bool) -> pd.DataFrame:
    br = res.branch_results.reset_index()
    flow = (np.maximum(np.hypot(br.p1, br.q1), np.hypot(br.p2, br.q2)) if ac
            else np.abs(br.p1)).to_numpy()
    rated = dict(zip(bid, np.where(rate > 0, rate, np.nan), strict=True))
    br["loading"] = 100.0 * flow / br["branch_id"].map(rated)
    return br.pivot(index="contingency_id", columns="branch_id", values="loading")[bid]


def _dc_rows(grid: Grid) -> list[dict[str, Any]]:
    t0 = time.perf_counter()
    model = DCModel.build(grid)
    ours = screen_n1(model, cascade=False)
    t_ours = time.perf_counter() - t0
    gen = {k: np.array(v) for k, v in grid.gen.items()}
    gen["p_mw"] = np.where(model.gen_on, model.gen_p0_mw, gen["p_mw"])
    rate = np.where(model.live, model.rate_mva, 0.0)
    with tempfile.TemporaryDirectory() as tmp:
        net, bid = _network(grid.replace(gen=gen), Path(tmp), "ACTIVE_POWER", rate)
    tab = ours.table
    names = [bid[b] for b in tab["branch"]]
    mine = {bid[b] for b in tab.loc[(tab["new_violations"] > 0)
                                    | (tab["worsened_violations"] > 0), "branch"]}
    islanding = (tab["islands_added"] > 0).to_numpy()
    isl = {n for n, i in zip(names, islanding, strict=True) if i}
    rows = []
    for margin in (False, True):
        res, t_olf = _security(net, names, bid, ac=False, margin_slack=margin)
        theirs = set(res.limit_violations.index.get_level_values(0).unique()) - {""}
        olf_max = _loadings(res, bid, rate, ac=False).loc[names].max(axis=1).to_numpy()
        diff = np.abs(olf_max - tab["max_loading_pct"].to_numpy())
        differ = mine ^ theirs
        rows.append({
            "case": CASE, "mode": "DC", "openloadflow_slack": (
                "remaining margin" if margin else "off"),
            "contingencies": len(names), "islanding": int(islanding.sum()),
            "flagged_ours": len(mine), "flagged_openloadflow": len(theirs),
            "flagged_differ": len(differ), "flagged_differ_islanding": len(differ & isl),
            "worst_loading_max_diff_pts_not_islanding": float(np.nanmax(diff[~islanding])),
            "worst_loading_max_diff_pts_islanding": float(np.nanmax(diff[islanding])),
            "ours_s": round(t_ours, 2), "openloadflow_s": round(t_olf, 2),
            "ours_over_openloadflow": round(t_ours / t_olf, 2)})
    return rows


def _ac_row(grid: Grid) -> dict[str, Any]:
    rate = np.asarray(grid.branch["rate_a_mva"], dtype=float)
    every = np.arange(grid.branch.n)
    t0 = time.perf_counter()
    ours = verify_outages(grid, every)
    t_ours = time.perf_counter() - t0
    with tempfile.TemporaryDirectory() as tmp:
        net, bid = _network(grid, Path(tmp), "APPARENT_POWER", rate)
    theirs: set[str] = set()
    olf_max = np.full(len(bid), np.nan)
    statuses: list[str] = []
    t_olf = 0.0
    for lo in range(0, len(bid), CHUNK):  # all branches monitored: memory per chunk
        res, t = _security(net, bid[lo:lo + CHUNK], bid, ac=True)
        t_olf += t
        table = _loadings(res, bid, rate, ac=True)
        base = table.loc[""].to_numpy()
        limit = np.where(base > 100.0, 1.1 * base, 100.0)
        post = table.reindex(bid[lo:lo + CHUNK]).to_numpy()  # no row: not solved
        theirs |= {c for c, row in zip(bid[lo:lo + CHUNK], post, strict=True)
                   if (np.nan_to_num(row) > limit).any()}
        olf_max[lo:lo + CHUNK] = np.nanmax(post, axis=1)
        statuses += [str(r.status) for r in res.post_contingency_results.values()]
        del res, table, post
    mine = {bid[b] for b in np.flatnonzero((ours.new_violations > 0)
                                           | (ours.worsened_violations > 0))}
    diff = np.abs(olf_max - ours.max_loading_pct)
    return {"case": CASE, "mode": "AC", "contingencies": int(every.size),
            "flagged_ours": len(mine), "flagged_openloadflow": len(theirs),
            "flagged_equal": mine == theirs, "flagged_differ": len(mine ^ theirs),
            "worst_loading_max_diff_pts": float(np.nanmax(diff)),
            "worst_loading_diff_over_1pt": int((diff > 1.0).sum()),
            "ours_converged": int(ours.converged.sum()),
            "openloadflow_converged": sum("CONVERGED" in s for s in statuses),
            "ours_s": round(t_ours, 2), "openloadflow_s": round(t_olf, 2),
            "ours_over_openloadflow": round(t_ours / t_olf, 2)}


def main() -> None:
    try:
        import pypowsybl  # noqa: F401
    except ImportError:
        print("bench_powsybl: pypowsybl (the psse extra) not installed")
        return
    logging.getLogger("pandapower").setLevel(logging.ERROR)
    warnings.simplefilter("ignore")
    grid = derive_ratings(load_case(CASE), k=1.3, floor_mva=31.7, override_given=True)
    rows = _dc_rows(grid)
    print(rows, flush=True)
    write_result("powsybl", TITLE, rows, ["DC rows only: the AC part did not finish."])
    rows.append(_ac_row(grid))
    print(rows[-1], flush=True)
    dc, ac = rows[0], rows[-1]
    targets = [
        {"target": "DC: flagged contingencies equal OpenLoadFlow's (distributed slack off), "
                   "worst loadings to 1e-6 pts, outages that do not island",
         "measured": f"{dc['flagged_differ'] - dc['flagged_differ_islanding']} differ, "
                     f"{dc['worst_loading_max_diff_pts_not_islanding']:.1e} pts "
                     f"({dc['flagged_differ_islanding']} islanding outages differ: the lost "
                     "power shared by headroom here, on the slack there)",
         "met": bool(dc["flagged_differ"] == dc["flagged_differ_islanding"]
                     and dc["worst_loading_max_diff_pts_not_islanding"] <= PTS)},
        {"target": "AC: flagged contingencies equal OpenLoadFlow's within a stated tolerance "
                   "on loadings",
         "measured": f"{ac['flagged_differ']} differ, worst loading within "
                     f"{ac['worst_loading_max_diff_pts']:.2f} pts (no tolerance stated: the "
                     "AC base cases differ, see the notes)",
         "met": bool(ac["flagged_equal"])},
    ]
    notes = [
        "Grid: case1354pegase, its own dispatch, ratings 1.3 x base flow (floor 31.7 MVA), "
        "exported to .mat and read by pypowsybl's MATPOWER importer; OpenLoadFlow without "
        "distributed slack, no reactive limits, every branch monitored.",
        "DC: flagged = OpenLoadFlow's own limit violations (ACTIVE_POWER limits) vs our "
        "new_violations/worsened_violations of screen_n1; worst loading per contingency "
        "from its monitored branch flows. An outage that islands part of the grid loses "
        "that part's load and generation: blackout shares the imbalance by headroom "
        "(--participation headroom), OpenLoadFlow with distributed slack off puts it on its "
        "slack bus; the second DC row shares it by remaining margin (OpenLoadFlow's "
        "PROPORTIONAL_TO_GENERATION_REMAINING_MARGIN), closer to ours.",
        "AC: one rule (branch loading = larger end's MVA / rate_a; new above 100 %, worsened "
        "above 1.1 x base) applied to our verify_outages and to OpenLoadFlow's monitored "
        "flows. The known gap is PowSyBl's importer placing a transformer's charging on one "
        "side (tests/flow/test_powsybl_ac.py), and the lost part of an islanding outage "
        "(OpenLoadFlow solves the main component only). On case1354pegase the AC base cases "
        "already differ, by up to 82 points on LINE-3498-3512 (a 380 kV line; case118 agrees "
        "to 0.02 points without transformer charging); OpenLoadFlow reports 2,612 MW "
        "absorbed at its slack bus, the case's reference bus 4230, and ours 2,611 MW there "
        "(the case's dispatch is short by that much): the active balance is the same. Not "
        "explained yet (to look at: OpenLoadFlow's handling of generators' voltage control and "
        "active-power plausibility limits), so no AC tolerance is claimed on this case.",
        "Times: one run each on a busy 2-core machine (ratio only); the JVM start of "
        "pypowsybl is outside the OpenLoadFlow figure, which includes returning every "
        "monitored branch's flows for every contingency (1991 x 1991 in DC) to Python: "
        "not a like-for-like speed comparison.",
    ]
    write_result("powsybl", TITLE, rows, notes, targets=targets)


if __name__ == "__main__":
    main()
