"""Reports: a self-contained HTML report of a run or a sweep, and a case's GeoJSON.

Everything here reads results; nothing runs the cascade. The HTML opens from disk with
no network (plotly's bundle and the data are inlined; the map has no tiles).
"""

from blackout.report.frames import pre_event_loading_percent, view_data
from blackout.report.geometry import bus_coordinates, case_geojson
from blackout.report.html import load_result, render_report, render_sweep_report, write_report
from blackout.report.sweep import read_sweep, sweep_view

__all__ = [
    "bus_coordinates",
    "case_geojson",
    "load_result",
    "pre_event_loading_percent",
    "read_sweep",
    "render_report",
    "render_sweep_report",
    "sweep_view",
    "view_data",
    "write_report",
]
