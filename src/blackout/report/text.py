"""A run as text for the terminal: a header, the events grouped, the summary.

What a person reads after ``blackout run``: one header line naming the run, the case
and the start; the events in time order with groups folded into one line each (a UFLS
or voltage stage over many regions, the units that trip together on one setting);
each cause chain's initiating event tagged once (``[A]``) and referred to by its tag;
warnings counted once each; the restoration's summary. Nothing here runs physics.
"""

from __future__ import annotations

import re
from collections import Counter
from typing import TYPE_CHECKING, Any

from blackout.report.frames import clock_label

if TYPE_CHECKING:
    from blackout.cascade.timeline import Timeline


__all__ = ["render_run_text", "ACTION_WORDS", "MECHANISM_WORDS", "GROUP_WINDOW_S"]

#: what each event action is called in text
ACTION_WORDS: dict[str, str] = {
    "trip": "tripped", "shed": "shed", "close": "closed", "restore": "restored",
    "derate": "derated", "set_p": "output setpoint changed",
    "set_droop": "governor droop changed", "block_ufls": "under-frequency load shedding "
    "blocked",
}
#: what each load-loss mechanism is called in text
MECHANISM_WORDS: dict[str, str] = {
    "ufls": "under-frequency load shedding", "uvls": "under-voltage load shedding",
    "voltage_collapse": "voltage collapse", "operator": "operator shedding",
    "tripped": "tripped supply", "shortfall": "generation shortfall",
    "unit_trips_hydro": "hydro unit trips", "unit_trips_thermal": "thermal unit trips",
}
#: events this close (s) to a group's first event may join it
GROUP_WINDOW_S = 1.0
#: kinds whose events fold into groups with the same setting and parent
_GROUPED_KINDS = ("gen", "region", "load", "bus")
#: branches (each usually matters) fold only when this many trip together for one reason
#: (a hidden-failure sweep: dozens of relays misoperating in one instant)
MIN_BRANCH_GROUP = 4


def _words(mechanism: str) -> str:
    if mechanism in MECHANISM_WORDS:
        return MECHANISM_WORDS[mechanism]
    return mechanism.replace("_", " ")


def _group_key(tl: Timeline, i: int) -> tuple[Any, ...] | None:
    e = tl.events[i]
    d = e.detail
    if e.kind == "branch":  # same reason word for word, any parent
        return (e.kind, e.action, e.cause, str(d.get("why") or ""))
    if e.kind not in _GROUPED_KINDS:
        return None
    return (e.kind, e.action, e.cause, d.get("mechanism"), d.get("stage_hz"),
            d.get("threshold_hz"), e.caused_by)


def _groups(tl: Timeline) -> list[list[int]]:
    """Event indices folded into groups: same kind, action, cause, stage or setting and
    parent, within :data:`GROUP_WINDOW_S` of the group's first event."""
    groups: list[list[int]] = []
    open_: dict[tuple[Any, ...], int] = {}
    for i, e in enumerate(tl.events):
        key = _group_key(tl, i)
        k = open_.get(key) if key is not None else None
        if k is not None and e.time_s - tl.events[groups[k][0]].time_s <= GROUP_WINDOW_S:
            groups[k].append(i)
            continue
        if key is not None:
            open_[key] = len(groups)
        groups.append([i])
    out: list[list[int]] = []
    for g in groups:  # a few branches tripping together keep a line each
        if tl.events[g[0]].kind == "branch" and 1 < len(g) < MIN_BRANCH_GROUP:
            out += [[i] for i in g]
        else:
            out.append(g)
    return sorted(out, key=lambda g: g[0])


def _name(tl: Timeline, i: int) -> str:
    e = tl.events[i]
    if e.element < 0 and e.kind != "island":
        return "every region" if e.action == "block_ufls" else "all"
    return str(tl.element_name(e))


def _why(tl: Timeline, i: int) -> str:
    e = tl.events[i]
    return str(e.detail.get("why") or e.cause)


def _line(tl: Timeline, group: list[int], clock: str, tags: dict[int, str]) -> str:
    first = tl.events[group[0]]
    verb = ACTION_WORDS.get(first.action, first.action.replace("_", " "))
    why = _why(tl, group[0])
    if len(group) == 1:
        if first.action.startswith("set_") or first.action == "block_ufls":
            text = f"{clock}  {_name(tl, group[0])}: {verb} ({first.cause})"
        else:
            text = f"{clock}  {_name(tl, group[0])} {verb}: {why}"
    else:
        names = [_name(tl, i) for i in group]
        mw = sum(float(tl.events[i].detail.get("mw") or 0.0) for i in group)
        stage = first.detail.get("stage_hz")
        if first.action == "shed" and stage is not None:
            mech = str(first.detail.get("mechanism") or first.cause).upper()
            share = f"{100.0 * float(first.value):.1f} % of load" if first.value else "load"
            text = (f"{clock}  {mech} {float(stage):g} Hz stage: {share} shed in "
                    f"{len(group)} {first.kind}s ({mw:,.0f} MW): {', '.join(names)}")
        else:
            what = {"gen": "units", "region": "regions", "load": "loads",
                    "branch": "branches"}.get(first.kind, f"{first.kind}s")
            if first.action.startswith("set_") or first.action == "block_ufls":
                text = (f"{clock}  {verb} on {len(group)} {what} ({first.cause}): "
                        f"{', '.join(names)}")
            else:
                text = f"{clock}  {len(group)} {what} {verb}: {why}: {', '.join(names)}"
    tag = next((tags[i] for i in group if i in tags), None)
    if tag:
        text += f" [{tag}]"
    parents = {tl.events[i].caused_by for i in group} - set(group)
    roots = {tl.chain(i)[-1] for i in group if tl.events[i].caused_by is not None}
    parent_i = next(iter(parents)) if len(parents) == 1 else None
    if parent_i is not None:
        parent = tl.events[parent_i]
        text += f", after {tl.element_name(parent)} {parent.action}"
        root = next(iter(roots)) if len(roots) == 1 else None
        if root in tags and root != parent_i:
            text += f" [{tags[root]}]"
    elif len(parents) > 1:
        text += ", each after an earlier trip (chains in the JSON and the report)"
        if len(roots) == 1 and next(iter(roots)) in tags and tags[next(iter(roots))] != tag:
            text += f" [{tags[next(iter(roots))]}]"
    return text


def _tags(tl: Timeline) -> dict[int, str]:
    """Initiating events that started a chain, tagged A, B, ... in time order."""
    roots = sorted({tl.chain(i)[-1] for i, e in enumerate(tl.events) if e.caused_by is not None})
    return {r: _tag(k) for k, r in enumerate(roots)}


def _tag(k: int) -> str:
    letters = ""
    k += 1
    while k:
        k, rem = divmod(k - 1, 26)
        letters = chr(65 + rem) + letters
    return letters


def _clock(tl: Timeline, time_s: float, shared: bool) -> str:
    label = clock_label(tl.start_clock, time_s, tenths=shared)
    return label if tl.start_clock else f"t+{time_s:.2f} s" if shared else f"t+{time_s:.1f} s"


def _counted(messages: list[str]) -> list[tuple[str, int]]:
    """Messages that differ only in their numbers, counted once each (first kept)."""
    first: dict[str, str] = {}
    counts: Counter[str] = Counter()
    for m in messages:
        key = re.sub(r"\d+(\.\d+)?", "#", m)
        first.setdefault(key, m)
        counts[key] += 1
    return [(first[k], counts[k]) for k in first]


def _summary(tl: Timeline) -> list[str]:
    s = tl.summary()
    lines = [""]
    for w, n in _counted(list(tl.warnings)):
        lines.append(f"warning{f' ({n} times, first shown)' if n > 1 else ''}: {w}")
    for m, n in _counted(list(tl.modelling_notes)):
        lines.append(f"modelling shortcut{f' ({n} times)' if n > 1 else ''}: {m}")
    lines.append(f"load lost: {s['load_lost_mw']:,.0f} MW ({s['load_lost_percent']:.1f} %)"
                 + (f"; regions dark: {len(s['regions_dark'])} of {s['regions_total']}"
                    if s["regions_total"] else ""))
    mech = ", ".join(f"{_words(k)} {v:,.0f} MW" for k, v in s["load_lost_by_mechanism_mw"].items()
                     if v > 0.5)
    if mech:
        lines.append(f"by mechanism: {mech}")
    if s["time_to_collapse_s"] is not None:
        lines.append("collapse (served < 10 %) at "
                     f"{_clock(tl, float(s['time_to_collapse_s']), False)}")
    return lines


def _restoration_lines(text: str, restoration: dict[str, Any] | None,
                       critical: dict[str, Any] | None) -> list[str]:
    """The restoration summary without empty list lines ("darkest regions:" with none),
    and one line saying why a service's person-hours may exceed the total."""
    out = [ln for ln in text.splitlines() if not re.search(r":\s*$", ln)]
    total = float((restoration or {}).get("customer_hours") or 0.0)
    over = [name for name, sec in (critical or {}).items()
            if isinstance(sec, dict) and float(sec.get("person_hours_lost") or 0.0) > total > 0]
    if over:
        out.append(f"note: {', '.join(over)} person-hours count everyone the service reaches "
                   "while it is down, including where it fails on what it depends on (power "
                   "elsewhere, telecom), so they can exceed the person-hours without power")
    return out


def render_run_text(tl: Timeline, *, title: str | None = None, restoration_text: str = "",
                    restoration: dict[str, Any] | None = None,
                    critical: dict[str, Any] | None = None) -> str:
    """The run as terminal text.

    Parameters
    ----------
    tl : the cascade's Timeline.
    title : the first line (the scenario, the case and the start); none when None.
    restoration_text : the restoration's summary text (``blackout.restore`` writes it).
    restoration, critical : the restoration's and critical services' JSON sections, to
        explain totals that count different things.

    Returns
    -------
    str : lines joined by newlines.
    """
    lines = [title] if title else []
    groups = _groups(tl)
    seconds = Counter(int(tl.events[g[0]].time_s) for g in groups)
    times: dict[int, set[float]] = {}
    for g in groups:  # sub-second labels where two lines share a second at different times
        t = tl.events[g[0]].time_s
        times.setdefault(int(t), set()).add(round(t, 2))
    tags = _tags(tl)
    for g in groups:
        t = float(tl.events[g[0]].time_s)
        shared = seconds[int(t)] > 1 and len(times[int(t)]) > 1
        lines.append(_line(tl, g, _clock(tl, t, shared), tags))
    lines += _summary(tl)
    if restoration_text:
        lines += [""] + _restoration_lines(restoration_text, restoration, critical)
    return "\n".join(lines)
