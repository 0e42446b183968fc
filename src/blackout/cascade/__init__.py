"""The detailed cascade engine: protection, islanding, frequency, load shedding, a timeline.

``simulate(grid, events, settings=...)`` runs one cascade and returns a
:class:`Timeline`; :class:`CascadeSettings` holds every model setting with its
published default (``CascadeSettings.simple_dc()`` is the reduced rule shared with
the batch engine).
"""

from blackout.cascade.engine import simulate
from blackout.cascade.settings import CascadeSettings, OperatorSettings
from blackout.cascade.timeline import Timeline

__all__ = ["simulate", "CascadeSettings", "OperatorSettings", "Timeline"]
