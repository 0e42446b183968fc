"""Command-line interface: a thin typer layer over the library.

Each command group lives in its own module and registers on :data:`app`.
"""

from __future__ import annotations

from blackout.cli.app import app

__all__ = ["app", "main"]


def main() -> None:
    """Entry point of the ``blackout`` command."""
    from blackout.cli import commands  # noqa: F401  (registers every command)

    app()
