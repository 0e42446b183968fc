"""Study commands: ``n1`` (N-1 screening), ``nk`` (N-k and malignant sets), ``sweep``."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Any

import numpy as np
import pandas as pd
import typer
from rich.table import Table as RichTable

from blackout.cases import load_case
from blackout.cli.app import Format, app, console, emit, guarded
from blackout.cli.progress import progress_bar
from blackout.errors import BlackoutError
from blackout.grid.model import Grid

FormatOpt = Annotated[Format | None, typer.Option("--format", "-f", help="table or json")]
OutOpt = Annotated[Path | None, typer.Option("--out", "-o", help="write the output to FILE")]
RatingsOpt = Annotated[str, typer.Option(
    "--derive-ratings", help="rate unrated branches as K*max(base flow, FLOOR): "
    "K[,FLOOR_MVA[,dc|ac]] (the balanced base case's DC |P|, default, or AC |S|)")]
TripOpt = Annotated[float, typer.Option(
    "--trip-multiple", help="a branch trips when |P| > this x rate_a_mva")]


def study_grid(case: str, ratings: str) -> Grid:
    """The case re-dispatched by the balancing rule, unrated branches rated by the rule."""
    from blackout.grid.ratings import derive_ratings
    from blackout.study.dcmodel import balanced_grid

    parts = [p.strip() for p in ratings.split(",")]
    try:
        k = float(parts[0])
        floor = float(parts[1]) if len(parts) > 1 else 50.0
    except ValueError:
        raise BlackoutError(f"--derive-ratings expects K[,FLOOR_MVA[,dc|ac]], got {ratings!r}"
                            ) from None
    basis = parts[2].lower() if len(parts) > 2 else "dc"
    if k <= 0 or floor < 0 or len(parts) > 3 or basis not in ("dc", "ac"):
        raise BlackoutError("--derive-ratings: K must be > 0, FLOOR_MVA >= 0 and the basis "
                            f"dc or ac, got {ratings!r}")
    return derive_ratings(balanced_grid(load_case(case)), k=k, floor_mva=floor, basis=basis)


def _table(title: str, frame: pd.DataFrame, meta: dict[str, Any]) -> None:
    t = RichTable(title=title)
    for col in frame.columns:
        t.add_column(str(col), overflow="fold")
    for row in frame.itertuples(index=False):
        t.add_row(*(f"{v:.1f}" if isinstance(v, float) else str(v) for v in row))
    console.print(t)
    for k, v in meta.items():
        console.print(f"[dim]{k}: {v}[/dim]")


@app.command("n1")
@guarded
def n1_cmd(
    case: Annotated[str, typer.Argument(help="built-in case name or case file")],
    ac: Annotated[bool, typer.Option("--ac/--dc", help="verify the riskiest in AC")] = False,
    top: Annotated[int, typer.Option("--top", help="rows to show (and AC-verify at least)")] = 20,
    by: Annotated[str, typer.Option("--by", help="rank by max_loading_pct or "
                                     "cascade_load_lost_mw")] = "max_loading_pct",
    screen_pct: Annotated[float, typer.Option(
        "--screen-pct", help="AC-verify every outage whose estimated MVA loading reaches this")
    ] = 80.0,
    ratings: RatingsOpt = "1.5,50",
    trip_multiple: TripOpt = 1.0,
    fmt: FormatOpt = None,
    out: OutOpt = None,
) -> None:
    """Full N-1 screening: every branch outage, ranked by worst loading and cascade size."""
    from blackout.study.contingency import base_ac_pq, screen_n1, verify_ac
    from blackout.study.dcmodel import DCModel

    if by not in ("max_loading_pct", "cascade_load_lost_mw", "cascade_lines_out"):
        raise BlackoutError(f"--by: expected max_loading_pct, cascade_load_lost_mw or "
                            f"cascade_lines_out, got {by!r}")
    if top < 0:
        raise BlackoutError("--top must be >= 0")
    grid = study_grid(case, ratings)
    model = DCModel.build(grid)
    p0, q0 = base_ac_pq(model) if ac else (None, None)
    res = screen_n1(model, trip_multiple=trip_multiple, q0_mvar=q0, p0_mw=p0)
    if ac:
        with progress_bar(sys.stderr.isatty(), "AC N-1", "outages") as progress:
            res = verify_ac(res, model, screen_pct=screen_pct, top=top, progress=progress)
    rows = res.ranked(by=by, top=top)
    data = {**res.meta, "ranked_by": by,
            "contingencies": rows.replace({np.nan: None}).to_dict(orient="records")}
    cols = ["name", "max_loading_pct", "worst_branch", "overloads", "islands_added",
            "cascade_lines_out", "cascade_load_lost_mw"]
    if ac:
        cols += ["ac_verified", "ac_max_loading_pct", "ac_overloads"]
    emit(data, lambda: _table(f"N-1 of {grid.name} (top {top} by {by})", rows[cols],
                              res.meta), fmt, out)


@app.command("nk")
@guarded
def nk_cmd(
    case: Annotated[str, typer.Argument(help="built-in case name or case file")],
    k: Annotated[int, typer.Option("-k", "--k", help="branches per outage set")] = 2,
    sample: Annotated[int, typer.Option("--sample", help="random distinct sets to run")] = 1000,
    exhaustive: Annotated[bool, typer.Option(
        "--exhaustive", help="run every N-k set (refused when there are too many)")] = False,
    malignant: Annotated[bool, typer.Option(
        "--malignant", help="also search small malignant sets (random chemistry)")] = False,
    trials: Annotated[int, typer.Option("--trials", help="random-chemistry trials")] = 20,
    threshold: Annotated[float | None, typer.Option(
        "--threshold-mw", help="malignant: demand lost at least this (MW; default 5% of "
        "demand)")] = None,
    multi_only: Annotated[bool, typer.Option(
        "--multi-only", help="malignant: leave out branches malignant on their own")] = False,
    seed: Annotated[int, typer.Option("--seed", help="seed of the sampling and search")] = 0,
    top: Annotated[int, typer.Option("--top", help="sets and critical lines to show")] = 20,
    ratings: RatingsOpt = "1.5,50",
    trip_multiple: TripOpt = 1.0,
    fmt: FormatOpt = None,
    out: OutOpt = None,
) -> None:
    """N-k screening: random or exhaustive k-branch outages, their cascades and risk."""
    from blackout.study.dcmodel import DCModel
    from blackout.study.nk import random_chemistry, screen_nk
    from blackout.study.risk import risk_metrics

    if k < 1:
        raise BlackoutError(f"-k must be >= 1, got {k}")
    if not exhaustive and sample <= 0:
        raise BlackoutError(f"--sample must be > 0, got {sample}")
    if top < 0:
        raise BlackoutError("--top must be >= 0")
    if trials < 1:
        raise BlackoutError("--trials must be >= 1")
    if not trip_multiple > 0:
        raise BlackoutError("--trip-multiple must be > 0")
    grid = study_grid(case, ratings)
    model = DCModel.build(grid)
    res = screen_nk(model, k, sample=None if exhaustive else sample, seed=seed,
                    trip_multiple=trip_multiple)
    tab = res.table
    names = [str(n) for n in grid.branch["name"]]
    risk = risk_metrics(tab["load_lost_mw"].to_numpy(), tab["lines_out"].to_numpy(),
                        initiating=tab["set"].tolist(), tripped=tab["tripped"].tolist(),
                        branch_names=names, top=top, seed=seed)
    rows = res.ranked(top=top)
    data: dict[str, Any] = {
        "case": grid.name, "k": k, **{key: v for key, v in res.meta.items()
                                      if key not in ("case", "k")},
        "sets": res.to_dict(top=top)["sets"], "risk": risk,
    }
    mal = None
    if malignant:
        mal = random_chemistry(model, k=k, trials=trials, seed=seed,
                               trip_multiple=trip_multiple, threshold=threshold,
                               exclude_malignant_singles=multi_only)
        data["malignant"] = mal.to_dict()["sets"]
        data["malignant_search"] = mal.meta

    def show() -> None:
        frame = rows[["names", "lines_out", "load_lost_mw", "islands", "rounds"]].copy()
        frame["names"] = frame["names"].map(", ".join)
        exp = risk["expected_demand_loss"]
        meta = {"sets run": res.meta["sets_run"], "sets/s": res.meta["sets_per_s"],
                "expected demand loss (MW)": round(exp["mean_mw"], 2),
                "ratings": res.meta["ratings"]}
        _table(f"N-{k} of {grid.name} (top {top} by load lost)", frame, meta)
        crit = risk["critical_lines"]
        if crit and crit["rows"]:
            _table(f"critical lines (cascades losing >= {crit['large_mw']:.1f} MW)",
                   pd.DataFrame(crit["rows"])[["name", "score_mw", "share", "initiating",
                                                "tripped"]], {})
        if mal is not None:
            mframe = mal.to_frame()[["names", "size", "load_lost_mw", "lines_out", "found"]]
            mframe["names"] = mframe["names"].map(", ".join)
            _table(f"malignant sets (<= {k} branches)", mframe,
                   {k2: mal.meta[k2] for k2 in ("threshold", "trials", "succeeded",
                                                "evaluations", "evaluations_per_s")})

    emit(data, show, fmt, out)
