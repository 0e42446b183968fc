"""The typer app and what every command shares: output format, --out, error handling.

Every command: ``--format table|json`` (table on a TTY, json otherwise) and
``--out FILE``; exit 0 on success, 2 on bad input (one line on stderr, no
traceback), 1 on an internal error. An internal error prints one line that names
the file holding its full traceback (in the system temp folder); with ``--debug``
(``blackout --debug CMD`` or ``blackout CMD --debug``) or ``BLACKOUT_DEBUG=1`` the
traceback is printed as well (for a bad-input error too).
"""

from __future__ import annotations

import inspect
import json
import os
import sys
import tempfile
import time
import traceback
from collections.abc import Callable, Sequence
from enum import Enum
from functools import wraps
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
import typer.core
from rich.console import Console

from blackout.errors import BlackoutError

__all__ = ["app", "Format", "emit", "guarded", "console", "resolve_format", "debug_enabled",
           "write_traceback", "one_line"]


class _OneLineGroup(typer.core.TyperGroup):
    """The command group, with click's own usage errors (an unknown option, a value of
    the wrong type, a missing argument) printed as one ``error:`` line, exit 2, like
    every other bad-input error, instead of a usage block."""

    def main(self, args: Sequence[str] | None = None, prog_name: str | None = None,
             complete_var: str | None = None, standalone_mode: bool = True,
             windows_expand_args: bool = True, **kwargs: Any) -> Any:
        call = {"args": args, "prog_name": prog_name, "complete_var": complete_var,
                "standalone_mode": False, "windows_expand_args": windows_expand_args,
                **kwargs}
        if not standalone_mode:
            return super().main(**call)
        try:
            rv = super().main(**call)
        except typer.Abort:
            typer.echo("Aborted!", err=True)
            sys.exit(1)
        except Exception as exc:
            code = getattr(exc, "exit_code", None)
            if not hasattr(exc, "format_message") or not isinstance(code, int):
                raise  # not one of click's own errors
            ctx = getattr(exc, "ctx", None)
            hint = f" (see `{ctx.command_path} --help`)" if code == 2 and ctx else ""
            typer.echo(f"error: {one_line(exc.format_message())}{hint}", err=True)
            sys.exit(code)
        sys.exit(rv if isinstance(rv, int) and not isinstance(rv, bool) else 0)


app = typer.Typer(
    cls=_OneLineGroup,
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


#: Set by ``blackout --debug`` (the app callback) for the command that follows.
_debug_flag = False
_DEBUG_HELP = "print the full traceback of an error (also: BLACKOUT_DEBUG=1)"


@app.callback()
def _main(debug: Annotated[bool, typer.Option("--debug", help=_DEBUG_HELP)] = False) -> None:
    """Simulate cascading failures and national blackouts, from threat to restoration."""
    global _debug_flag
    _debug_flag = debug


def debug_enabled() -> bool:
    """True with ``--debug`` (before or after the command) or ``BLACKOUT_DEBUG`` set to 1/true/yes."""
    env = os.environ.get("BLACKOUT_DEBUG", "").strip().lower()
    return _debug_flag or env in ("1", "true", "yes", "on")


def write_traceback(text: str) -> Path | None:
    """Write ``text`` (a traceback) to a new file in the system temp folder; its path.

    None when the file cannot be written (the error message then says so).
    """
    try:
        fd, name = tempfile.mkstemp(prefix=f"blackout-error-{time.strftime('%Y%m%dT%H%M%S')}-",
                                    suffix=".txt")
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(f"blackout {' '.join(sys.argv[1:])}\n\n{text}")
    except OSError:
        return None
    return Path(name)


def one_line(text: str) -> str:
    r"""``text`` on one line: every line break (``\n``, ``\r``, U+2028, ...) becomes a space."""
    return " ".join(text.splitlines())


def guarded(func: F) -> F:
    """Turn a BlackoutError into one line on stderr and exit 2; anything else exits 1.

    Adds ``--debug`` to the command. An internal error's one line names the file
    where its full traceback was written; with ``--debug`` (or ``BLACKOUT_DEBUG=1``)
    the traceback is printed on stderr too.
    """

    @wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        global _debug_flag
        if kwargs.pop("debug", False):
            _debug_flag = True
        try:
            return func(*args, **kwargs)
        except typer.Exit:
            raise
        except BlackoutError as exc:
            if debug_enabled():
                typer.echo(traceback.format_exc().rstrip(), err=True)
            typer.echo(f"error: {one_line(str(exc))}", err=True)
            raise typer.Exit(2) from None
        except KeyboardInterrupt:
            raise typer.Exit(130) from None
        except Exception as exc:  # internal error: short message, exit 1
            text = traceback.format_exc()
            where = write_traceback(text)
            if debug_enabled():
                typer.echo(text.rstrip(), err=True)
            msg = one_line(f"{type(exc).__name__}: {exc}")
            note = (f"full traceback in {where}" if where is not None
                    else "the traceback could not be written")
            typer.echo(f"internal error: {msg} ({note}; --debug prints it)", err=True)
            raise typer.Exit(1) from None

    try:  # typer reads this signature: annotations resolved in the command's module
        sig = inspect.signature(func, eval_str=True)
    except NameError:  # an annotation that cannot be resolved yet: no per-command --debug
        return wrapper  # type: ignore[return-value]
    if "debug" not in sig.parameters:
        debug = inspect.Parameter(
            "debug", inspect.Parameter.KEYWORD_ONLY, default=False,
            annotation=Annotated[bool, typer.Option("--debug", help=_DEBUG_HELP)])
        params = list(sig.parameters.values())
        wrapper.__signature__ = sig.replace(parameters=[  # type: ignore[attr-defined]
            *(p for p in params if p.kind is not inspect.Parameter.VAR_KEYWORD), debug,
            *(p for p in params if p.kind is inspect.Parameter.VAR_KEYWORD)])
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
