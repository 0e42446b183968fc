"""Study speed (issue 7): full DC N-1, DC cascades/s, AC-verified N-1. Prints; not a test.

Every part runs in its own process (so its peak RSS is its own), one BLAS thread.
What each timed call includes is written next to each figure in the result notes.

Run: ``python benchmarks/bench_study.py [n1|cascades|ac|n1cli]``
"""

from __future__ import annotations

import json
import logging
import os
import resource
import statistics
import subprocess
import sys
import time
import warnings
from multiprocessing import get_context
from pathlib import Path
from typing import Any

import numpy as np
from common import write_result

HERE = Path(__file__).parent
ENV = {**os.environ, "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}


def _rated(case: str, basis: str = "dc", k: float = 1.3):  # type: ignore[no-untyped-def]
    from blackout import load_case
    from blackout.grid.ratings import derive_ratings
    from blackout.study.fastdc.model import balanced_grid

    return derive_ratings(balanced_grid(load_case(case)), k=k, floor_mva=31.7,
                          override_given=True, basis=basis)


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


# --------------------------------------------------------------------------- parts
def part_n1() -> dict[str, Any]:
    """Full DC N-1 of case9241pegase: ours, lightsim2grid ContingencyAnalysisCPP (DC), pandapower."""
    from blackout.study.contingency.n1 import screen_n1
    from blackout.study.fastdc.model import DCModel

    warnings.simplefilter("ignore")
    logging.getLogger("pandapower").setLevel(logging.ERROR)
    grid = _rated("case9241pegase")
    screen_n1(DCModel.build(_rated("case118")), cascade=False)  # compile the kernels
    t0 = time.perf_counter()
    model = DCModel.build(grid)
    t_build = time.perf_counter() - t0
    times = []
    for _ in range(3):
        t0 = time.perf_counter()
        res = screen_n1(model, cascade=False)
        times.append(time.perf_counter() - t0)
    ours = statistics.median(times)
    peak = _peak_mb()
    n = int(res.meta["contingencies"])
    # lightsim2grid ContingencyAnalysisCPP, DC, on a sample of branch outages (extrapolated)
    import pandapower as pp
    import pandapower.networks as pn
    from lightsim2grid.algorithm import AlgorithmType
    from lightsim2grid.contingencyAnalysis import ContingencyAnalysisCPP
    from lightsim2grid.network import init_from_pandapower

    net = pn.case9241pegase()
    ls = init_from_pandapower(net)
    sample_ls = 2000
    ca = ContingencyAnalysisCPP(ls)
    ca.change_algorithm(AlgorithmType.DC_KLU)
    ca.add_multiple_n1(list(range(sample_ls)))
    v0 = np.ones(len(net.bus), dtype=complex)
    t0 = time.perf_counter()
    ca.compute(v0, 10, 1e-8)
    ca.compute_flows()
    t_ls_sample = time.perf_counter() - t0
    t_ls = t_ls_sample / sample_ls * n
    del ca
    # pandapower: one rundcpp per outage, a small sample (extrapolated)
    sample_pp = 10
    pp.rundcpp(net)
    t0 = time.perf_counter()
    for i in range(sample_pp):
        net.line.at[i, "in_service"] = False
        pp.rundcpp(net)
        net.line.at[i, "in_service"] = True
    t_pp = (time.perf_counter() - t0) / sample_pp * n
    return {"rows": [{
        "case": "case9241pegase", "outages": n, "islanding": int(res.meta["islanding"]),
        "ours_s": round(ours, 2), "ours_model_build_s": round(t_build, 2),
        "ours_peak_rss_mb": round(peak), "lightsim2grid_dc_s_extrapolated": round(t_ls, 1),
        "pandapower_rundcpp_loop_s_extrapolated": round(t_pp, 1),
        "lightsim2grid_over_ours": round(t_ls / ours, 1),
        "pandapower_over_ours": round(t_pp / ours, 1),
    }], "notes": [
        f"ours = screen_n1(model, cascade=False): every in-service branch outage, all "
        f"post-outage flows (LODF from unit-transfer angles solved in blocks of 512, islanding "
        f"outages re-balanced by participation factors) reduced to max loading, worst branch, "
        f"overload count and estimated MVA loading per outage; median of 3 after a warm-up; "
        f"the factorisation (DCModel.build, {t_build:.2f} s) is not included. Peak RSS is the "
        "whole benchmark process (Python, pandapower, the case) at the end of our runs.",
        f"lightsim2grid: ContingencyAnalysisCPP with AlgorithmType.DC_KLU, compute + compute_flows "
        f"on the first {sample_ls} line outages ({t_ls_sample:.2f} s), scaled linearly to "
        f"{n} outages (extrapolated).",
        f"pandapower: rundcpp with one line out, {sample_pp} outages timed ("
        f"{t_pp / n * sample_pp:.2f} s), scaled to {n} (extrapolated).",
    ], "targets": [{
        "target": "issue 7: full DC N-1 of case9241pegase <= 1.5 s wall",
        "measured": f"{ours:.2f} s", "met": bool(ours <= 1.5)}, {
        "target": "issue 7: full DC N-1 of case9241pegase <= 1 GB peak memory",
        "measured": f"{peak:.0f} MB peak RSS", "met": bool(peak <= 1024)}]}


def part_n1cli() -> dict[str, Any]:
    """``blackout n1 case9241pegase --dc`` as a user runs it (CLI, JSON out, default
    options), beside lightsim2grid's plain DC N-1 of the case in the same run."""
    import tempfile

    warnings.simplefilter("ignore")
    logging.getLogger("pandapower").setLevel(logging.ERROR)
    exe = Path(sys.executable).with_name("blackout")
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "n1.json"
        # warm numba's on-disk cache (a first run after an install compiles the kernels)
        subprocess.run([str(exe), "n1", "case118", "--dc", "--format", "json", "--out",
                        str(out)], capture_output=True, check=True)
        t0 = time.perf_counter()
        done = subprocess.run([str(exe), "n1", "case9241pegase", "--dc", "--format", "json",
                               "--out", str(out)], capture_output=True, text=True, check=True)
        wall = time.perf_counter() - t0
        peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024.0  # max of both
        data = json.loads(out.read_text())
    first = (done.stderr.splitlines() or [""])[0]
    n = int(data["outages"])  # the CLI's "contingencies" is the ranked list
    import pandapower.networks as pn
    from lightsim2grid.algorithm import AlgorithmType
    from lightsim2grid.contingencyAnalysis import ContingencyAnalysisCPP
    from lightsim2grid.network import init_from_pandapower

    net = pn.case9241pegase()
    ls = init_from_pandapower(net)
    ca = ContingencyAnalysisCPP(ls)
    ca.change_algorithm(AlgorithmType.DC_KLU)
    ca.add_multiple_n1(list(range(len(net.line))))
    v0 = np.ones(len(net.bus), dtype=complex)
    t0 = time.perf_counter()
    ca.compute(v0, 10, 1e-8)
    ca.compute_flows()
    t_ls = time.perf_counter() - t0
    n_ls = len(net.line)
    t_ls_all = t_ls / n_ls * n
    base = data["base_case"]["violations"]
    return {"rows": [{
        "case": "case9241pegase", "command": "blackout n1 case9241pegase --dc",
        "outages": n, "base_case_violations": base["count"],
        "contingencies_with_violations": data["contingencies_with_violations"],
        "cascades_run": data["cascades_run"], "ours_wall_s": round(wall, 2),
        "ours_in_screen_s": data["seconds"], "ours_peak_rss_mb": round(peak),
        "lightsim2grid_dc_s": round(t_ls, 2), "lightsim2grid_outages": n_ls,
        "lightsim2grid_dc_s_scaled": round(t_ls_all, 2),
        "ours_over_lightsim2grid": round(wall / t_ls_all, 2),
    }], "notes": [
        "ours = the CLI command as a user runs it, one subprocess, wall clock from start to "
        "exit (Python start, imports, loading the case, DCModel.build, screen_n1 with "
        "new/worsened violations, JSON written); default options: the case's own ratings "
        "and dispatch (imbalance shared by headroom); the base case is above its ratings, "
        "so the cascades are not run (its first line: " + first[:160] + "...). Peak RSS is "
        "the larger child's. A warm-up run on case118 first fills numba's on-disk cache (a "
        "first run after an install compiles the kernels).",
        f"lightsim2grid: ContingencyAnalysisCPP with AlgorithmType.DC_KLU, compute + "
        f"compute_flows of all {n_ls} line outages of pandapower's case9241pegase "
        f"({t_ls:.2f} s, in this process after the CLI run), scaled to {n} branch outages; "
        "flows only (no loading statistics, no islanding rule).",
    ], "targets": [{
        "target": "issue 19: blackout n1 case9241pegase --dc <= 10 s wall",
        "measured": f"{wall:.1f} s", "met": bool(wall <= 10.0)}, {
        "target": "issue 19: blackout n1 case9241pegase --dc <= 1 GB peak memory",
        "measured": f"{peak:.0f} MB peak RSS", "met": bool(peak <= 1024)}]}


def _cascade_model(case: str, own_ratings: bool, k: float):  # type: ignore[no-untyped-def]
    from blackout import load_case
    from blackout.study.fastdc.model import DCModel, balanced_grid

    return DCModel.build(balanced_grid(load_case(case)) if own_ratings else _rated(case, k=k))


def _median_time(fn: Any, repeats: int = 3) -> float:
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def _cascade_worker(args: tuple[str, bool, float, list[list[int]]]) -> float:
    os.environ["NUMBA_NUM_THREADS"] = "1"  # one thread per worker process: 2 processes, 2 cores
    from blackout.study.fastdc.engine import run_cascades

    case, own, k, events = args
    model = _cascade_model(case, own, k)
    run_cascades(model, events[:5])  # warm-up (compiles or loads the cached kernels)
    return _median_time(lambda: run_cascades(model, events))


#: (label, case, sets, k, the case's own ratings, target/s or None, compare with pandapower)
CASCADE_RUNS = (
    ("case118", "case118", 20_000, 1.3, False, 50_000, True),
    ("case2869pegase (2.0 x base flow: the issue's workload)", "case2869pegase", 2_000, 2.0,
     False, 5_000, True),
    ("case2869pegase (1.3 x base flow: the tests' ratings)", "case2869pegase", 400, 1.3,
     False, None, True),
    ("case2869pegase (its own ratings)", "case2869pegase", 400, 1.3, True, None, False),
)


def part_cascades() -> dict[str, Any]:
    """DC cascades/s, islands handled: ours (1 thread, 2 threads, 2 processes) vs the detailed
    engine vs pandapower."""
    import numba
    import pandapower as pp
    import pandapower.networks as pn

    from blackout.cascade import CascadeSettings, simulate
    from blackout.events import Event
    from blackout.study.fastdc.engine import run_cascades

    warnings.simplefilter("ignore")
    logging.getLogger("pandapower").setLevel(logging.ERROR)
    rows: list[dict[str, Any]] = []
    targets: list[dict[str, Any]] = []
    notes: list[str] = []
    threads = numba.get_num_threads()
    t_rundcpp: dict[str, float] = {}
    for label, case, n, k, own, target, compare in CASCADE_RUNS:
        model = _cascade_model(case, own, k)
        rng = np.random.default_rng(2026)
        live = np.flatnonzero(model.live)
        events = [sorted(rng.choice(live, 2, replace=False).tolist()) for _ in range(n)]
        run_cascades(model, events[:5])  # warm-up
        numba.set_num_threads(1)
        t_one = _median_time(lambda: run_cascades(model, events))  # noqa: B023
        numba.set_num_threads(threads)
        t_threads = _median_time(lambda: run_cascades(model, events))  # noqa: B023
        res = run_cascades(model, events)
        half = n // 2
        with get_context("spawn").Pool(2) as pool:
            t0 = time.perf_counter()
            parts = pool.map(_cascade_worker, [(case, own, k, events[:half]),
                                               (case, own, k, events[half:])])
            wall_two = time.perf_counter() - t0
        # throughput of the two workers once warm (their own timed sections, side by side)
        rate_two = n / max(parts)
        islanded = 100 * float(np.mean(res.islands > model.base_islands))
        solves = float(np.mean(res.rounds + 1))
        row: dict[str, Any] = {
            "case": label, "cascades": n, "islanded_pct": round(islanded, 1),
            "mean_rounds": round(float(np.mean(res.rounds)), 2),
            "median_lines_out": float(np.median(res.lines_out)),
            "ours_1thread_per_s": round(n / t_one),
            f"ours_1proc_{threads}threads_per_s": round(n / t_threads),
            "ours_2proc_per_s": round(rate_two),
        }
        if compare:
            sample = 10 if case == "case2869pegase" else 30
            t0 = time.perf_counter()
            for ev in events[:sample]:
                simulate(model.grid, [Event(0.0, "branch", int(b), "trip") for b in ev],
                         settings=CascadeSettings.simple_dc())
            rate_detailed = sample / (time.perf_counter() - t0)
            if case not in t_rundcpp:
                net = getattr(pn, case)()
                pp.rundcpp(net)
                t_rundcpp[case] = _median_time(lambda: pp.rundcpp(net), repeats=10)  # noqa: B023
            rate_pp = 1.0 / (t_rundcpp[case] * solves)
            row.update({"detailed_engine_simple_dc_per_s": round(rate_detailed, 2),
                        "pandapower_rundcpp_loop_per_s_est": round(rate_pp, 2),
                        "ours_2proc_over_pandapower": round(rate_two / rate_pp),
                        "target_per_s": target})
            notes.append(f"{label}: {n:,} random N-2 initiating sets (seed 2026), ratings "
                         f"derive_ratings(balanced_grid(case), k={k}, floor_mva=31.7, "
                         f"override_given=True); {islanded:.0f} % of the cascades island, "
                         f"{solves:.1f} DC solves per cascade (rounds + 1). Rates: median of "
                         f"3 timed run_cascades calls after a warm-up, one process with numba "
                         f"at 1 and at {threads} threads; 2 processes: the sets split in two "
                         "halves, each worker (numba at one thread) builds its own DCModel and "
                         "times its half the same way, side by side (pool wall including "
                         f"start-up and builds: {wall_two:.1f} s).")
            if target is not None:
                targets.append({
                    "target": f"issue 7: >= {target:,} DC cascades/s on {case}, 2 cores",
                    "measured": f"{rate_two:,.0f}/s (2 processes); {n / t_threads:,.0f}/s "
                                f"(1 process, {threads} threads); {rate_two / rate_pp:,.0f}x "
                                "the pandapower loop of the same run (the issue's equivalent: "
                                f"{ISSUE_RATIO[case]:,}x); ratings {k} x base flow "
                                f"({islanded:.0f} % of cascades island, {solves:.1f} DC solves "
                                "per cascade)",
                    "met": bool(rate_two >= target)})
        else:
            rows_over = int(np.sum(np.abs(model.f0_pu * model.base_mva)
                                   > np.where(model.rate_mva > 0, model.rate_mva, np.inf)))
            notes.append(f"{label} (an extra row, not the issue's set-up): the case's own "
                         f"rate_a_mva ({100 * float(np.mean(model.rate_mva > 0)):.0f} % of "
                         "branches rated, the rest never trip) on balanced_grid(case); "
                         f"{rows_over} branches are already above their rating in the balanced "
                         "base case, so every set cascades. Same timing as above.")
        rows.append(row)
    harsh = next(r for r in rows if r["case"].startswith("case2869pegase (1.3"))
    for t in targets:
        if "case2869pegase" in t["target"]:
            t["measured"] += (f"; with the tests' 1.3 x ratings ({harsh['islanded_pct']:.0f} % "
                              f"island, {harsh['mean_rounds'] + 1:.1f} solves): "
                              f"{harsh['ours_2proc_per_s']:,}/s")
    implied = 1.0 / (ISSUE_PP_LOOP_PER_S * t_rundcpp["case2869pegase"])
    notes.append(
        "Which workload the case2869pegase target is measured on: the issue sized it on its "
        "own set of random cascades, of which 'about 60 % split the grid', run by a "
        f"pandapower loop at {ISSUE_PP_LOOP_PER_S}/s; at this run's rundcpp time "
        f"({1000 * t_rundcpp['case2869pegase']:.1f} ms) that is ~{implied:.1f} DC solves per "
        "cascade. Ratings of 2.0 x base flow (floor 31.7 MVA) give such a workload (see the "
        "row: islanded share and rounds + 1); the tests' 1.3 x ratings give cascades ~3x "
        "longer and nearly all islanding (its row), on which the rate is reported next to "
        "the target but the issue's 400x ratio was not sized. 2,000 sets for the 2.0 x row: "
        "its cascade sizes are heavy-tailed (most stop at once, ~10 % run to hundreds of "
        "branches and take most of the time), so 400 sets would make the rate noisy.")
    notes.append("ours: run_cascades on the compiled loop (blackout.study.fastdc._compiled.loop): a "
                 "Woodbury update of the base flows while <= 32 outages have independent "
                 "cycle-space labels; an outage that closes a cut splits off the smaller side "
                 "(a search from both ends of the branch), the islands are re-balanced and "
                 "the base-topology flows of the new injections solved on the base factors "
                 "(blackout.study.fastdc._compiled.split); beyond that, per round islands (the same "
                 "search, or a spanning-forest pass and union-find over the chords), "
                 "the balancing rule where the islands changed, and an LDL^T of the round's "
                 "own B on the base pattern of L, factorised for 16 scenarios at once "
                 "(scenarios innermost; 32 in flight per thread, those past the Woodbury path "
                 "wait for 16 to run together). detailed engine: blackout.cascade.simulate "
                 "with CascadeSettings.simple_dc() (the same rule and results), on the first "
                 "30 (case118) / 10 (case2869pegase) sets. pandapower loop (estimate): the "
                 "median time of one rundcpp of the base case times the mean number of DC "
                 "solves per cascade (rounds + 1); island balancing is not included, so the "
                 "real loop is slower.")
    return {"rows": rows, "notes": notes, "targets": targets}


def _ac_n1(basis: str) -> dict[str, Any]:
    """One AC-verified N-1 of case9241pegase rated on ``basis`` ('dc' or 'ac' flow)."""
    from blackout.study.contingency.n1 import base_ac_pq, screen_n1, verify_ac
    from blackout.study.fastdc.model import DCModel

    grid = _rated("case9241pegase", basis)
    t0 = time.perf_counter()
    model = DCModel.build(grid)
    p0, q0 = base_ac_pq(model)
    dc = screen_n1(model, cascade=False, q0_mvar=q0, p0_mw=p0)
    t_dc = time.perf_counter() - t0
    t1 = time.perf_counter()
    ac = verify_ac(dc, model)
    t_ac = time.perf_counter() - t1
    verified = int(ac.meta["ac_verified"])
    tab = ac.table[ac.table["ac_verified"]]
    violating = int(((tab["ac_overloads"] > 0) | ~tab["ac_converged"].astype(bool)).sum())
    return {
        "case": "case9241pegase" if basis == "dc" else "case9241pegase (ratings on AC apparent power)",
        "contingencies": int(dc.meta["contingencies"]), "ac_verified": verified,
        "verified_with_ac_violation": violating, "dc_part_s": round(t_dc, 2),
        "ac_part_s": round(t_ac, 1), "total_s": round(t_dc + t_ac, 1),
        "ac_s_per_contingency": round(t_ac / max(verified, 1), 4),
        "ac_fast_decoupled": int(ac.meta["ac_fast_decoupled"]),
        "ac_full_run_ac": int(ac.meta.get("ac_full_run_ac", 0)),
        "base_case_ac_overloads": int(ac.meta["ac_base_overloads"]),
    }


def part_ac() -> dict[str, Any]:
    """AC-verified N-1 of case9241pegase: DC screening, then verify_ac; with the issue's
    DC-sized ratings and, as a second row, ratings sized on the AC apparent power."""
    row, row_ac = _ac_n1("dc"), _ac_n1("ac")
    verified, total, base_over = row["ac_verified"], row["total_s"], row["base_case_ac_overloads"]
    return {"rows": [row, row_ac], "notes": [
        "total = DCModel.build + base-case AC (reactive flows for the MVA estimate) + DC "
        "screen_n1(cascade=False) + verify_ac(screen_pct=80, top=20) (every islanding outage, "
        "every estimated loading >= 80 %, the top 20); one run, one process.",
        "verify_ac solves the picked outages in batches (study/contingency/ac_verify.py): those that keep "
        "the main island connected (ac_fast_decoupled of them) by a fast-decoupled power flow "
        "(XB) on the base case's B'/B'' factors with each outage as a rank-2 Woodbury "
        "correction (study/contingency/fdpf.py: no refactorisation per outage, 16 outages per thread "
        "in flight stored outages-innermost, 2 threads; Newton-Raphson's equations and "
        "tolerance, 1e-8 pu; more than 20 iterations: handed on); bridges and handed-on ones "
        "with lightsim2grid's ContingencyAnalysisCPP on the LSGrid run_ac uses (symbolic "
        "factorisation kept, Newton-Raphson from the base solution with chord iterations, "
        "all cores; parts cut off dark, or solved alone as their own island when they hold "
        "generation); ac_full_run_ac outages (not converged there) get one full run_ac each. "
        "Flows from the voltages with our Yf/Yt. Same columns as one run_ac per outage "
        "(tests). Before: all through ContingencyAnalysisCPP, 106.8 s on the slower machine "
        "of 2026-12-02 and 80.5 s on this one the same day as this run (ac part 71.2 s); "
        "before that one full run_ac per outage, 814 s.",
        f"{verified} of {row['contingencies']} contingencies were picked for AC. With "
        "these synthetic ratings (1.3 x base DC flow, floor 31.7 MVA) the AC base case itself "
        f"has {base_over} branches above rate_a (reactive flow on top of the DC-sized "
        "rating), so every contingency has AC violations and a screen that misses none must "
        "verify them all; with ratings sized on the AC apparent power (second row) most "
        "outages still overload some branch in AC, so a selection rule cannot halve the work "
        "either. What bounds the time now: the fast-decoupled iterations (~11 per outage on "
        "this balanced grid, each two Ybus products and two triangular solves per outage, "
        "memory-bound), then the ~1,700 bridges and handed-on outages through lightsim2grid "
        "(~4 ms each) and the few full run_ac of outages nothing converges on.",
        "Tried and dropped: chord iterations on the base case's Jacobian factorisation with "
        "the outage as a rank-4 Woodbury correction (no refactorisation per outage; numba "
        "multi-right-hand-side solves): same solutions (1e-10 pu) but slower on "
        "case9241pegase (7.9 vs 6.4-7.0 ms per outage on 2 threads, 1,024 outages, measured "
        "side by side; 5.7 iterations on average): the ~6 triangular solves per outage "
        "(memory-bound, ~0.45 ms each) plus the 4 for the correction cost more than KLU's "
        "refactorisation saves. Nor do looser tolerances help lightsim2grid much (1e-6 pu: "
        "5.5 instead of 6.9 iterations, same time): its refactorisation per outage dominates.",
        f"Second row (not the issue's set-up): the same case rated 1.3 x max(base AC |S| at "
        f"the larger end, 31.7 MVA) (derive_ratings(basis='ac'), --derive-ratings 1.3,31.7,ac),"
        f" so the AC base case overloads {row_ac['base_case_ac_overloads']} branches; the "
        f"default rule (estimate >= 80 %) then picks {row_ac['ac_verified']} of "
        f"{row_ac['contingencies']} outages, of which {row_ac['verified_with_ac_violation']} "
        "do overload some branch in AC (or do not converge).",
    ], "targets": [{"target": "issue 7: AC-verified N-1 of case9241pegase <= 60 s",
                    "measured": f"{total:.1f} s ({verified} AC power flows)",
                    "met": bool(total <= 60)}]}


N1_BOUND = 'What bounds it: all 16049 x 16049 LODF entries are needed (257 M): 14,384 non-islanding outages from multi-right-hand-side sparse triangular solves of the one LU (numba, 2 threads, blocks of 512, leading zero rows skipped) and one fused statistics pass, without forming LODF columns; the 1,665 islanding outages from one spanning forest rooted at each island slack (the split-off part is a preorder range, re-balanced from its sums, one solve per outage block, ~0.15 s in all; before: a connected-components search and re-balance each, ~4 s). Before this work: 112 s and 1.14 GB.'
#: the issue's targets as multiples of the pandapower loop (machine-independent)
ISSUE_RATIO = {"case118": 1900, "case2869pegase": 400}
#: the issue's pandapower rundcpp loop on case2869pegase (cascades/s, its machine)
ISSUE_PP_LOOP_PER_S = 12.8
CASCADE_BOUND = (
    "What bounds it (benchmarks/profile_cascades.py prints the loop's time by phase, one "
    "thread): on the issue's workload (case2869pegase, 2.0 x ratings) most cascades stop "
    "within a round or two on the Woodbury path, and ~10 % run to hundreds of branches and "
    "take about three quarters of the time; the phases on 2026-12-03 after the forest pass "
    "below: Woodbury rounds ~40 % (within them, from a one-off instrumented copy not "
    "committed: the update ~17 % of all, the base-factor solve after a split ~11 %, its "
    "re-balance ~7 %, the check ~4 %), "
    "islands and re-balance on the sparse path ~16 %, the batched LDL^T ~15 %, assembling B "
    "~11 % (+3 % interleaving), flows and check ~9 %, starting a scenario ~6 %. Each sparse "
    "round is a handful of linear "
    "passes over the whole grid per scenario, and with the tests' 1.3 x ratings nearly "
    "every cascade is of that kind (median ~2,100 of 4,582 branches out, ~11.5 rounds). "
    "What this work changed: islands split inside the Woodbury path (a search from the "
    "cut, the re-balance, one solve on the base factors) instead of leaving it at the first "
    "split, only on grids of >= 1,000 buses (on case118 and case300 the batched sparse round "
    "is cheaper, measured); sparse rounds wait until 16 scenarios can run them together (32 "
    "in flight per thread; before, a round ran with the 1-3 scenarios then on that path); "
    "past the Woodbury path a round with <= 16 trips finds its islands by the same search "
    "instead of union-find; a side without load, generation or shunt goes dark without a "
    "re-balance. Later the same day: islands past the search by one pass down a spanning "
    "forest of the live branches (each bus takes its parent's subtree unless the branch "
    "between them is out) and Rem's union-find over the ~1,700 branches off the forest, "
    "instead of union-find over all 4,582 (profile_cascades.py at 2.0 x: islands and "
    "re-balance 71 -> 45 us per cascade; a micro-benchmark that reruns one slot's "
    "union-find shows half the loop's real cost, the branch predictor learning the "
    "repeated input); each sparse-round "
    "scenario assembled into its own contiguous row, then interleaved into the batch (was "
    "one strided write per entry). Together, back to back on one thread against the loop "
    "before them: case2869pegase +4 % at 2.0 x and +11 % at 1.3 x, case118 +8 %. Tried "
    "and dropped then: prepare all of a batch before assembling any (same), SEARCH_TRIPS 4 "
    "(10 % slower at 2.0 x), 64 (same) or unlimited (25 % slower at 1.3 x), a breadth-first "
    "labelling "
    "instead of union-find (2x slower), branch-free selects in union-find and assembly, and "
    "no zero test in the base-factor solve (same). Tried and dropped before: more Woodbury outages (48, 64: no gain), 8 or 32 "
    "scenarios per batch and 16-96 in flight (16/32 best), 32-bit state arrays (slower), "
    "searching every trip of every round (a compiled call per trip that passes the slot's "
    "and the grid's arrays cost 30 % at 1.3 x; islands change in ~90 % of sparse rounds). "
    "Cost of this work on case118 (where splits stay on the sparse path): first ~10 % per "
    "thread against the loop before it (~29,000 against ~32,000 cascades/s on one thread, "
    "back to back); most of it was the passes over the 32 slots taking each slot's tuple "
    "out of the list (which touches every array in it): each slot's path is now kept in a "
    "small array, ~31,000 against ~32,600. A compiled call that is not inlined costs "
    "~0.3-0.7 us here (a per-outage call in the scenario start took it from ~0.35 to "
    "~1.1 us), which is why the per-outage steps are written out in the loop. "
    "Earlier attempts (islands kept as segments with only the touched ones solved; batch "
    "columns updated in place): slower, measured on 2026-12-02. "
    "Before this work: 951/s (case118) and 60/s (case2869pegase) on 2 processes (a "
    "connected-components search, a re-balance and a Woodbury pseudo-inverse or a fresh "
    "sparse LU per scenario and round, in numpy); before that 200/s and 4.6/s, one process; "
    "the batched loop as it was before this work gave 1,058/s with the 1.3 x ratings (this "
    "run's third row; measured earlier on 2026-12-03).")

PARTS = {"n1": part_n1, "cascades": part_cascades, "ac": part_ac, "n1cli": part_n1cli}


def main() -> None:
    if len(sys.argv) > 2 and sys.argv[1] == "--part":
        out = PARTS[sys.argv[2]]()
        Path(sys.argv[3]).write_text(json.dumps(out))
        return
    which = sys.argv[1:] or list(PARTS)
    rows: list[dict[str, Any]] = []
    for name in which:
        tmp = HERE / "results" / f".study_{name}.json"
        print(f"-- {name}", flush=True)
        done = subprocess.run([sys.executable, __file__, "--part", name, str(tmp)], env=ENV,
                              check=False, cwd=HERE)
        if done.returncode != 0 or not tmp.exists():
            print(f"part {name} failed (exit {done.returncode}); its result is not updated")
            continue
        data = json.loads(tmp.read_text())
        tmp.unlink()
        data["notes"] += {"n1": [N1_BOUND], "cascades": [CASCADE_BOUND]}.get(name, [])
        print(json.dumps(data, indent=1), flush=True)
        write_result(f"study_{name}", {"n1": "Full DC N-1 (bench_study.py)",
                                       "n1cli": "blackout n1 case9241pegase --dc, as run "
                                                "(bench_study.py)",
                                       "cascades": "DC cascades per second (bench_study.py)",
                                       "ac": "AC-verified N-1 (bench_study.py)"}[name],
                     data["rows"], data["notes"], targets=data["targets"])
        rows.extend(data["rows"])


if __name__ == "__main__":
    main()
