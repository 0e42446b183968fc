"""Grid commands: ``cases``, ``pf``, ``convert``."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import numpy as np
import typer
from rich.table import Table as RichTable

from blackout.cases import load_case
from blackout.cli.app import Format, app, console, emit, guarded
from blackout.errors import BlackoutError
from blackout.grid.model import Grid

if TYPE_CHECKING:  # the solvers load pandapower: imported where a command needs them
    from blackout.flow import PowerFlowResult

FormatOpt = Annotated[Format | None, typer.Option("--format", "-f", help="table or json")]
OutOpt = Annotated[Path | None, typer.Option("--out", "-o", help="write the output to FILE")]


@app.command("cases")
@guarded
def cases_cmd(
    describe: Annotated[str | None, typer.Option(
        "--describe", help="print the table of sources and assumptions of one case")] = None,
    fmt: FormatOpt = None,
    out: OutOpt = None,
) -> None:
    """List the built-in cases with bus/branch/generator counts and source."""
    if describe:
        rows = _describe(describe)
        emit({"case": describe, "records": rows}, lambda: _print_records(describe, rows),
             fmt, out)
        return
    from blackout.cases.metadata import case_metadata

    rows = case_metadata()  # recorded sizes: building all 14 cases takes 20-30 s

    def show() -> None:
        t = RichTable(title="Built-in cases")
        for col in ("name", "buses", "branches", "gens", "load_mw", "f_hz", "source"):
            t.add_column(col, overflow="fold")
        for r in rows:
            t.add_row(*(str(r[c]) for c in ("name", "buses", "branches", "gens", "load_mw",
                                             "f_hz", "source")))
        console.print(t)

    emit({"cases": rows}, show, fmt, out)


def _describe(name: str) -> list[dict[str, Any]]:
    if name == "venezuela2019":
        from blackout.cases.venezuela2019 import describe_venezuela2019

        return describe_venezuela2019()
    grid = load_case(name)
    return [{"quantity": k, "value": v, "unit": "", "source": str(grid.notes.get("source", ""))}
            for k, v in grid.notes.items()]


def _print_records(name: str, rows: list[dict[str, Any]]) -> None:
    t = RichTable(title=f"{name}: sources and assumptions")
    cols = list(rows[0]) if rows else ["quantity", "value"]
    for col in cols:
        t.add_column(col, overflow="fold")
    for r in rows:
        t.add_row(*(str(r.get(c, "")) for c in cols))
    console.print(t)


def parse_ratings(spec: str | None) -> tuple[float, float] | None:
    """``--derive-ratings`` (:data:`blackout.grid.ratings.RATINGS_GRAMMAR`) -> (k, floor)."""
    if spec is None:
        return None
    from blackout.grid.ratings import parse_ratings_spec

    rule = parse_ratings_spec(spec)
    return rule.k, rule.floor_mva


def with_ratings(grid: Grid, spec: str | None) -> Grid:
    """Apply ``--derive-ratings`` if given (the one grammar and rule of every command), on
    the base flows ``pf`` shows (the case's DC power flow, its slack taking the mismatch)."""
    from blackout.flow.ratings import apply_ratings

    return apply_ratings(grid, spec, participation=None)


@app.command("pf")
@guarded
def pf_cmd(
    case: Annotated[str, typer.Argument(help="built-in case name or case file")],
    dc: Annotated[bool, typer.Option("--dc", help="DC power flow instead of AC")] = False,
    strict: Annotated[bool, typer.Option(help="fail (exit 2) if an island does not converge")
                      ] = False,
    derive_ratings: Annotated[str | None, typer.Option(
        "--derive-ratings", help="rate unrated branches as K*max(|base flow|, FLOOR_MVA): "
        "K[,FLOOR_MVA][,basis=dc|ac][,override]")
    ] = None,
    flat_start: Annotated[bool, typer.Option(
        "--flat-start", help="AC: start Newton-Raphson from 1 pu, 0 degrees (default: the "
        "case's stored voltages, as MATPOWER)")] = False,
    q_limits: Annotated[bool, typer.Option(
        "--q-limits", help="AC: enforce generators' reactive limits (PV buses at a limit "
        "become PQ, as MATPOWER's ENFORCE_Q_LIMS)")] = False,
    fmt: FormatOpt = None,
    out: OutOpt = None,
) -> None:
    """Run an AC (default) or DC power flow and summarise it."""
    from blackout.flow import run_ac, run_dc

    grid = with_ratings(load_case(case), derive_ratings)
    res = run_dc(grid, strict=strict) if dc else run_ac(
        grid, strict=strict, init="flat" if flat_start else "case", q_limits=q_limits)
    data = res.to_dict()
    data["gen"]["kind"] = list(map(str, grid.gen["kind"]))
    data["region"] = region_summary(grid, res)
    emit(data, lambda: _print_pf(grid, res, data["region"]), fmt, out)


def region_summary(grid: Grid, res: PowerFlowResult) -> dict[str, list[Any]]:
    """Per region: name, load_mw (demand) and served_mw (demand on energised buses)."""
    n = grid.region.n
    reg = grid.bus["region"]
    demand = grid.bus_load_mw()
    served = np.where(res.bus["energized"], res.bus["load_mw"], 0.0)
    ok = reg >= 0
    load = np.bincount(reg[ok], weights=demand[ok], minlength=n)
    srv = np.bincount(reg[ok], weights=served[ok], minlength=n)
    return {"name": list(map(str, grid.region["name"])),
            "load_mw": [round(float(x), 3) for x in load],
            "served_mw": [round(float(x), 3) for x in srv]}


def _print_pf(grid: Grid, res: PowerFlowResult, regions: dict[str, list[Any]]) -> None:
    mode = res.mode.upper()
    console.print(f"[bold]{grid.name}[/bold]: {mode} power flow, "
                  f"{'converged' if res.converged else 'NOT converged'}")
    t = RichTable(title="Islands")
    for col in ("island", "buses", "gen MW", "load MW", "slack", "state", "iterations"):
        t.add_column(col)
    for i in res.islands:
        state = ("converged" if i.converged else f"failed: {i.reason}") if i.energized else \
            "dark (no generation)"
        t.add_row(str(i.island), str(i.buses), f"{i.generation_mw:.1f}", f"{i.load_mw:.1f}",
                  str(i.slack or "-"), state, str(i.iterations))
    console.print(t)
    vm = res.bus["vm_pu"][res.bus["energized"]]
    loading = res.branch["loading_percent"]
    rated = np.isfinite(loading)
    console.print(
        f"Buses {grid.bus.n}: vm {vm.min():.4f}-{vm.max():.4f} pu" if vm.size else "no live bus")
    gen = res.gen["p_mw"].sum()
    load = res.bus["load_mw"][res.bus["energized"]].sum()
    console.print(f"Generation {gen:.1f} MW, served load {load:.1f} MW, losses "
                  f"{gen - load - _shunt_p(grid, res):.1f} MW")
    if rated.any():
        top = np.argsort(-np.where(rated, loading, -1))[:5]
        console.print("Most loaded branches: " + ", ".join(
            f"{grid.branch['name'][i]} {loading[i]:.0f}%" for i in top if rated[i]))
    else:
        console.print("No branch ratings in this case (use --derive-ratings K[,FLOOR]).")
    if grid.region.n:
        t = RichTable(title="Regions")
        for col in ("region", "load MW", "served MW"):
            t.add_column(col)
        for name, lmw, smw in zip(regions["name"], regions["load_mw"], regions["served_mw"],
                                  strict=True):
            t.add_row(name, f"{lmw:.1f}", f"{smw:.1f}")
        console.print(t)


def _shunt_p(grid: Grid, res: PowerFlowResult) -> float:
    vm = res.bus["vm_pu"]
    return float((grid.bus["gs_mw"] * vm**2).sum()) if res.mode == "ac" else float(
        grid.bus["gs_mw"][res.bus["energized"]].sum())


@app.command("convert")
@guarded
def convert_cmd(
    source: Annotated[str, typer.Argument(help="case name or file (.m, .mat, .json)")],
    target: Annotated[Path, typer.Argument(help="output file (.m or .json)")],
    to: Annotated[str | None, typer.Option(
        "--to", help="output format: matpower, native or pandapower (default from suffix)")
    ] = None,
) -> None:
    """Convert a case between MATPOWER .m, native JSON and pandapower JSON."""
    from blackout.grid.io import write_case

    if to not in (None, "matpower", "native", "pandapower"):
        raise BlackoutError(f"--to must be matpower, native or pandapower, not {to!r}")
    grid = load_case(source)
    write_case(grid, target, fmt=to)
    typer.echo(f"wrote {target} ({grid.bus.n} buses, {grid.branch.n} branches, "
               f"{grid.gen.n} generators)", err=True)
