"""The report's forensics section: which explanation fits the evidence, and why.

It renders :func:`blackout.forensics.tables.report_data` (posteriors with their Monte
Carlo error, the observation-by-hypothesis reproduction matrix, the deciding and the
non-discriminating observations, the next best observation, both sensitivity tests,
the parameter ranges and the honesty statement). It never simulates: the numbers are
those of a ``blackout explain`` result.
"""

from __future__ import annotations

import html
from typing import Any

__all__ = ["is_explanation", "forensics_section", "format_range"]


def is_explanation(data: Any) -> bool:
    """Whether ``data`` is a ``blackout explain`` result (its ``to_dict()`` / JSON)."""
    return (isinstance(data, dict) and isinstance(data.get("hypotheses"), list)
            and isinstance(data.get("observations"), list)
            and "next_best_observation" in data)


def _esc(v: Any) -> str:
    return html.escape("" if v is None else str(v))


def _pct(v: Any) -> str:
    return "-" if v is None else f"{100.0 * float(v):.0f} %"


def _time_of_day(seconds: float) -> str:
    """Seconds after midnight as HH:MM:SS."""
    whole = int(round(seconds)) % 86400
    return f"{whole // 3600:02d}:{whole // 60 % 60:02d}:{whole % 60:02d}"


def format_range(v: Any, unit: str = "") -> str:
    """A 5/50/95 % triple as 'lo / median / hi' (HH:MM:SS for a ``time of day`` unit,
    seconds after midnight), a share dict as 'option: %'."""
    if isinstance(v, dict):
        return ", ".join(f"{k}: {_pct(x)}" for k, x in v.items())
    if isinstance(v, (list, tuple)):
        if unit == "time of day":
            return " / ".join(_time_of_day(float(x)) for x in v)
        return " / ".join(f"{float(x):,.4g}" for x in v)
    return "" if v is None else str(v)


def _num(v: Any, spec: str) -> str:
    return "-" if v is None else format(float(v), spec)


def _replicates(r: Any) -> str:
    """The seed-stability check: both replicate posteriors and whether they agree."""
    if not isinstance(r, dict):
        return "-"
    verdict = "agree" if r.get("agree") else "DISAGREE (> 2 sd)"
    return f"{float(r['posterior_a']):.3f} / {float(r['posterior_b']):.3f}: {verdict}"


def _failed(rows: list[dict[str, Any]]) -> str:
    """Failed trials (left out of the posterior), each with its seed and error."""
    if not rows:
        return ""
    return ("<h3>Trials the engine could not finish (left out)</h3>"
            + _table(["hypothesis", "trial", "seed", "parameters", "error"],
                     [[f.get("hypothesis"), f.get("trial"), f.get("seed"),
                       ", ".join(f"{k}={v}" for k, v in (f.get("parameters") or {}).items()),
                       f.get("error")] for f in rows[:50]], id_="failed-trials")
            + (f"<p class=\"note\">... and {len(rows) - 50} more (see the JSON).</p>"
               if len(rows) > 50 else ""))


def _method(method: Any) -> str:
    """The inference method as a definition list (a dict) or a note (text)."""
    if not isinstance(method, dict):
        return f'<p class="note">Method: {_esc(method)}</p>'
    rows = "".join(f"<dt>{_esc(k)}</dt><dd>{_esc(v)}</dd>" for k, v in method.items())
    return f'<details id="method"><summary>Method</summary><dl>{rows}</dl></details>'


def _table(head: list[str], rows: list[list[Any]], *, id_: str = "") -> str:
    ident = f' id="{id_}"' if id_ else ""
    hs = "".join(f"<th>{_esc(h)}</th>" for h in head)
    body = "".join("<tr>" + "".join(f"<td>{_esc(c)}</td>" for c in r) + "</tr>" for r in rows)
    return (f'<div class="scroll"><table{ident}><thead><tr>{hs}</tr></thead>'
            f"<tbody>{body}</tbody></table></div>")


def _posterior_figure(bars: list[dict[str, Any]]) -> dict[str, Any]:
    from blackout.report.figures import wrap_label

    names = [wrap_label(b["hypothesis"]) for b in bars]
    return {
        "data": [
            {"type": "bar", "name": "posterior", "x": names,
             "y": [b["posterior"] for b in bars],
             "error_y": {"type": "data", "array": [b["error"] for b in bars],
                         "visible": True}},
            {"type": "bar", "name": "prior", "x": names, "y": [b["prior"] for b in bars],
             "marker": {"color": "#a1a1aa"}},
        ],
        "layout": {"barmode": "group", "height": 380, "margin": {"t": 30, "b": 40},
                   "separators": ".,", "xaxis": {"automargin": True, "tickangle": 0},
                   "yaxis": {"title": {"text": "weight"}, "range": [0, 1]},
                   "title": {"text": "Posterior weight (error bar: Monte Carlo sd)"}},
    }


def _matrix_figure(matrix: dict[str, Any]) -> dict[str, Any]:
    z = [[None if v is None else float(v) for v in row] for row in matrix["reproduced"]]
    obs = [f"{o} (r={r:g})" for o, r in zip(matrix["observations"], matrix["reliability"],
                                            strict=True)]
    return {
        "data": [{"type": "heatmap", "z": z, "x": matrix["hypotheses"], "y": obs,
                  "zmin": 0, "zmax": 1, "colorscale": "Blues", "reversescale": True,
                  "colorbar": {"title": {"text": "share of runs"}}}],
        "layout": {"height": max(300, 28 * len(obs) + 120),
                   "margin": {"l": 360, "t": 30, "b": 40},
                   "yaxis": {"automargin": True, "autorange": "reversed"},
                   "title": {"text": "Share of simulations reproducing each observation"}},
    }


def forensics_section(data: dict[str, Any]) -> tuple[str, list[dict[str, Any]]]:
    """(HTML, plots) of the forensics section for an explanation dict.

    Parameters
    ----------
    data : a ``blackout explain`` result (``Explanation.to_dict()`` or its JSON).

    Returns
    -------
    The section's HTML and its plotly figures as ``[{"id", "figure"}]`` for the page's
    ``plots-data`` block.
    """
    from blackout.forensics.tables import report_data

    d = report_data(data)
    plots = [{"id": "plot-posterior", "figure": _posterior_figure(d["posterior_bars"])},
             {"id": "plot-evidence-matrix", "figure": _matrix_figure(d["matrix"])}]
    parts = [f'<section id="forensics"><h2>{_esc(d["title"])}</h2>',
             f'<p class="note" id="honesty">{_esc(d["honesty"])}</p>',
             f'<p class="note">{d["trials"]} simulations per hypothesis, seed '
             f"{d['seed']}.</p>", _method(d["method"]),
             '<div class="plot" id="plot-posterior"></div>',
             _table(["hypothesis", "posterior", "Monte Carlo sd", "prior", "effective trials",
                     "two replicate runs", "failed trials", "warning"],
                    [[b["hypothesis"], f"{b['posterior']:.3f}", f"{b['error']:.3f}",
                      f"{b['prior']:.3f}", _num(b.get("effective_trials"), ".1f"),
                      _replicates(b.get("replicates")), b.get("trials_failed", 0),
                      b.get("warning") or ""] for b in d["posterior_bars"]],
                    id_="posteriors"),
             _failed(d.get("failed_trials") or []),
             "<h3>Observations that decide it</h3>",
             _table(["observation", "favours", "discrimination (nats)",
                     "posterior shift when dropped", "source"],
                    [[o["name"], o["favours"], f"{o['discrimination']:.2f}",
                      f"{o['posterior_shift']:.3f}", o["source"]] for o in d["deciding"]],
                    id_="deciding"),
             "<h3>Observations that cannot tell the hypotheses apart</h3>",
             _table(["observation", "status", "source"],
                    [[o["name"], o["status"], o["source"]] for o in d["non_discriminating"]],
                    id_="non-discriminating"),
             '<div class="plot" id="plot-evidence-matrix"></div>']
    nb = d["next_best"]
    if nb is not None:
        parts.append(f"<h3>What would decide it next</h3><p>{_esc(nb['name'])}: "
                     f"{_esc(nb['description'])} (expected information gain "
                     f"{nb['bits']:.2f} bits)</p>")
    if d["candidates"]:
        parts.append(_table(["candidate observation", "expected information gain (bits)"],
                            [[c["name"], f"{c['bits']:.3f}"] for c in d["candidates"]],
                            id_="candidates"))
    sens = d["sensitivity"] or {}
    loo = sens.get("leave_one_out") or []
    if loo:
        parts.append("<h3>Sensitivity: drop one observation</h3>")
        parts.append(_table(["dropped", "top hypothesis", "top changed", "posterior"],
                            [[r.get("dropped"), r.get("top"),
                              "yes" if r.get("top_changed") else "no",
                              ", ".join(f"{k} {_pct(x)}"
                                        for k, x in (r.get("posterior") or {}).items())]
                             for r in loo], id_="leave-one-out"))
    pz = sens.get("partisan_zero")
    if isinstance(pz, dict) and pz:
        zeroed = ", ".join(str(z) for z in pz.get("zeroed") or []) or "none"
        post = pz.get("posterior") or {}
        shown = ", ".join(f"{k} {_pct(v)}" for k, v in post.items())
        parts.append(f"<h3>Sensitivity: partisan sources set to reliability 0</h3>"
                     f"<p>Zeroed: {_esc(zeroed)}. Posterior: {_esc(shown)}; top "
                     f"{_esc(pz.get('top'))}.</p>")
    rows = []
    for hyp, params in (d["parameters"] or {}).items():
        for name, p in (params or {}).items():
            prior = p.get("prior_5_50_95", p.get("prior_share"))
            post = p.get("posterior_5_50_95", p.get("posterior_share"))
            unit = str(p.get("unit") or "")
            rows.append([hyp, name, unit, format_range(prior, unit), format_range(post, unit)])
    if rows:
        parts.append("<h3>Parameter ranges (5th, 50th, 95th percentile)</h3>")
        parts.append(_table(["hypothesis", "parameter", "unit", "prior", "posterior"], rows,
                            id_="parameters"))
    if d["warnings"]:
        parts.append("<ul>" + "".join(f"<li>{_esc(w)}</li>" for w in d["warnings"]) + "</ul>")
    parts.append("</section>")
    return "".join(parts), plots
