"""N-1 screening: every single-branch outage, DC by LODF blocks, the riskiest verified in AC.

Ranking: by the worst post-contingency loading (DC, MW / rate_a) and by the size of the
overload cascade the outage starts (the fast engine, :func:`run_cascades`). Outages
that split an island are handled in the fast path too (re-balanced by participation
factors). AC verification re-solves the contingencies whose estimated apparent-power
loading, ``sqrt((P_ac_base + P_dc - P_dc_base)^2 + Q_ac_base^2) / rate_a`` (the AC base
flow moved by the DC change; DC alone can be far from AC on lossy or reactive-heavy
branches), reaches ``screen_pct``, plus every islanding outage and the top ``top`` by DC
loading, with a full AC power flow (:func:`blackout.flow.run_ac`, lightsim2grid's KLU
Newton-Raphson); the result says which were verified. The estimate cannot see how
reactive flows change after the outage, hence the 20 % margin of the default
``screen_pct = 80``.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from blackout.flow import run_ac
from blackout.study.contingency import bridges as bridge_path
from blackout.study.contingency.ac_verify import verify_outages
from blackout.study.contingency.ranking import rank_rows
from blackout.study.fastdc._compiled import linalg as kernels
from blackout.study.fastdc.engine import post_outage, run_cascades
from blackout.study.fastdc.model import DCModel

__all__ = ["N1Result", "screen_n1", "verify_ac", "base_q_mvar", "base_ac_pq", "base_ac_flows",
           "base_violations",
           "WORSENED_THRESHOLD"]


@dataclass
class N1Result:
    """One row per in-service branch outage (``table``) and what was assumed (``meta``).

    Columns: branch, name, islands_added, load_lost_mw (by islanding alone),
    max_loading_pct (DC, worst branch), worst_branch, overloads (branches above 100 %),
    new_violations (above 100 % and within the rating in the base case),
    worsened_violations (base-case violations worsened by more than the threshold),
    max_caused_loading_pct (the worst loading over the branches within their rating in
    the base case and the worsened violations: what the outage causes; equal to
    max_loading_pct when the base case is within its ratings),
    est_mva_loading_pct, cascade_lines_out, cascade_load_lost_mw, ac_verified,
    ac_max_loading_pct, ac_overloads, ac_converged.
    """

    table: pd.DataFrame
    meta: dict[str, Any] = field(default_factory=dict)

    def ranked(self, by: str = "max_caused_loading_pct", top: int | None = None
               ) -> pd.DataFrame:
        """Rows sorted by ``by`` (descending; default the worst loading the outage causes,
        base-case violations that did not worsen left out), ties broken by cascade size."""
        return rank_rows(self.table, by, ("cascade_load_lost_mw", "cascade_lines_out"), top)

    def to_frame(self) -> pd.DataFrame:
        """The result as a table, one row per outage or cascade."""
        return self.table.copy()

    def to_dict(self, top: int | None = None) -> dict[str, Any]:
        """The ranked rows (the first ``top``, or all) and the base case, for JSON."""
        rows = self.ranked(top=top).replace({np.nan: None})
        return {**self.meta, "contingencies": rows.to_dict(orient="records")}


#: memory for the block of unit-transfer angles the N-1 streams ((reduced
#: buses + 1) x columns x 8 bytes; assumption: 1.25 GB, well within the 8 GB of issue 23's
#: case_ACTIVSg70k run); wider blocks pass over the sparse factors fewer times (1.6 x
#: faster at 2,048 columns than at 512 on case_ACTIVSg25k, measured on a busy machine)
STREAM_BLOCK_BYTES = 1.25e9


def stream_block(n_reduced: int, lo: int = 512, hi: int = 2048) -> int:
    """Columns per block of the streamed N-1: as many as ``STREAM_BLOCK_BYTES`` holds
    for ``n_reduced`` buses, between ``lo`` and ``hi``."""
    return int(min(hi, max(lo, STREAM_BLOCK_BYTES // (8 * (n_reduced + 1)))))


#: a base-case violation counts in a contingency when its loading rises by more than this
#: fraction (OpenLoadFlow's security analysis: flowProportionalThreshold, 10 %)
WORSENED_THRESHOLD = 0.10


def base_violations(model: DCModel, *, names: np.ndarray | None = None
                    ) -> dict[str, Any]:
    """The branches above ``rate_a_mva`` in the study's base case (no outage), DC:
    ``{"count", "max_loading_pct", "list": [{branch, name, flow_mw, rate_mva,
    loading_pct}, ...]}`` (list by loading, highest first)."""
    flow = np.abs(model.f0_pu) * model.base_mva
    rate = model.rate_mva
    rated = rate > 0
    loading = np.where(rated, flow / np.where(rated, rate, 1.0), 0.0)
    over = np.flatnonzero(rated & model.live & (loading > 1.0))
    over = over[np.argsort(-loading[over], kind="stable")]
    nm = np.asarray(model.grid.branch["name"], dtype=object) if names is None else names
    return {"count": int(over.size),
            "max_loading_pct": round(float(100.0 * loading.max(initial=0.0)), 4),
            "list": [{"branch": int(b), "name": str(nm[b]), "flow_mw": round(float(flow[b]), 4),
                      "rate_mva": float(rate[b]),
                      "loading_pct": round(float(100.0 * loading[b]), 4)} for b in over]}


def _violation_limits(model: DCModel, threshold: float) -> np.ndarray:
    """Per branch: 0 where the base case is within the rating (any loading above 1 after
    an outage is a new violation), else the loading above which its base-case violation
    counts as worsened: base loading x (1 + threshold)."""
    rate = model.rate_mva
    rated = rate > 0
    loading = np.where(rated, np.abs(model.f0_pu) * model.base_mva
                       / np.where(rated, rate, 1.0), 0.0)
    return np.where(rated & model.live & (loading > 1.0), loading * (1.0 + threshold), 0.0)


def _dc_block_stats(model: DCModel, plain: np.ndarray, q0_pu: np.ndarray, block: int,
                    dp_pu: np.ndarray | None = None, lim: np.ndarray | None = None
                    ) -> tuple[np.ndarray, ...]:
    """(max loading, worst branch, overload count, estimated MVA loading, new violations,
    worsened violations, worst loading they cause) per outage, from LODF columns computed block by block (memory:
    block x n_branch floats). ``dp_pu``: AC minus DC base-case active flow, added to the
    DC post-outage flow in the apparent-power estimate; ``lim``: see
    :func:`_violation_limits` (default: no base-case violation)."""
    inv = np.where(model.rate_mva > 0, model.base_mva / np.where(model.rate_mva > 0,
                                                                  model.rate_mva, 1.0), 0.0)
    q2 = q0_pu ** 2
    f0 = model.f0_pu
    dp = np.zeros(model.n_branch) if dp_pu is None else dp_pu
    lim = np.zeros(model.n_branch) if lim is None else lim
    n = plain.size
    worst = np.zeros(n)
    arg = np.zeros(n, dtype=np.int64)
    count = np.zeros(n, dtype=np.int64)
    est = np.zeros(n)
    new = np.zeros(n, dtype=np.int64)
    worse = np.zeros(n, dtype=np.int64)
    caused = np.zeros(n)
    if n:  # outages in the order of their first non-zero row in the forward solve, so
        rr = model.solver_rows()[1]  # that each block skips its leading zero rows
        first = np.minimum(np.where(rr[model.f_bus[plain]] >= 0, rr[model.f_bus[plain]], n),
                           np.where(rr[model.t_bus[plain]] >= 0, rr[model.t_bus[plain]], n))
        order = np.argsort(first, kind="stable")
    buf = np.empty((model.keep.size + 1, min(n, block)))
    for lo in range(0, n, block):
        idx = order[lo:lo + block]
        c = plain[idx]
        theta, row = model.unit_transfer_angles(
            c, buf if c.size == buf.shape[1] else None)
        (worst[idx], arg[idx], count[idx], est[idx], new[idx], worse[idx],
         caused[idx]) = kernels.n1_block_stats(theta, row, c, model.f_bus, model.t_bus,
                                               model.b_pu, f0, inv, q2, dp, lim)
    return worst, arg, count, est, new, worse, caused


def screen_n1(model: DCModel, *, trip_multiple: float = 1.0, cascade: bool | None = None,
              q0_mvar: np.ndarray | None = None, p0_mw: np.ndarray | None = None,
              block: int | None = None, worsened_threshold: float = WORSENED_THRESHOLD) -> N1Result:
    """Full DC N-1 of ``model``'s grid (every in-service branch), with the cascade each
    outage starts when ``cascade`` (None: only when the base case is within its ratings;
    a base case above them would repeat its own cascade in every row). For the
    apparent-power estimate that picks what AC verifies: ``q0_mvar``, the base-case AC
    reactive flow per branch (default 0), and ``p0_mw``, the base-case AC active flow
    (default: the DC flow); the estimate is ``sqrt((p0 + dP_dc)^2 + q0^2) / rate_a``, the
    AC base flow moved by the DC change.

    Base-case violations (branches above rate_a before any outage) are in
    ``meta["base_case"]["violations"]``; per outage ``new_violations`` counts the
    branches above rate_a that were within it in the base case and
    ``worsened_violations`` the base-case violations whose loading rose by more than
    ``worsened_threshold`` (10 %: OpenLoadFlow's security analysis); ``overloads`` keeps
    counting every branch above rate_a.

    ``block``: outages per streamed block (None: :func:`stream_block`); memory is bounded by the block, never branches x branches."""
    t0 = time.perf_counter()
    blk = block if block is not None else stream_block(model.keep.size)
    bblk = block if block is not None else 512  # bridges: 2 x this, as before
    grid = model.grid
    cands = np.flatnonzero(model.live)
    split = model.xor_label[cands] == 0  # bridges: the outage splits an island
    plain, bridges = cands[~split], cands[split]
    q0 = np.zeros(model.n_branch) if q0_mvar is None else np.nan_to_num(q0_mvar) / model.base_mva
    dp = (np.zeros(model.n_branch) if p0_mw is None
          else np.where(model.live, np.nan_to_num(p0_mw) / model.base_mva - model.f0_pu, 0.0))
    lim = _violation_limits(model, worsened_threshold)
    base = base_violations(model)
    n = cands.size
    worst, arg, count, est = (np.zeros(n), np.zeros(n, dtype=np.int64),
                              np.zeros(n, dtype=np.int64), np.zeros(n))
    new, worse = np.zeros(n, dtype=np.int64), np.zeros(n, dtype=np.int64)
    caused = np.zeros(n)
    pos = np.searchsorted(cands, plain)
    worst[pos], arg[pos], count[pos], est[pos], new[pos], worse[pos], caused[pos] = (
        _dc_block_stats(model, plain, q0, blk, dp, lim))
    lost_split = np.zeros(n)
    if bridges.size and model.rule == "headroom":  # closed form: headroom
        bpos = np.searchsorted(cands, bridges)
        (worst[bpos], arg[bpos], count[bpos], est[bpos], lost_split[bpos], new[bpos],
         worse[bpos], caused[bpos]) = bridge_path.bridge_outage_stats(model, bridges, q0, dp,
                                                                      2 * bblk, lim)
    elif bridges.size:
        bpos = np.searchsorted(cands, bridges)
        rate = np.where(model.rate_mva > 0, model.rate_mva, np.inf)
        bv = lim > 0
        for lo in range(0, bridges.size, bblk):
            c = bridges[lo:lo + bblk]
            flows_pu, lost = post_outage(model, [[int(b)] for b in c])
            flows = flows_pu * model.base_mva
            loading = np.abs(flows) / rate
            p = bpos[lo:lo + c.size]
            arg[p] = np.argmax(loading, axis=1)
            worst[p] = loading[np.arange(c.size), arg[p]]
            count[p] = (loading > 1.0).sum(axis=1)
            new[p] = ((loading > 1.0) & ~bv).sum(axis=1)
            worse[p] = (bv & (loading > lim)).sum(axis=1)
            caused[p] = np.where(~bv | (loading > lim), loading, 0.0).max(axis=1)
            moved = np.where(flows != 0.0, flows + dp * model.base_mva, 0.0)
            est[p] = (np.sqrt(moved ** 2 + (q0 * model.base_mva) ** 2) / rate).max(axis=1)
            lost_split[p] = lost
    t_dc = time.perf_counter() - t0
    names = np.asarray(grid.branch["name"], dtype=object)
    table = pd.DataFrame({
        "branch": cands, "name": names[cands], "islands_added": split.astype(np.int64),
        "load_lost_mw": lost_split, "max_loading_pct": 100.0 * worst,
        "worst_branch": names[arg], "overloads": count, "new_violations": new,
        "worsened_violations": worse, "max_caused_loading_pct": 100.0 * caused,
        "est_mva_loading_pct": 100.0 * est,
    })
    run_cascade = base["count"] == 0 if cascade is None else bool(cascade)
    if run_cascade:
        res = run_cascades(model, [[int(b)] for b in cands], trip_multiple=trip_multiple)
        table["cascade_lines_out"] = res.lines_out
        table["cascade_load_lost_mw"] = res.load_lost_mw
    else:
        table["cascade_lines_out"] = 1
        table["cascade_load_lost_mw"] = table["load_lost_mw"]
    table["ac_verified"] = False
    table["ac_max_loading_pct"] = np.nan
    table["ac_overloads"] = pd.array([pd.NA] * n, dtype="Int64")
    table["ac_converged"] = pd.array([pd.NA] * n, dtype="boolean")
    flagged = int(((table["new_violations"] > 0) | (table["worsened_violations"] > 0)).sum())
    meta = {
        "case": grid.name, "mode": "dc", "contingencies": int(n), "outages": int(n),
        "islanding": int(split.sum()), "trip_multiple": trip_multiple,
        "ratings": grid.notes.get("ratings", "as given in the case"),
        "dispatch": grid.notes.get("dispatch", "as given in the case"),
        "participation": model.rule,
        "base_case": {"violations": base, "feasible": base["count"] == 0},
        "worsened_threshold": worsened_threshold,
        "contingencies_with_violations": flagged,
        "cascades_run": run_cascade,
        "dc_seconds": round(t_dc, 4), "seconds": round(time.perf_counter() - t0, 4),
    }
    if "ratings_grandfathered" in grid.notes:
        meta["ratings_grandfathered"] = grid.notes["ratings_grandfathered"]
    return N1Result(table, meta)


def verify_ac(result: N1Result, model: DCModel, *, screen_pct: float = 80.0, top: int = 20,
              progress: Callable[[int, int], None] | None = None) -> N1Result:
    """AC-verify the riskiest contingencies of a DC screening (see module docstring).

    The picked outages are solved in batches by :func:`blackout.study.contingency.ac_verify.verify_outages`
    (a fast-decoupled solve on the base factors for outages that keep the island connected,
    lightsim2grid's C++ contingency analysis on the LSGrid of :func:`run_ac` for the rest,
    our island semantics kept; one full :func:`run_ac` where neither applies): the same
    columns as one full ``run_ac`` per outage. ``meta["ac_fast_decoupled"]`` counts the
    outages the first solved, ``meta["ac_full_run_ac"]`` the full ones;
    ``meta["ac_base_overloads"]`` the branches already above rate_a in the AC base case
    (they are in every contingency's ``ac_overloads``: with ratings sized on DC flows the
    reactive flow alone can overload a branch before any outage);
    ``ac_new_violations``, ``ac_worsened_violations`` and ``ac_max_caused_loading_pct``
    count, against the AC base case, only what each outage causes (as the DC columns)."""
    t0 = time.perf_counter()
    grid = model.grid
    tab = result.table.copy()
    pick = (tab["est_mva_loading_pct"] >= screen_pct) | (tab["islands_added"] > 0)
    pick |= tab.index.isin(result.ranked(top=top).index)
    rows = np.flatnonzero(pick.to_numpy())
    # batched AC (study/contingency/ac_verify.py): same answer as one full run_ac per outage
    ac = verify_outages(grid, tab["branch"].to_numpy()[rows].astype(np.int64),
                        progress=progress, worsened_threshold=float(
                            result.meta.get("worsened_threshold", WORSENED_THRESHOLD)))
    idx = tab.index[rows]
    tab.loc[idx, "ac_verified"] = True
    tab.loc[idx, "ac_max_loading_pct"] = ac.max_loading_pct
    tab.loc[idx, "ac_overloads"] = ac.overloads
    tab.loc[idx, "ac_converged"] = ac.converged
    # against the AC base case: what the outage causes (new, or worsened by the threshold)
    tab["ac_new_violations"] = pd.array([pd.NA] * len(tab), dtype="Int64")
    tab["ac_worsened_violations"] = pd.array([pd.NA] * len(tab), dtype="Int64")
    tab["ac_max_caused_loading_pct"] = np.nan
    tab.loc[idx, "ac_new_violations"] = ac.new_violations
    tab.loc[idx, "ac_worsened_violations"] = ac.worsened_violations
    tab.loc[idx, "ac_max_caused_loading_pct"] = ac.max_caused_loading_pct
    meta = {**result.meta, "mode": "ac", "ac_screen_pct": screen_pct, "ac_top": top,
            "ac_verified": int(pick.sum()), "ac_full_run_ac": int(ac.full_run_ac.sum()),
            "ac_fast_decoupled": int(ac.fast_decoupled.sum()),
            "ac_base_overloads": ac.base_overloads,
            "base_case": {**result.meta.get("base_case", {}),
                          "ac_violations": {"count": int(ac.base_overloads)}},
            "ac_seconds": round(time.perf_counter() - t0, 4)}
    return N1Result(tab, meta)


def base_ac_pq(model: DCModel) -> tuple[np.ndarray, np.ndarray]:
    """One base-case AC power flow: per branch the active flow at the from end (MW; the DC
    flow where not solved) and the reactive flow at the larger end (Mvar; 0 where not
    solved), the inputs ``p0_mw`` / ``q0_mvar`` of :func:`screen_n1`'s MVA estimate."""
    p, q, _ = base_ac_flows(model)
    return p, q


def base_ac_flows(model: DCModel) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """:func:`base_ac_pq` and the AC base case's loading per branch (% of rate_a; 0 where
    unrated or not solved), from the same power flow."""
    res = run_ac(model.grid)
    p = np.asarray(res.branch["p_from_mw"], dtype=float)
    p = np.where(np.isfinite(p), p, model.f0_pu * model.base_mva)
    q = np.maximum(np.abs(np.nan_to_num(np.asarray(res.branch["q_from_mvar"], dtype=float))),
                   np.abs(np.nan_to_num(np.asarray(res.branch["q_to_mvar"], dtype=float))))
    loading = np.nan_to_num(np.asarray(res.branch["loading_percent"], dtype=float))
    return p, q, loading


def base_q_mvar(model: DCModel) -> np.ndarray:
    """Base-case AC reactive flow per branch, larger end (Mvar; 0 where not solved)."""
    return base_ac_pq(model)[1]
