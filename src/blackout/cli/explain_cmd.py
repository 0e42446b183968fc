"""``blackout explain``: which hypothesis explains the evidence (forensics)."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Annotated

import typer

from blackout.cli.app import Format, app, emit, guarded, resolve_format
from blackout.errors import BlackoutError

FormatOpt = Annotated[Format | None, typer.Option("--format", "-f", help="table or json")]
OutOpt = Annotated[Path | None, typer.Option("--out", "-o", help=(
    "write the output to FILE; a folder (an existing one, or a name without a suffix) "
    "keeps every finished trial and the result (explanation.json or .txt)"))]

#: the result's file name in a run folder, by format
RESULT_NAME = {"json": "explanation.json", "table": "explanation.txt"}


def _is_folder(out: Path) -> bool:
    """``--out`` names a run folder: an existing folder, or a new name without a suffix."""
    return out.is_dir() or (not out.exists() and out.suffix == "")


@app.command("explain")
@guarded
def explain_cmd(
    evidence: Annotated[str | None, typer.Argument(help=(
        "evidence file (YAML/TOML) or built-in name; default: 7-14 March 2019"))] = None,
    hypotheses: Annotated[list[str] | None, typer.Option(
        "--hypotheses", "-H", help="keep only these hypotheses (repeat the option)")] = None,
    hypothesis_file: Annotated[str | None, typer.Option(
        "--hypothesis-file", help="hypothesis file or built-in name; default: 7 March 2019")
    ] = None,
    trials: Annotated[int | None, typer.Option(
        "--trials", "-n", help="simulations per hypothesis (default 200)")] = None,
    seed: Annotated[int, typer.Option("--seed", help="root random seed")] = 0,
    workers: Annotated[int | None, typer.Option(
        "--workers", "-j", help="worker processes (default: up to 2; 1: in this process)")
    ] = None,
    scheduler: Annotated[str | None, typer.Option(
        "--scheduler", help="run the trials on a Dask cluster: tcp://HOST:PORT (dask extra)")
    ] = None,
    report: Annotated[Path | None, typer.Option(
        "--report", help="also write the HTML forensics report to this file")] = None,
    resume: Annotated[bool, typer.Option(
        "--resume", help="continue the run stored in the --out folder (only missing trials "
        "are simulated)")] = False,
    fmt: FormatOpt = None,
    out: OutOpt = None,
) -> None:
    """Weigh competing explanations of a blackout against the evidence.

    Simulates each hypothesis over its priors, scores every observation with its
    source's reliability, and reports posteriors (with Monte Carlo uncertainty),
    the deciding and the non-discriminating observations, the next best
    observation and the leave-one-out / partisan-zero sensitivity. A trial the engine
    cannot finish is listed (hypothesis, seed, parameters, error) and left out. With
    ``--out DIR`` every finished trial is kept in DIR, and ``--resume`` continues a run
    that was interrupted.
    """
    from blackout.cli.progress import progress_bar
    from blackout.forensics import DEFAULT_TRIALS, explain
    from blackout.study.sweep.executors import make_executor

    folder = out if out is not None and _is_folder(out) else None
    if resume and folder is None:
        raise BlackoutError("--resume needs --out DIR, the folder of the run to continue")

    n_workers = workers if workers is not None else min(2, os.cpu_count() or 1)
    if n_workers < 1:
        raise BlackoutError(f"--workers must be at least 1, got {n_workers}")
    if seed < 0:
        raise BlackoutError(f"--seed must be >= 0 (a numpy seed), got {seed}")
    if trials is not None and trials < 1:
        raise BlackoutError(f"--trials must be at least 1, got {trials}")
    # the sweep machinery's executors: 1 worker runs in this process, more in local
    # processes, --scheduler on Dask; the result does not depend on which
    with make_executor(0 if n_workers == 1 else n_workers, scheduler) as executor, \
            progress_bar(sys.stderr.isatty(), label="explain") as progress:
        result = explain(evidence, hypothesis_file, only=hypotheses,
                         trials=DEFAULT_TRIALS if trials is None else trials, seed=seed,
                         executor=executor, progress=progress, store=folder, resume=resume)
    data = result.to_dict()
    if report is not None:
        from blackout.report import write_report

        typer.echo(f"wrote {write_report(data, report)}", err=True)
    chosen = resolve_format(fmt)
    text = "" if chosen is Format.json else result.render_text(data)
    emit(data, text, fmt, out if folder is None else folder / RESULT_NAME[chosen.value])
