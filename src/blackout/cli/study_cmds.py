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
    "--derive-ratings", help="rate unrated branches as K*max(base flow, FLOOR_MVA): "
    "K[,FLOOR_MVA][,basis=dc|ac][,override] (basis: the base case's DC |P|, default, or AC "
    "|S|; override: re-rate every branch)")]
TripOpt = Annotated[float, typer.Option(
    "--trip-multiple", help="a branch trips when |P| > this x rate_a_mva")]
ParticipationOpt = Annotated[str, typer.Option(
    "--participation", help="how an island's imbalance is shared among its units, within "
    "[pmin, pmax]: headroom (default), pmax or droop")]
BalancedOpt = Annotated[bool, typer.Option(
    "--balanced-dispatch", help="re-dispatch every unit in proportion to pmax before the "
    "study (the older rule; default: keep the case's dispatch)")]
GrandfatherOpt = Annotated[bool, typer.Option(
    "--grandfather-base", help="re-rate branches above rate_a in the base case to their "
    "base flow x 1.1, so that only contingencies overload")]


def study_grid(case: str, ratings: str, *, balanced_dispatch: bool = False,
               participation: str = "headroom") -> Grid:
    """The case (its own dispatch, or re-dispatched by pmax with ``balanced_dispatch``),
    unrated branches rated by the ``--derive-ratings`` rule."""
    from blackout.grid.ratings import apply_ratings, parse_ratings_spec

    spec = parse_ratings_spec(ratings)
    check_participation(participation)
    grid = load_case(case)
    if balanced_dispatch:
        from blackout.study.fastdc.model import balanced_grid

        grid = balanced_grid(grid)
    return apply_ratings(grid, spec, participation=participation)


def check_participation(rule: str) -> None:
    """Bad ``--participation`` -> exit 2."""
    from blackout.flow.balance import PARTICIPATION_RULES

    if rule not in PARTICIPATION_RULES:
        raise BlackoutError(f"--participation: expected one of {', '.join(PARTICIPATION_RULES)}, "
                            f"got {rule!r}")


def study_model(case: str, ratings: str, *, balanced_dispatch: bool = False,
                participation: str = "headroom", grandfather: bool = False
                ) -> tuple[Grid, Any]:
    """(grid, DCModel) of a study; with ``grandfather`` the branches above rate_a in the
    base case are re-rated to 1.1 x their base flow first."""
    from blackout.grid.ratings import grandfather_base
    from blackout.study.fastdc.model import DCModel

    grid = study_grid(case, ratings, balanced_dispatch=balanced_dispatch,
                      participation=participation)
    model = DCModel.build(grid, rule=participation)
    if grandfather:
        grid = grandfather_base(grid, np.abs(model.f0_pu) * model.base_mva)
        model = DCModel.build(grid, rule=participation)
    return grid, model


def base_case_warning(model: Any, *, cascades: str) -> str | None:
    """The first line a study prints when its base case is above the ratings used, or
    None when it is within them."""
    from blackout.study.contingency.n1 import base_violations

    base = base_violations(model)
    if base["count"] == 0:
        return None
    return (f"warning: {base['count']} branches are above rate_a in the base case, before "
            f"any outage (worst {base['max_loading_pct']:.0f} %); {cascades}; derive ratings "
            "(--derive-ratings K,FLOOR_MVA,override), re-rate them to 1.1 x their base flow "
            "(--grandfather-base) or fix the case")


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
    by: Annotated[str, typer.Option("--by", help="rank by max_caused_loading_pct (the "
                                     "worst loading the outage causes: new or worsened "
                                     "violations, default), max_loading_pct, "
                                     "cascade_load_lost_mw or cascade_lines_out")
                  ] = "max_caused_loading_pct",
    screen_pct: Annotated[float, typer.Option(
        "--screen-pct", help="AC-verify every outage whose estimated MVA loading reaches this")
    ] = 80.0,
    ratings: RatingsOpt = "1.5,50",
    trip_multiple: TripOpt = 1.0,
    participation: ParticipationOpt = "headroom",
    balanced_dispatch: BalancedOpt = False,
    grandfather: GrandfatherOpt = False,
    cascade: Annotated[bool | None, typer.Option(
        "--cascade/--no-cascade", help="run the overload cascade of every outage (default: "
        "only when the base case is within its ratings)")] = None,
    worsened: Annotated[float, typer.Option(
        "--worsened-threshold", help="a base-case violation counts in a contingency when its "
        "loading rises by more than this fraction (OpenLoadFlow's default 0.1)")] = 0.1,
    fmt: FormatOpt = None,
    out: OutOpt = None,
) -> None:
    """Full N-1 screening: every branch outage, ranked by worst loading and cascade size.

    Base-case violations are reported once (``base_case.violations``); per outage
    ``new_violations`` and ``worsened_violations`` count only what the outage causes."""
    from blackout.study.contingency.n1 import base_ac_flows, screen_n1, verify_ac

    if by not in ("max_caused_loading_pct", "max_loading_pct", "cascade_load_lost_mw",
                  "cascade_lines_out"):
        raise BlackoutError(f"--by: expected max_caused_loading_pct, max_loading_pct, "
                            f"cascade_load_lost_mw or cascade_lines_out, got {by!r}")
    if top < 0:
        raise BlackoutError("--top must be >= 0")
    if not 0 <= worsened < np.inf:
        raise BlackoutError(f"--worsened-threshold must be finite and >= 0, got {worsened}")
    if not 0 <= screen_pct < np.inf:
        raise BlackoutError(f"--screen-pct must be a finite percentage >= 0, got {screen_pct}")
    if not 0 < trip_multiple < np.inf:
        raise BlackoutError(f"--trip-multiple must be finite and > 0, got {trip_multiple}")
    grid, model = study_model(case, ratings, balanced_dispatch=balanced_dispatch,
                              participation=participation, grandfather=grandfather)
    warning = base_case_warning(model, cascades=(
        "N-1 cascades not run (--cascade runs them)" if cascade is None else
        "N-1 cascades run as asked (each repeats the base case's own)" if cascade else
        "N-1 cascades not run"))
    p0 = q0 = None
    if ac:  # the AC base case's own overloads belong in the same first line
        p0, q0, ac_loading = base_ac_flows(model)
        n_ac = int((ac_loading > 100.0).sum())
        if n_ac:
            said = (f"{n_ac} branches are above rate_a in the AC base case (worst "
                    f"{ac_loading.max():.0f} %), counted in every row's ac_overloads; size "
                    "derived ratings on AC (--derive-ratings K,FLOOR_MVA,basis=ac,override)")
            warning = f"{warning}; and {said}" if warning else f"warning: {said}"
    if warning:  # the first line of output, before any progress or result
        typer.echo(warning, err=True)
    res = screen_n1(model, trip_multiple=trip_multiple, q0_mvar=q0, p0_mw=p0,
                    cascade=cascade, worsened_threshold=worsened)
    if ac:
        with progress_bar(sys.stderr.isatty(), "AC N-1", "outages") as progress:
            res = verify_ac(res, model, screen_pct=screen_pct, top=top, progress=progress)
    rows = res.ranked(by=by, top=top)
    data = {**res.meta, "ranked_by": by,
            "contingencies": rows.replace({np.nan: None}).to_dict(orient="records")}
    if warning:
        data["warnings"] = [warning]
    cols = ["name", "max_caused_loading_pct", "max_loading_pct", "worst_branch",
            "new_violations",
            "worsened_violations", "islands_added", "cascade_lines_out",
            "cascade_load_lost_mw"]
    if ac:
        cols += ["ac_verified", "ac_max_caused_loading_pct", "ac_max_loading_pct",
                 "ac_new_violations", "ac_worsened_violations"]
    base = res.meta["base_case"]["violations"]
    shown = {k: v for k, v in res.meta.items() if k != "base_case"}
    shown["base-case violations"] = (f"{base['count']} (worst {base['max_loading_pct']:.1f} %)"
                                     if base["count"] else "none")
    emit(data, lambda: _table(f"N-1 of {grid.name} (top {top} by {by})", rows[cols],
                              shown), fmt, out)


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
    participation: ParticipationOpt = "headroom",
    balanced_dispatch: BalancedOpt = False,
    grandfather: GrandfatherOpt = False,
    fmt: FormatOpt = None,
    out: OutOpt = None,
) -> None:
    """N-k screening: random or exhaustive k-branch outages, their cascades and risk."""
    from blackout.study.contingency.n1 import base_violations
    from blackout.study.contingency.nk import random_chemistry, screen_nk
    from blackout.study.risk import risk_metrics

    if k < 1:
        raise BlackoutError(f"-k must be >= 1, got {k}")
    if not exhaustive and sample <= 0:
        raise BlackoutError(f"--sample must be > 0, got {sample}")
    if top < 0:
        raise BlackoutError("--top must be >= 0")
    if trials < 1:
        raise BlackoutError("--trials must be >= 1")
    if not 0 < trip_multiple < np.inf:
        raise BlackoutError(f"--trip-multiple must be finite and > 0, got {trip_multiple}")
    if seed < 0:
        raise BlackoutError(f"--seed must be >= 0 (a random seed), got {seed}")
    if threshold is not None and not 0 <= threshold < np.inf:
        raise BlackoutError(f"--threshold-mw must be finite and >= 0, got {threshold}")
    grid, model = study_model(case, ratings, balanced_dispatch=balanced_dispatch,
                              participation=participation, grandfather=grandfather)
    warning = base_case_warning(model, cascades="every cascade below starts from the base "
                                "case's own overloads")
    if warning:
        typer.echo(warning, err=True)
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
        "participation": participation,
        "base_case": {"violations": base_violations(model)},
    }
    if warning:
        data["warnings"] = [warning]
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
