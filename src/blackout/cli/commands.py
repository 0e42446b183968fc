"""Imports every command module so that each registers its commands on the app."""

from blackout.cli import grid_cmds  # noqa: F401
