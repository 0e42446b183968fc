"""One self-contained HTML report: plotly's bundle, the data and the script inlined.

:func:`write_report` takes a run (a Timeline, its dict, or a JSON file of it) or a sweep
result (a Parquet file or directory) and writes a file that opens from disk with no
network: no tiles, no CDN, no web fonts.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import html
import json
from pathlib import Path
from typing import Any

from blackout.errors import BlackoutError
from blackout.grid.model import Grid
from blackout.report.figures import (
    critical_figure,
    frequency_figure,
    loading_bucket,
    map_figure,
    restoration_figure,
    series_figure,
    served_figure,
    waterfall_figure,
)
from blackout.report.forensics import forensics_section, is_explanation
from blackout.report.frames import clock_label, json_safe, pre_event_loading_percent, view_data
from blackout.report.page import CSS, SCRIPT
from blackout.report.sweep import is_sweep_path, read_sweep, sweep_view
from blackout.report.text import ACTION_WORDS

__all__ = ["write_report", "render_report", "render_sweep_report", "render_forensics_report",
           "load_result"]

#: events listed in the table at most (the rest are counted)
MAX_TABLE_EVENTS = 3000


def _esc(v: Any) -> str:
    return html.escape("" if v is None else str(v))


def _json_block(id_: str, obj: Any) -> str:
    text = json.dumps(obj, allow_nan=False, separators=(",", ":"))
    text = text.replace("</", "<\\/").replace("<!--", "<\\!--")
    return f'<script type="application/json" id="{id_}">{text}</script>'


def _plotly_js() -> str:
    from plotly.offline import get_plotlyjs

    return get_plotlyjs()


def _page(title: str, subtitle: str, body: str, blocks: list[str]) -> str:
    return (
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
        f"<title>{_esc(title)}</title>"
        "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
        f"<style>{CSS}</style></head><body>"
        f"<header><h1>{_esc(title)}</h1><p>{_esc(subtitle)}</p></header><main>{body}</main>"
        + "".join(blocks)
        + f"<script>{_plotly_js()}</script><script>{SCRIPT}</script></body></html>\n")


def _cards(items: list[tuple[str, str]]) -> str:
    return '<div class="cards">' + "".join(
        f'<div class="card"><div class="v">{_esc(v)}</div><div class="k">{_esc(k)}</div></div>'
        for k, v in items) + "</div>"


def _kv_table(rows: list[tuple[str, Any]]) -> str:
    return "<table>" + "".join(f"<tr><th>{_esc(k)}</th><td>{_esc(v)}</td></tr>"
                               for k, v in rows) + "</table>"


def _flatten(obj: Any, prefix: str = "") -> list[tuple[str, Any]]:
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        obj = {f.name: getattr(obj, f.name) for f in dataclasses.fields(obj)}
    if isinstance(obj, dict):
        out: list[tuple[str, Any]] = []
        for k, v in obj.items():
            out += _flatten(v, f"{prefix}{k}.")
        return out
    if isinstance(obj, (list, tuple)) and len(obj) > 12:
        return [(prefix.rstrip("."), f"{len(obj)} entries")]
    return [(prefix.rstrip("."), obj)]


def _summary_section(view: dict[str, Any]) -> str:
    s = view.get("summary") or {}
    items: list[tuple[str, str]] = []
    if "load_lost_mw" in s:
        items.append(("load lost at the end of the cascade", f"{s['load_lost_mw']:,.0f} MW "
                      f"({s.get('load_lost_percent') or 0:.1f} %)"))
    if s.get("regions_total"):
        items.append(("regions dark", f"{len(s.get('regions_dark') or [])} of "
                                      f"{s['regions_total']}"))
    if s.get("time_to_collapse_s") is not None:
        t = float(s["time_to_collapse_s"])
        label = clock_label(view.get("start_clock"), t)
        items.append(("collapse (served < 10 %)", label if label.startswith("t+")
                      else f"{label} (t+{t:,.1f} s)"))
    rest = view.get("restoration") or {}
    for pct, h in (rest.get("hours_to_percent") or {}).items():
        if h is not None:
            items.append((f"{pct} % served again after", f"{float(h):,.1f} h"))
    names = (view.get("traces") or {}).get("island_names") or {}
    for isl, f in (s.get("frequency_nadir_hz") or {}).items():
        items.append((f"frequency nadir, {names.get(isl, f'island {isl}')}", f"{f:.2f} Hz"))
    for cause, n in (s.get("trips_by_cause") or {}).items():
        items.append((f"trips: {cause}", f"{n:,}"))
    dark = s.get("regions_dark") or []
    extra = f'<p class="note">Dark at the end of the cascade: {_esc(", ".join(dark))}</p>' if dark else ""
    return f'<section id="summary"><h2>Summary</h2>{_cards(items)}{extra}</section>'


def _events_section(view: dict[str, Any]) -> str:
    events = view.get("events") or []
    if not events:
        return ""
    rows = []
    for e in events[:MAX_TABLE_EVENTS]:
        rows.append(f"<tr><td>{_esc(e.get('clock_precise') or e['clock'])}</td>"
                    f"<td>{e['time_s']:,.1f}</td><td>{_esc(e['element'])}</td>"
                    f"<td>{_esc(ACTION_WORDS.get(e['action'], e['action']))}</td><td>{_esc(e['cause'])}</td>"
                    f"<td>{_esc(e['why'])}</td><td class=\"chain\">{_esc(e['chain'])}</td></tr>")
    more = (f'<p class="note">{len(events) - MAX_TABLE_EVENTS} later events not listed.</p>'
            if len(events) > MAX_TABLE_EVENTS else "")
    return ('<section id="timeline"><h2>Timeline</h2><div class="scroll"><table id="events">'
            "<thead><tr><th>clock</th><th>t (s)</th><th>element</th><th>action</th><th>cause</th>"
            "<th>why</th><th>caused by (chain to the initiating event)</th></tr></thead>"
            f"<tbody>{''.join(rows)}</tbody></table></div>{more}</section>")


def _observed_section(view: dict[str, Any]) -> str:
    """Simulated against observed hours to 90 % served, per region (when the run's
    restoration carries an ``observed_comparison``)."""
    rows = (view.get("restoration") or {}).get("observed_comparison") or []
    if not rows:
        return ""

    def h(v: Any) -> str:
        return "-" if v is None else f"{float(v):.1f}"

    body = "".join(
        f"<tr><td>{_esc(r.get('region'))}</td><td>{h(r.get('simulated_h'))}</td>"
        f"<td>{h(r.get('observed_lo_h'))}-{h(r.get('observed_hi_h'))}</td>"
        f"<td>{h(r.get('residual_h'))}</td>"
        f"<td>{'yes' if r.get('specific_source') else 'no (national window)'}</td></tr>"
        for r in rows)
    return ('<section id="observed"><h2>Restoration: simulated against observed</h2>'
            '<p class="note">Hours from the collapse until 90 % of each region\'s demand is '
            "served again; residual = distance outside the observed range (0 inside it).</p>"
            '<div class="scroll"><table id="observed-comparison"><thead><tr><th>region</th>'
            "<th>simulated (h)</th><th>observed (h)</th><th>residual (h)</th>"
            f"<th>region-specific source</th></tr></thead><tbody>{body}</tbody></table></div>"
            "</section>")


def _assumptions_section(view: dict[str, Any]) -> str:
    rows: list[tuple[str, Any]] = []
    for key in ("assumptions", "settings", "scenario"):
        if key in view:
            rows += [(f"{key}.{k}" if k else key, v) for k, v in _flatten(view[key])]
    if "branch_loading_percent" in view:
        rows.append(("map: branch colours", "loading in each frame: a DC power flow of the "
                                            "frame's topology and served load, imbalances "
                                            "shared by headroom (the engine's AC state is "
                                            "not stored; without per-bus served load, the "
                                            "base case's); grey: de-energised, no generator "
                                            "left in the island; hover: before the event "
                                            "and, for a tripped branch, at the trip"))
    if not rows:
        return ""
    return ('<section id="assumptions"><h2>Model assumptions</h2><div class="scroll">'
            f"{_kv_table(rows)}</div></section>")


def _plot_div(id_: str, title: str) -> str:
    return f'<section><h2>{_esc(title)}</h2><div class="plot" id="{id_}"></div></section>'


def render_report(view: dict[str, Any], grid: Grid | None = None, *,
                  title: str | None = None) -> str:
    """The HTML of a run's report from its view data (see :func:`view_data`)."""
    plots: list[dict[str, Any]] = []
    body = [_summary_section(view)]
    blocks = [_json_block("view-data", view)]
    if grid is not None and grid.bus.n:
        map_fig, index = map_figure(view, grid)
        loading = view.get("branch_loading_percent") or [None] * grid.branch.n
        index["base_bucket"] = [loading_bucket(v) for v in loading]
        blocks.append(_json_block("map-data", {"figure": map_fig, "index": index}))
        n = max(len(view.get("frames") or []) - 1, 0)
        body.append(
            '<section id="map-section"><h2>Map: served load by region, branches by loading</h2>'
            '<div class="controls"><button id="play" type="button">Play</button>'
            f'<input id="frame-slider" type="range" min="0" max="{n}" value="0" step="1">'
            '<span id="clock"></span></div><div id="map"></div></section>')
    specs: list[tuple[str, str, dict[str, Any] | None]] = [
        ("plot-frequency", "Frequency per island (zoomed on the event)",
         frequency_figure(view)),
        ("plot-served", "Served load, national and per region", served_figure(view)),
        ("plot-waterfall", "Load lost in the cascade, by mechanism", waterfall_figure(view)),
        ("plot-restoration", "Restoration over time",
         restoration_figure(view) or series_figure(view.get("restoration"), "Restoration",
                                                   y_title="served")),
        ("plot-critical", "Critical services over time",
         critical_figure(view) or series_figure(view.get("critical"), "Critical services",
                                                y_title="service"))]
    for id_, heading, fig in specs:
        if fig is not None:
            plots.append({"id": id_, "figure": fig})
            body.append(_plot_div(id_, heading))
    rest = view.get("restoration") or {}
    acct = [(k, str((rest.get("account") or {}).get(k) or "")) for k in ("reproduces", "departs")]
    if rest.get("nothing_to_restore") or any(t for _, t in acct):  # the scenario's own lines
        items = (["<li>nothing to restore: the cascade lost no load</li>"]
                 if rest.get("nothing_to_restore") else []) + [
            f"<li><b>{k}</b>: {_esc(t)}</li>" for k, t in acct if t]
        body.append(f'<section id="restoration-account"><h2>Restoration against its '
                    f'account</h2><ul>{"".join(items)}</ul></section>')
    body.append(_observed_section(view))
    if is_explanation(view.get("forensics")):
        section, fplots = forensics_section(view["forensics"])
        body.append(section)
        plots += fplots
    body.append(_events_section(view))
    body.append(_assumptions_section(view))
    blocks.append(_json_block("plots-data", plots))
    case = view.get("case") or (grid.name if grid is not None else "")
    scen = view.get("scenario")
    scen_name = scen.get("name") if isinstance(scen, dict) else scen
    head = title or f"Blackout report: {scen_name or case or 'run'}"
    return _page(head, _subtitle(view, case), "".join(body), blocks)


def _subtitle(view: dict[str, Any], case: str) -> str:
    """The header line: case, whose account the scenario follows, start time, when."""
    raw = view.get("scenario")
    scen: dict[str, Any] = raw if isinstance(raw, dict) else {}
    parts = [f"case {case}" if case else ""]
    if scen.get("account"):
        parts.append(f"account: {scen['account']}")
    start = scen.get("start_time") or view.get("start_clock")
    if start:
        parts.append(f"starts {start}")
    horizon = (view.get("restoration") or {}).get("horizon_h")
    if horizon:
        parts.append(f"cascade and {float(horizon):,.0f} h of restoration")
    parts.append(f"generated {dt.datetime.now().isoformat(timespec='seconds')}")
    return " \u00b7 ".join(p for p in parts if p)


def render_sweep_report(sv: dict[str, Any], *, title: str | None = None) -> str:
    """The HTML of a sweep's report from :func:`blackout.report.sweep.sweep_view`."""
    s = sv["summary"]
    items = [("trials", str(s["trials"]) + (f" (+{s['trials_failed']} failed, left out)"
                                           if s.get("trials_failed") else "")),
             ("expected demand loss", f"{s['expected_demand_loss_mw']:.1f} MW"),
             ("trials with loss", str(s["trials_with_loss"])),
             ("largest loss", f"{s['largest_loss_mw']:.0f} MW"),
             ("99th percentile loss", f"{s['p99_loss_mw']:.0f} MW")]
    body = [f'<section id="summary"><h2>Summary</h2>{_cards(items)}</section>']
    if sv.get("notes"):  # what does not vary, why there is no power-law fit
        body.append("<section><h2>Notes</h2><ul>" + "".join(
            f"<li>{_esc(n)}</li>" for n in sv["notes"]) + "</ul></section>")
    plots = []
    for id_, heading, fig in sv["figures"]:
        plots.append({"id": f"plot-{id_}", "figure": fig})
        body.append(_plot_div(f"plot-{id_}", heading))
    if sv["critical_lines"]:  # one heading: the table joins the chart's section
        scored = "score_mw" in sv["critical_lines"][0]
        rows = "".join(
            f"<tr><td>{_esc(r['name'])}</td><td>{r['trials']:,}</td>"
            + (f"<td>{r['score_mw']:,.1f}</td><td>{100 * r['share']:.1f} %</td>"
               if scored else "")
            + f"<td>{r['mean_loss_mw']:,.1f}</td></tr>" for r in sv["critical_lines"])
        head_cells = ("<th>line</th><th>large cascades it tripped in</th><th>expected loss "
                      "it takes part in (MW)</th><th>share</th><th>mean load lost in those "
                      "(MW)</th>" if scored else
                      "<th>line</th><th>trials</th><th>mean load lost (MW)</th>")
        table = (f'<table id="critical-lines"><thead><tr>{head_cells}</tr></thead>{rows}'
                 "</table>")
        plot = '<div class="plot" id="plot-critical-lines"></div>'
        k = next((i for i, b in enumerate(body) if plot in b), None)
        if k is None:
            body.append(f"<section><h2>Most critical lines</h2>{table}</section>")
        else:
            body[k] = body[k].replace(plot, plot + table)
    head = title or f"Blackout sweep: {s.get('scenario') or s.get('case') or 'trials'}"
    return _page(head, f"generated {dt.datetime.now().isoformat(timespec='seconds')}",
                 "".join(body), [_json_block("plots-data", plots)])


def render_forensics_report(explanation: dict[str, Any], *, title: str | None = None) -> str:
    """The HTML of a forensics report from a ``blackout explain`` result dict."""
    section, plots = forensics_section(explanation)
    head = title or f"Blackout forensics: {explanation.get('evidence') or 'evidence'}"
    return _page(head, f"generated {dt.datetime.now().isoformat(timespec='seconds')}",
                 section, [_json_block("plots-data", plots)])


def load_result(path: Path) -> dict[str, Any]:
    """A run's (or an explanation's) JSON file as a dict (``BlackoutError`` when it is
    neither)."""
    from blackout.inputfiles import CASE_MAX_BYTES, read_text

    # a regular UTF-8 file of at most 256 MiB (a FIFO or /dev/zero is refused, not read)
    text = read_text(path, max_bytes=CASE_MAX_BYTES, what="run result", error=BlackoutError)
    try:
        data = json.loads(text)
    except (json.JSONDecodeError, RecursionError) as exc:
        raise BlackoutError(f"{path}: not a JSON run result ({exc})") from None
    if is_explanation(data):
        return dict(data)
    if isinstance(data, dict) and isinstance(data.get("timeline"), dict):
        data = {**data["timeline"], **{k: v for k, v in data.items() if k != "timeline"}}
    if not isinstance(data, dict) or not {"summary", "events"} <= set(data):
        raise BlackoutError(f"{path}: a run result needs 'summary' and 'events' sections")
    return data


def _case_of(data: dict[str, Any]) -> str | None:
    scen = data.get("scenario")
    case = data.get("case") or (scen.get("case") if isinstance(scen, dict) else None)
    return str(case) if case else None


def write_report(result: Any, path: str | Path, *, grid: Grid | None = None,
                 settings: Any = None, title: str | None = None) -> Path:
    """Write the self-contained HTML report of a run or a sweep to ``path``.

    Parameters
    ----------
    result : a :class:`blackout.Outcome`; a Timeline; a run dict (``Timeline.to_dict()``
        plus optional sections
        ``restoration``, ``critical``, ``scenario``, ``settings``, ``assumptions``,
        ``case``, ``forensics`` (an explanation dict: adds the forensics section)); a
        ``blackout explain`` result (an Explanation or its dict: a forensics report); a
        path to a run's or an explanation's JSON; or a path to a sweep's Parquet
        file/directory.
    path : the HTML file to write.
    grid : the simulated grid (a Timeline carries it; for a dict it is loaded from the
        ``case`` it names when omitted). Without one the map is left out.
    settings : the CascadeSettings used, listed under the model assumptions.

    Returns
    -------
    Path : the file written.

    Raises
    ------
    BlackoutError : the result cannot be read.
    """
    from blackout.cases import load_case

    if isinstance(result, (str, Path)):
        src = Path(result)
        if is_sweep_path(src):
            df, meta = read_sweep(src)
            if grid is None and meta.get("case"):
                grid = load_case(str(meta["case"]))
            text = render_sweep_report(sweep_view(df, meta, grid), title=title)
            return _write(path, text)
        result = load_result(src)
    from blackout.forensics.analysis import Explanation

    if isinstance(result, Explanation):
        result = result.to_dict()
    if is_explanation(result):
        return _write(path, render_forensics_report(result, title=title))
    if hasattr(result, "timeline") and hasattr(result, "restoration"):  # an Outcome
        grid = grid or result.grid
        view = view_data(result, grid, branch_loading_percent=pre_event_loading_percent(grid))
        view.setdefault("assumptions", {"mode": result.timeline.mode})
        if settings is not None:
            view["settings"] = json_safe(_flatten_dict(settings))
        return _write(path, render_report(view, grid, title=title))
    if isinstance(result, dict) and grid is None and _case_of(result):
        grid = load_case(_case_of(result))  # type: ignore[arg-type]
    if grid is None and hasattr(result, "grid"):
        grid = result.grid
    loading = pre_event_loading_percent(grid) if grid is not None else None
    view = view_data(result, grid, branch_loading_percent=loading)
    if settings is not None:
        view["settings"] = json_safe(_flatten_dict(settings))
    elif hasattr(result, "mode"):
        view.setdefault("assumptions", {"mode": result.mode})
    return _write(path, render_report(view, grid, title=title))


def _flatten_dict(settings: Any) -> dict[str, Any]:
    return {k: v for k, v in _flatten(settings)}


def _write(path: str | Path, text: str) -> Path:
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text, encoding="utf-8")
    return out
