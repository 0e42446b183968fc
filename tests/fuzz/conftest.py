"""Shared pieces of the fuzz suite: the hypothesis profile and a guarded CLI runner.

``make test`` runs each fuzz test with a few derandomised examples (the suite stays
well under a minute); ``make fuzz`` sets ``BLACKOUT_FUZZ=1`` for many random
examples (``BLACKOUT_FUZZ_EXAMPLES``, default 300 per test).

The rule every input must satisfy: the command exits 0, or exits 2 with one line
(``error: ...``) -- never 1 (an internal error), never a traceback, never a hang
past :data:`EXAMPLE_TIMEOUT_S`.
"""

from __future__ import annotations

import os
import signal
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import pytest
from hypothesis import HealthCheck, settings
from typer.testing import CliRunner

from blackout.cli import (
    app,
    commands,  # noqa: F401  (registers the commands)
)

FUZZ = os.environ.get("BLACKOUT_FUZZ", "") == "1"
settings.register_profile(
    "blackout-fuzz",
    max_examples=int(os.environ.get("BLACKOUT_FUZZ_EXAMPLES", "300")) if FUZZ else 6,
    deadline=None,
    derandomize=not FUZZ,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture,
                           HealthCheck.data_too_large, HealthCheck.filter_too_much],
)

#: Longest one fuzzed command may take, s (a hang is a failure, not a wait).
EXAMPLE_TIMEOUT_S = 60


class FuzzTimeout(BaseException):
    """Raised in the test when one input ran past EXAMPLE_TIMEOUT_S (not an Exception:
    the CLI's error guard must not turn it into an exit status)."""


@contextmanager
def watchdog(seconds: int) -> Iterator[None]:
    """Raise FuzzTimeout in the main thread after ``seconds``."""
    def fire(signum: int, frame: object) -> None:
        raise FuzzTimeout(f"input ran past {seconds} s")

    old = signal.signal(signal.SIGALRM, fire)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)


@dataclass(frozen=True)
class Outcome:
    """What a command did: exit status, stdout and stderr."""

    args: tuple[str, ...]
    exit_code: int
    stdout: str
    stderr: str

    def check(self) -> None:
        """Exit 0, or exit 2 with one line on stderr; never 1, never a traceback."""
        where = f"blackout {' '.join(self.args)}"
        assert self.exit_code in (0, 2), (
            f"{where}: exit {self.exit_code}\n{self.stderr[-3000:]}")
        assert "Traceback" not in self.stderr + self.stdout, f"{where}: traceback"
        if self.exit_code == 2:
            lines = [ln for ln in self.stderr.splitlines() if ln.strip()]
            assert len(lines) == 1 and lines[0].startswith("error: "), (
                f"{where}: exit 2 without one 'error:' line: {lines}")


def run_cli(*args: str) -> Outcome:
    """Run ``blackout ARGS`` in this process under the watchdog."""
    with watchdog(EXAMPLE_TIMEOUT_S):
        result = CliRunner().invoke(app, list(args), env={"BLACKOUT_DEBUG": ""})
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return Outcome(tuple(args), result.exit_code, result.stdout, result.stderr)


@pytest.fixture
def cli() -> Callable[..., Outcome]:
    """The in-process CLI runner (see :func:`run_cli`)."""
    return run_cli
