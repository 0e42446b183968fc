"""The built-in default case: Venezuela's national grid (SEN) on 7 March 2019, ~16:50 VET.

A simplified, sourced model: the 765 kV Guri-Malena-San Gerónimo B backbone with its three
parallel circuits, the 400/230 kV paths, the Zulia, Andes, eastern and Brazil links, 24 state
loads with critical infrastructure, and the generation dispatched that afternoon. Every number
is in ``data/`` with its source or the reason for the assumption; :func:`describe_venezuela2019`
lists them.
"""

from blackout.cases.venezuela2019.build import build_venezuela2019
from blackout.cases.venezuela2019.data import REGIONS_GEOJSON
from blackout.cases.venezuela2019.describe import describe_venezuela2019

__all__ = ["build_venezuela2019", "describe_venezuela2019", "REGIONS_GEOJSON"]
