"""``blackout sweep``: a Monte Carlo sweep of a scenario into a folder of Parquet chunks.

See docs/study.md ("Sweeps") for seeding, what varies per trial, storage and resume.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from blackout.cli.app import Format, app, console, emit, guarded
from blackout.cli.progress import progress_bar
from blackout.errors import BlackoutError

__all__ = ["sweep_cmd", "parse_range", "parse_ratings"]


def parse_range(text: str, option: str) -> tuple[float, float]:
    """``LO,HI`` (or one value) as two floats; :class:`BlackoutError` otherwise."""
    parts = [p.strip() for p in text.split(",")]
    try:
        vals = [float(p) for p in parts]
    except ValueError:
        raise BlackoutError(f"{option} expects LO,HI (numbers), got {text!r}") from None
    if len(vals) == 1:
        vals = vals * 2
    if len(vals) != 2:
        raise BlackoutError(f"{option} expects LO,HI, got {text!r}")
    return vals[0], vals[1]


def parse_ratings(text: str) -> tuple[float, float, bool]:
    """``--derive-ratings`` (:data:`blackout.grid.ratings.RATINGS_GRAMMAR`; the older
    ``K,F,all`` is ``override``) as (k, floor, override_given)."""
    from blackout.grid.ratings import parse_ratings_spec

    rule = parse_ratings_spec(text)
    if rule.basis != "dc":
        raise BlackoutError("--derive-ratings: a sweep rates on the DC base flow "
                            f"(basis=dc), got {text!r}")
    return rule.k, rule.floor_mva, rule.override


def _print_summary(s: dict[str, Any]) -> None:
    def num(v: Any, fmt: str = "{:.1f}") -> str:
        return "-" if v is None else fmt.format(v)

    console.print(f"[bold]sweep {s['scenario']}[/bold] on {s['case']} ({s['engine']} engine), "
                  f"root seed {s['root_seed']}: {s['folder']}")
    console.print(f"trials: {s['trials_ok']} ok, {s['trials_failed']} failed of "
                  f"{s['trials']} ({s['ran']} run now, {s['resumed']} resumed; "
                  f"{num(s['trials_per_s'])} trials/s)")
    loss = s.get("load_lost_mw") or {}
    console.print(f"expected demand loss: {num(s['expected_demand_loss_mw'])} MW "
                  f"(p95 {num(loss.get('p95'))}, max {num(loss.get('max'))} MW; "
                  f"P(loss > 0) = {num(loss.get('p_loss'), '{:.3f}')}); "
                  f"mean lines out {num(s['lines_out_mean'])}")
    for line in outcome_lines(s):
        console.print(line)
    fit = s.get("power_law")
    if fit:
        console.print(f"power-law tail: alpha = {fit['alpha']:.2f} above "
                      f"{fit['xmin']:.1f} MW ({fit['n_tail']} trials), KS "
                      f"{fit['ks_distance']:.3f}, p = {num(fit.get('p_value'), '{:.2f}')}")
    elif s.get("power_law_note"):
        console.print(str(s["power_law_note"]))
    crit = ((s.get("risk") or {}).get("critical_lines") or {}).get("rows") or []
    if crit:
        names = ", ".join(str(r.get("name", r.get("id"))) for r in crit[:5])
        console.print(f"most critical lines (tripped by the cascade): {names}")
    init = s.get("initiating_elements") or []
    if init:
        console.print("initiating elements (apart): " + ", ".join(
            f"{r['name']} ({r['trials']} trials)" for r in init[:5]))
    if s.get("first_error"):
        e = s["first_error"]
        console.print(f"[red]first failed trial {e['trial']} (seed {e['seed']}): "
                      f"{e['error']}[/red]")


#: outcome column -> (label, unit, format)
_OUTCOME_LABELS = {"load_lost_mw": ("load lost", "MW", "{:,.0f}"),
                   "load_lost_percent": ("load lost", "% of demand", "{:.1f}"),
                   "regions_dark": ("regions dark", "", "{:.0f}"),
                   "time_to_collapse_s": ("time to collapse", "s", "{:,.0f}"),
                   "lines_out": ("lines out", "", "{:.0f}"),
                   "restored_90_h": ("restoration to 90 %", "h", "{:,.0f}"),
                   "energy_not_served_mwh": ("energy not served", "MWh", "{:,.0f}")}


def outcome_lines(s: dict[str, Any]) -> list[str]:
    """One line per outcome: its spread (or that it does not vary) and its top drivers."""
    lines = []
    for col, (label, unit, fmt) in _OUTCOME_LABELS.items():
        o = (s.get("outcomes") or {}).get(col)
        if not o or not o.get("trials"):
            continue
        u = f" {unit}" if unit else ""
        miss = f"; {o['missing']} trials without one" if o.get("missing") else ""
        if not o["varies"]:
            lines.append(f"{label}: {fmt.format(o['min'])}{u} in every trial (does not "
                         f"vary){miss}")
            continue
        text = (f"{label}: {fmt.format(o['min'])}-{fmt.format(o['max'])}{u} (median "
                f"{fmt.format(o['p50'])}, p5-p95 {fmt.format(o['p5'])}-{fmt.format(o['p95'])}, "
                f"{o['distinct']} distinct){miss}")
        drv = (s.get("drivers") or {}).get(col) or []
        if drv:
            text += "; driven by " + ", ".join(
                f"{d['input']} (rho {d['rho']:+.2f}, p {d['p']:.2g})" for d in drv[:3])
        lines.append(text)
    return lines


@app.command("sweep")
@guarded
def sweep_cmd(
    scenario: Annotated[str, typer.Argument(help="scenario name or file")],
    trials: Annotated[int, typer.Option("--trials", "-n", help="number of trials")],
    out: Annotated[Path, typer.Option("--out", "-o", help="the sweep's folder (Parquet chunks "
                                      "and _manifest.json)")],
    workers: Annotated[int | None, typer.Option(
        "--workers", "-w", help="local worker processes (0: serial in this process; "
        "default: one per CPU core)")] = None,
    scheduler: Annotated[str | None, typer.Option(
        "--scheduler", help="Dask scheduler address, tcp://HOST:PORT (dask extra)")] = None,
    resume: Annotated[bool, typer.Option(
        "--resume", help="continue the sweep in --out, running only its missing chunks")
    ] = False,
    seed: Annotated[int, typer.Option("--seed", help="root seed of the trials' seeds")] = 0,
    engine: Annotated[str, typer.Option(
        "--engine", help="detailed (cascade engine, scenario settings) or fast (batched DC)")
    ] = "detailed",
    load_scale: Annotated[str | None, typer.Option(
        "--load-scale", help="all loads x U(LO, HI) per trial: LO,HI")] = None,
    random_outages: Annotated[int, typer.Option(
        "--random-outages", help="K random initiating branch outages per trial (by length)")
    ] = 0,
    trip_multiple: Annotated[float, typer.Option(
        "--trip-multiple", help="fast engine: a branch trips when |P| > this x rate_a_mva")
    ] = 1.0,
    derive_ratings: Annotated[str | None, typer.Option(
        "--derive-ratings", help="rate unrated branches K*max(|base DC flow|, FLOOR_MVA): "
        "K[,FLOOR_MVA][,override] (override, or the older 'all': every branch)")] = None,
    chunk_size: Annotated[int | None, typer.Option(
        "--chunk-size", help="trials per task and per Parquet chunk")] = None,
    trial_time_limit: Annotated[float | None, typer.Option(
        "--trial-time-limit", help="detailed engine: a trial over this many s is an error")
    ] = None,
    restore: Annotated[bool, typer.Option(
        "--restore", help="detailed engine: also simulate each trial's restoration "
        "(restored_90_h, energy_not_served_mwh; slower)")] = False,
    participation: Annotated[str, typer.Option(
        "--participation", help="fast engine: share each island's imbalance from the case "
        "dispatch by headroom, pmax or droop")] = "headroom",
    central: Annotated[bool, typer.Option(
        "--central", help="use the scenario's uncertain inputs at their central values "
        "instead of sampling them per trial")] = False,
    fmt: Annotated[Format | None, typer.Option("--format", "-f", help="table or json")] = None,
    summary_out: Annotated[Path | None, typer.Option(
        "--summary-out", help="write the summary to FILE")] = None,
) -> None:
    """Monte Carlo sweep: seeded trials of a scenario, streamed to Parquet chunks."""
    from blackout.study.sweep.executors import make_executor
    from blackout.study.sweep.run import SweepOptions, run_sweep

    if trials < 1:
        raise BlackoutError(f"--trials must be at least 1, got {trials}")
    options = SweepOptions(
        engine=engine,
        load_scale=None if load_scale is None else parse_range(load_scale, "--load-scale"),
        random_outages=random_outages, trip_multiple=trip_multiple,
        derive_ratings=None if derive_ratings is None else parse_ratings(derive_ratings),
        trial_time_limit_s=trial_time_limit, sample_uncertain=not central,
        restore=restore, participation=participation)
    options.validate()
    with make_executor(workers, scheduler) as executor, \
            progress_bar(sys.stderr.isatty()) as progress:
        result = run_sweep(scenario, trials=trials, out=out, root_seed=seed, options=options,
                           executor=executor, resume=resume, chunk_size=chunk_size,
                           progress=progress)
    summary = result.summary()
    emit(summary, lambda: _print_summary(summary), fmt, summary_out)
