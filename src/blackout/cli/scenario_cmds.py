"""Scenario commands: ``blackout scenarios`` (list the built-in ones), ``blackout scenario schema``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table as RichTable

from blackout.cli.app import Format, app, console, emit, guarded

FormatOpt = Annotated[Format | None, typer.Option("--format", "-f", help="table or json")]
OutOpt = Annotated[Path | None, typer.Option("--out", "-o", help="write the output to FILE")]

def _builtin_scenarios() -> dict[str, Any]:
    """The built-in scenarios (blackout.scenario loads the engine: imported on use)."""
    from blackout.scenario import builtin_scenarios

    return builtin_scenarios()


scenario_app = typer.Typer(help="Scenario files: schema for editors.", no_args_is_help=True)
app.add_typer(scenario_app, name="scenario")


@app.command("scenarios")
@guarded
def scenarios_cmd(fmt: FormatOpt = None, out: OutOpt = None) -> None:
    """List the built-in scenarios (name, case, description); run one with `blackout run NAME`."""
    rows = [{"name": s.name, "case": s.case, "description": s.description}
            for s in _builtin_scenarios().values()]

    def show() -> None:
        t = RichTable(title="Built-in scenarios")
        for col in ("name", "case", "description"):
            t.add_column(col, overflow="fold")
        for r in rows:
            t.add_row(r["name"], r["case"], r["description"])
        console.print(t)

    emit({"scenarios": rows}, show, fmt, out)


@scenario_app.command("schema")
@guarded
def schema_cmd(out: OutOpt = None) -> None:
    """Print the JSON Schema of scenario files (for editor completion of YAML/TOML)."""
    from blackout.scenario import scenario_json_schema

    text = json.dumps(scenario_json_schema(), indent=2)
    if out:
        Path(out).write_text(text + "\n", encoding="utf-8")
        typer.echo(f"wrote {out}", err=True)
    else:
        typer.echo(text)
