"""Imports every command module so that each registers its commands on the app."""

from blackout.cli import (
    explain_cmd,  # noqa: F401
    grid_cmds,  # noqa: F401
    run_cmd,  # noqa: F401
    scenario_cmds,  # noqa: F401
    study_cmds,  # noqa: F401
    sweep_cmds,  # noqa: F401
    view_cmds,  # noqa: F401
)
