"""Imports every command module so that each registers its commands on the app."""

from blackout.cli import grid_cmds  # noqa: F401
from blackout.cli import scenario_cmds  # noqa: F401
from blackout.cli import view_cmds  # noqa: F401
from blackout.cli import run_cmd  # noqa: F401
from blackout.cli import study_cmds  # noqa: F401
from blackout.cli import explain_cmd  # noqa: F401
