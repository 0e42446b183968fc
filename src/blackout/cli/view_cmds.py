"""Commands to look at results: ``blackout report RESULT`` and ``blackout serve``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from blackout.cli.app import app, guarded

_LOOPBACK = ("127.0.0.1", "localhost", "::1")


@app.command("report")
@guarded
def report_cmd(
    result: Annotated[Path, typer.Argument(help="a run's JSON (blackout run --format json), "
                                                "an explanation's JSON (blackout explain "
                                                "--format json) or a sweep's Parquet "
                                                "file/directory")],
    out: Annotated[Path, typer.Option("--out", "-o", help="HTML file to write")] = Path(
        "report.html"),
    case: Annotated[str | None, typer.Option(
        "--case", help="case of the run, when its JSON does not name one")] = None,
) -> None:
    """Write a self-contained HTML report (map, plots, timeline) that opens offline."""
    from blackout.cases import load_case
    from blackout.errors import BlackoutError
    from blackout.report import write_report

    if not result.exists():
        raise BlackoutError(f"{result}: no such file or directory")
    grid = load_case(case) if case else None
    written = write_report(result, out, grid=grid)
    typer.echo(f"wrote {written}", err=True)


@app.command("serve")
@guarded
def serve_cmd(
    host: Annotated[str, typer.Option(help="address to bind (loopback by default)")] = (
        "127.0.0.1"),
    port: Annotated[int, typer.Option(min=1, max=65535, help="TCP port")] = 8000,
) -> None:
    """Serve the JSON API and the map page: trip a line and watch the cascade."""
    from blackout.errors import BlackoutError

    try:
        import uvicorn

        from blackout.web import create_app
    except ImportError as exc:
        raise BlackoutError(f"the web extra is not installed ({exc.name}): "
                            "pip install 'blackout-sim[web]'") from None
    if host not in _LOOPBACK:
        typer.echo(f"warning: serving on {host}: reachable from other machines", err=True)
    typer.echo(f"blackout: http://{host}:{port}/  (API docs at /docs)", err=True)
    uvicorn.run(create_app(), host=host, port=port, log_level="warning")
