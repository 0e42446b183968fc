"""Quiet the notices libraries log when they are imported.

pypowsybl (imported by lightsim2grid) logs "'opf' extra dependencies are not
installed, some features will not be available" at import; with no logging set
up, Python prints it on stderr, which added a line to every command's one-line
error. Only that logger's errors are kept. Imported first by ``blackout``.
"""

from __future__ import annotations

import logging

__all__: list[str] = []

logging.getLogger("powsybl").setLevel(logging.ERROR)
