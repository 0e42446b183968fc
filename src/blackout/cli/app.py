"""The typer app and what every command shares: output format, --out, error handling.

Every command: ``--format table|json`` (table on a TTY, json otherwise) and
``--out FILE``; exit 0 on success, 2 on bad input (one line on stderr, no
traceback), 1 on an internal error.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from enum import Enum
from functools import wraps
from pathlib import Path
from typing import Any, TypeVar

import typer
from rich.console import Console

from blackout.errors import BlackoutError

__all__ = ["app", "Format", "emit", "guarded", "console", "resolve_format"]

app = typer.Typer(
    name="blackout",
    help="Simulate cascading failures and national blackouts, from threat to restoration.",
    no_args_is_help=False,
    add_completion=False,
    pretty_exceptions_enable=False,
)
console = Console(stderr=False, highlight=False)

F = TypeVar("F", bound=Callable[..., Any])


class Format(str, Enum):
    """Output format of a command."""

    table = "table"
    json = "json"


def resolve_format(fmt: Format | None) -> Format:
    """The explicit format, else table on a TTY and json when piped."""
    if fmt is not None:
        return fmt
    return Format.table if sys.stdout.isatty() else Format.json


def guarded(func: F) -> F:
    """Turn a BlackoutError into one line on stderr and exit 2; anything else exits 1."""

    @wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except typer.Exit:
            raise
        except BlackoutError as exc:
            msg = str(exc).replace("\n", " ")
            typer.echo(f"error: {msg}", err=True)
            raise typer.Exit(2) from None
        except KeyboardInterrupt:
            raise typer.Exit(130) from None
        except Exception as exc:  # internal error: short message, exit 1
            typer.echo(f"internal error: {type(exc).__name__}: {exc}", err=True)
            raise typer.Exit(1) from None

    return wrapper  # type: ignore[return-value]


def emit(data: dict[str, Any], text: str | Callable[[], None], fmt: Format | None,
         out: Path | None) -> None:
    """Write ``data`` as JSON or the human rendering ``text`` (a string or a printer).

    With ``--out``, the chosen rendering goes to the file and a one-line note to stderr.
    """
    fmt = resolve_format(fmt)
    if fmt is Format.json:
        payload = json.dumps(data, indent=None, allow_nan=False, default=_default)
        if out:
            Path(out).write_text(payload + "\n", encoding="utf-8")
            typer.echo(f"wrote {out}", err=True)
        else:
            typer.echo(payload)
        return
    if out:
        rendered = text if isinstance(text, str) else _capture(text)
        Path(out).write_text(rendered + "\n", encoding="utf-8")
        typer.echo(f"wrote {out}", err=True)
    elif isinstance(text, str):
        typer.echo(text)
    else:
        text()


def _capture(printer: Callable[[], None]) -> str:
    with console.capture() as cap:
        printer()
    return cap.get()


def _default(obj: Any) -> Any:
    import numpy as np

    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    if isinstance(obj, Path):
        return str(obj)
    raise TypeError(f"not JSON serialisable: {type(obj).__name__}")
