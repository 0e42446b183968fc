"""Scenarios: a file's schema, reading it, compiling it on its case, running it.

A scenario names a case, snapshot overrides (load scaling, units and branches out,
fuel-limited plants), threats with their timing, operator behaviour, protection
overrides, the horizon and the random seed.

- :mod:`~blackout.scenario.schema`: the pydantic model (:class:`Scenario`,
  :class:`Snapshot`, :class:`OperatorSpec`, :class:`ProtectionSpec`).
- :mod:`~blackout.scenario.load`: :func:`load_scenario` validates a file; every problem
  is a :class:`~blackout.errors.ScenarioError` naming the file, the field path (and
  line, for YAML) and what is allowed; :func:`builtin_scenarios`.
- :mod:`~blackout.scenario.compile`: :func:`compile_scenario` resolves names on the
  case and runs the threat models (no physics).
- :mod:`~blackout.scenario.run`: :func:`run_scenario` runs it end to end into an
  :class:`Outcome` (cascade, restoration, critical services); :func:`simulate_scenario`
  runs the cascade only (a Timeline).

See docs/scenarios.md for the format and the threat models' assumptions.
"""

from blackout.scenario.compile import (
    CompiledScenario,
    apply_snapshot,
    compile_scenario,
    engine_settings,
    load_case_of,
    resolve_scenario,
)
from blackout.scenario.load import (
    ScenarioInfo,
    builtin_scenarios,
    load_scenario,
    scenario_json_schema,
    validate_scenario,
)
from blackout.scenario.run import (
    Outcome,
    outcome_of,
    run_scenario,
    simulate_compiled,
    simulate_scenario,
)
from blackout.scenario.schema import (
    DEFAULT_SCENARIO,
    DeriveRatings,
    FuelLimit,
    Operator,
    OperatorSpec,
    Protection,
    ProtectionSpec,
    Scenario,
    Snapshot,
)

__all__ = [
    "DEFAULT_SCENARIO",
    "CompiledScenario",
    "DeriveRatings",
    "FuelLimit",
    "Operator",
    "OperatorSpec",
    "Outcome",
    "Protection",
    "ProtectionSpec",
    "Scenario",
    "ScenarioInfo",
    "Snapshot",
    "apply_snapshot",
    "builtin_scenarios",
    "compile_scenario",
    "engine_settings",
    "load_case_of",
    "load_scenario",
    "outcome_of",
    "resolve_scenario",
    "run_scenario",
    "scenario_json_schema",
    "simulate_compiled",
    "simulate_scenario",
    "validate_scenario",
]
