"""Running a scenario: the cascade, then restoration, in one :class:`Outcome`.

:func:`run_scenario` is the whole job (scenario -> cascade -> restoration -> critical
services); :func:`simulate_scenario` and :func:`simulate_compiled` run only the
cascade (a Timeline); :func:`outcome_of` completes a cascade already run. The CLI's
``blackout run``, the server and the report all consume the :class:`Outcome` it returns,
so nothing assembles a run twice.

Examples
--------
>>> import blackout
>>> out = blackout.run_scenario("venezuela-2019-03-07-fire")     # doctest: +SKIP
>>> out.summary()["load_lost_percent"]                             # doctest: +SKIP
100.0
>>> out.report("fire.html")                                        # doctest: +SKIP
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from blackout.grid.model import Grid
from blackout.scenario.compile import CompiledScenario, compile_scenario, engine_settings
from blackout.scenario.schema import DEFAULT_SCENARIO, Scenario

if TYPE_CHECKING:  # the engine is imported on first use (``blackout --help`` stays fast)
    from blackout.cascade.timeline import Timeline

__all__ = ["Outcome", "engine_settings", "outcome_of", "run_scenario", "simulate_compiled",
           "simulate_scenario"]


@dataclass
class Outcome:
    """A run's result: the cascade's timeline, the restoration and critical services.

    Attributes
    ----------
    timeline : the cascade (:class:`blackout.cascade.Timeline`).
    scenario : ``{"name", "account", "start_time"}`` of a scenario run; None for a run
        of named trips.
    case : the case the scenario names (None for a run of named trips).
    restoration : the restoration's JSON section (hours, curves, interference); None
        when restoration was not simulated.
    critical : the critical services' JSON section (per service: curve, hours down).
    restoration_text : the restoration's summary, for the terminal.
    extra : further top-level JSON sections (e.g. ``sweep_trial``).
    label : what the terminal calls a run that is not a scenario's ("trip X, Y").
    """

    timeline: Timeline
    scenario: dict[str, Any] | None = None
    case: str | None = None
    restoration: dict[str, Any] | None = None
    critical: dict[str, Any] | None = None
    restoration_text: str = ""
    extra: dict[str, Any] = field(default_factory=dict)
    label: str | None = None

    @property
    def grid(self) -> Grid:
        """The grid the cascade ran on."""
        return self.timeline.grid

    def to_dict(self) -> dict[str, Any]:
        """The JSON ``blackout run --format json`` prints: the timeline's ``summary``,
        ``events`` (each with its ``caused_by`` chain and ``detail``) and ``traces``,
        then ``case`` and ``scenario`` (scenario runs), ``restoration`` and ``critical``
        (when simulated) and any extra sections."""
        data: dict[str, Any] = self.timeline.to_dict()
        if self.scenario is not None:
            data["case"] = self.case
            data["scenario"] = dict(self.scenario)
        if self.restoration is not None:
            data["restoration"] = self.restoration
            data["critical"] = self.critical or {}
        data.update(self.extra)
        return data

    def to_frame(self, name: str = "events") -> pd.DataFrame:
        """One table of the run.

        ``"events"``, ``"frequency"``, ``"served_region"``, ``"served_bus"``: the
        timeline's (:meth:`blackout.cascade.Timeline.to_frame`); ``"restoration"``: the
        restoration curve, one row per hour (index ``time_h``; served MW, served %, and
        ``served_percent:<region>`` columns); ``"critical"``: each critical service's
        level in % of normal (index ``time_h``, one column per service).
        """
        if name in ("events", "frequency", "served_region", "served_bus"):
            return self.timeline.to_frame(name)
        if name == "restoration":
            curve = (self.restoration or {}).get("curve") or {}
            if not curve:
                return pd.DataFrame(index=pd.Index([], name="time_h"))
            cols = {k: v for k, v in curve.items() if k != "time_h" and isinstance(v, list)}
            for region, vals in (curve.get("served_percent_by_region") or {}).items():
                cols[f"served_percent:{region}"] = vals
            return pd.DataFrame(cols, index=pd.Index(curve["time_h"], name="time_h"))
        if name == "critical":
            frames = [pd.Series(sec["curve"]["service_percent"],
                                index=pd.Index(sec["curve"]["time_h"], name="time_h"), name=svc)
                      for svc, sec in (self.critical or {}).items()
                      if isinstance(sec, dict) and isinstance(sec.get("curve"), dict)
                      and "service_percent" in sec["curve"]]
            return pd.concat(frames, axis=1) if frames else pd.DataFrame(
                index=pd.Index([], name="time_h"))
        raise ValueError(f"unknown frame {name!r}; use events, frequency, served_region, "
                         "served_bus, restoration, critical")

    def summary(self) -> dict[str, Any]:
        """The cascade's summary (:meth:`Timeline.summary`) with the run's name, case and
        the restoration's headline numbers (``restoration``: hours to 50/90/95 % served,
        energy not served in MWh, person-hours without power; None when not simulated)."""
        out: dict[str, Any] = {"scenario": (self.scenario or {}).get("name"),
                               "case": self.case or self.grid.name,
                               **self.timeline.summary()}
        rest = self.restoration
        out["restoration"] = None if rest is None else {
            "hours_to_percent": rest.get("hours_to_percent"),
            "energy_not_served_mwh": rest.get("energy_not_served_mwh"),
            "person_hours_without_power": rest.get("customer_hours"),
            "nothing_to_restore": rest.get("nothing_to_restore")}
        return out

    def title(self) -> str:
        """The terminal's first line: the run, its case, its start and its engine."""
        tl = self.timeline
        name = (self.scenario or {}).get("name") or self.label or "run"
        start = (self.scenario or {}).get("start_time") or (
            f"t = 0 at {tl.start_clock}" if tl.start_clock else None)
        parts = [f"{name} on {self.case or self.grid.name}"]
        if start:
            parts.append(f"starts {start}")
        parts.append(f"{tl.mode.upper()} engine, {tl.end_time_s:,.0f} s of cascade"
                     + ("" if self.restoration is None else
                        f", {float(self.restoration.get('horizon_h') or 0):,.0f} h of "
                        "restoration"))
        return " \u00b7 ".join(parts)

    def render_text(self) -> str:
        """The run as terminal text (:func:`blackout.report.text.render_run_text`)."""
        from blackout.report.text import render_run_text

        return render_run_text(self.timeline, title=self.title(),
                               restoration_text=self.restoration_text,
                               restoration=self.restoration, critical=self.critical)

    def report(self, path: str | Path) -> Path:
        """Write the self-contained HTML report (the same page as ``blackout run
        --report``); returns the path written."""
        from blackout.report import write_report

        title = f"Blackout report: {self.label}" if self.label and not self.scenario else None
        return write_report(self, path, title=title)


def outcome_of(timeline: Timeline, *, compiled: CompiledScenario | None = None,
               restore: bool = True,
               label: str | None = None) -> Outcome:
    """The Outcome of a cascade already simulated: restoration and critical services
    added when ``restore`` (the compiled scenario's restoration inputs and interference
    when given). ``label`` names a run that is not a scenario's (e.g. "trip X")."""
    sections: dict[str, Any] = {}
    if restore:
        from blackout.restore import run_event

        sections = run_event(timeline.grid, timeline, compiled)
    scenario: dict[str, Any] | None = None
    case = None
    if compiled is not None:
        sc = compiled.scenario
        scenario = {"name": sc.name, "account": sc.account, "start_time": sc.start_time}
        case = sc.case
    return Outcome(timeline=timeline, scenario=scenario, case=case,
                   restoration=sections.get("restoration"), critical=sections.get("critical"),
                   restoration_text=str(sections.get("summary_text") or ""), label=label)


def run_scenario(scenario: Scenario | str | Path | None = None, *, restore: bool = True, **overrides: Any) -> Outcome:
    """Run a scenario end to end: its threats, the cascade, then (``restore``) the
    restoration and the critical services.

    Parameters
    ----------
    scenario : a built-in scenario's name, a scenario file's path, or a
        :class:`blackout.Scenario`; default the 7 March 2019 fire.
    restore : simulate the restoration and critical services after the cascade.
    **overrides : engine settings by name (``mode="dc"``, ``horizon_s=600``, ``seed=3``).

    Returns
    -------
    Outcome

    Raises
    ------
    BlackoutError : the scenario or an override is invalid.
    """
    compiled = compile_scenario(scenario if scenario is not None else DEFAULT_SCENARIO)
    timeline = simulate_compiled(compiled, **overrides)
    return outcome_of(timeline, compiled=compiled, restore=restore)


def simulate_scenario(scenario: Scenario | str | Path, **overrides: Any) -> Timeline:
    """Run a scenario through the cascade engine only and return its Timeline.

    ``overrides`` replace engine settings by name (e.g. ``seed=3``).
    """
    compiled = compile_scenario(scenario)
    return simulate_compiled(compiled, **overrides)


def simulate_compiled(compiled: CompiledScenario, **overrides: Any) -> Timeline:
    """Hand a compiled scenario to the cascade engine; returns its Timeline."""
    from blackout.cascade.engine import simulate

    settings = engine_settings(compiled.settings, **overrides)
    return simulate(compiled.grid, compiled.events, settings=settings)
