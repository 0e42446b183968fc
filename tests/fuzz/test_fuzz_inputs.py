"""Fuzzed scenario files, evidence files and CLI options.

Scenarios run through ``blackout run FILE`` on case9 (a sabotage of one line, or a
cyber attack: blinded operator, breakers opened, a setpoint oscillated); the
command-line options through ``blackout run --case case9 --trip 4-5 --at T
--horizon H`` and ``blackout explain`` with out-of-range values; evidence files
through :func:`blackout.forensics.load_evidence` (where ``explain`` validates them,
before any simulation). The outcome is a valid run or exit 2 with one line (an
EvidenceError for evidence), never an internal error, never a hang.
"""

from __future__ import annotations

import copy
import math
from pathlib import Path
from typing import Any

import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from blackout.errors import BlackoutError
from blackout.forensics import load_evidence

FUZZ = settings.get_profile("blackout-fuzz")

SCENARIO: dict[str, Any] = {
    "name": "fuzz-case9",
    "case": "case9",
    "horizon_s": 120,
    "seed": 1,
    "threats": [{"kind": "sabotage", "name": "s", "at_s": 1, "method": "explosive",
                 "targets": [{"branch": "4-5", "repair_h": 2}]}],
}
CYBER: dict[str, Any] = {
    "name": "fuzz-cyber",
    "case": "case9",
    "horizon_s": 120,
    "seed": 2,
    "threats": [{"kind": "cyber", "actions": [
        {"do": "blind_operator", "at_s": 0, "mode": "frozen"},
        {"do": "open_breakers", "at_s": 1, "spacing_s": 5, "branches": ["4-5", "6-7"]},
        {"do": "oscillate_setpoint", "units": ["gen 2"], "amplitude_mw": 10, "period_s": 10,
         "duration_s": 60},
    ]}],
}
EVIDENCE: dict[str, Any] = {
    "name": "fuzz",
    "observations": [{
        "name": "lost", "source": "operator", "reliability": 0.8,
        "observable": {"kind": "load_lost_percent", "at": 60},
        "range": [0, 10], "tolerance": 2.0,
    }, {
        "name": "first", "source": "press",
        "observable": {"kind": "trip_time", "select": {"branches": ["4-5"]}},
        "range": ["16:50", "16:55"],
    }],
    "candidates": [{"name": "nadir", "observable": {"kind": "frequency_nadir"},
                    "bins": [59.0, 59.5, 60.0]}],
}
#: What a careless or hostile file puts where a value belongs (YAML side).
YAML_VALUES = st.one_of(
    st.sampled_from([None, math.nan, math.inf, -math.inf, 0, -1, -5, 1e-9, 1e-6, 1e12, 1e300,
                     2**70, "x", "", [], {}, True, "16:53", "99:99", [1, 2, 3],
                     {"kind": "cyber"}]),
    st.floats(allow_nan=True, allow_infinity=True),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.text(max_size=20),
)


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every path to a value in nested dicts/lists."""
    out = [prefix] if prefix else []
    if isinstance(value, dict):
        for k, v in value.items():
            out += _paths(v, (*prefix, k))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            out += _paths(v, (*prefix, i))
    return out


@st.composite
def mutated_yaml(draw: st.DrawFn, base: dict[str, Any]) -> bytes:
    data = copy.deepcopy(base)
    op = draw(st.sampled_from(["set", "set", "set", "delete", "extra", "raw"]))
    if op == "raw":
        raw = yaml.safe_dump(data).encode()
        at = draw(st.integers(0, len(raw)))
        return raw[:at] + draw(st.sampled_from([b"\xe9", b"\x00", b"\t", b": [", b"!!python/"
                                                b"object/apply:os.system ['true']", b"&a [*a]",
                                                b"\xff\xfe"])) + raw[at:]
    path = draw(st.sampled_from(_paths(data)))
    parent = data
    for key in path[:-1]:
        parent = parent[key]
    if op == "set":
        parent[path[-1]] = draw(YAML_VALUES)
    elif op == "delete":
        del parent[path[-1]]
    elif isinstance(parent, dict):
        parent[draw(st.sampled_from(["unknown_field", "horizon", "typo_s"]))] = 1
    return yaml.safe_dump(data, allow_unicode=True).encode()


@settings(FUZZ)
@given(content=st.one_of(mutated_yaml(SCENARIO), mutated_yaml(CYBER)), restore=st.booleans())
def test_scenario_files(cli, tmp_path: Path, content: bytes, restore: bool) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "fuzz.yaml"
    path.write_bytes(content)
    cli("run", str(path), "--format", "json", "--restore" if restore else "--no-restore").check()


@settings(FUZZ)
@given(content=mutated_yaml(EVIDENCE))
def test_evidence_files(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "fuzz.yaml"
    path.write_bytes(content)
    try:
        evidence = load_evidence(path)
    except BlackoutError as exc:
        assert "\n" not in str(exc).strip() and str(path) in str(exc)
        return
    for obs in evidence.observations:  # what was accepted is usable: finite, ordered
        low, high = obs.range
        assert math.isfinite(low) and math.isfinite(high) and low <= high
        at = obs.observable.at
        assert at is None or (math.isfinite(at) and at >= 0)


TIMES = st.one_of(st.sampled_from(["nan", "inf", "-inf", "-5", "0", "1", "30", "1000",
                                   "1e300", "1e12", "-0", "abc", ""]),
                  st.floats(min_value=-1e3, max_value=4e3).map(repr))


@settings(FUZZ)
@given(at=TIMES, horizon=st.one_of(st.none(), TIMES), dc=st.booleans())
def test_run_options(cli, at: str, horizon: str | None, dc: bool) -> None:  # type: ignore[no-untyped-def]
    args = ["run", "--case", "case9", "--trip", "4-5", "--at", at, "--format", "json",
            "--no-restore", *(["--dc"] if dc else [])]
    if horizon is not None:
        if horizon not in ("1e12", "1e300", "inf") and _finite(horizon) and \
                float(horizon) > 4e3:
            horizon = "4000"  # keep each run short; the bound itself is tested apart
        args += ["--horizon", horizon]
    cli(*args).check()


def _finite(text: str) -> bool:
    try:
        return math.isfinite(float(text))
    except ValueError:
        return False


@settings(FUZZ)
@given(option=st.sampled_from(["--seed", "--workers", "--trials"]),
       value=st.integers(min_value=-(2**70), max_value=0))
def test_explain_options_out_of_range(cli, option: str, value: int) -> None:  # type: ignore[no-untyped-def]
    if option == "--seed" and value == 0:
        value = -1
    outcome = cli("explain", option, str(value), "--format", "json")
    outcome.check()
    assert outcome.exit_code == 2


@settings(FUZZ)
@given(command=st.sampled_from([["n1", "case9", "--dc"], ["nk", "case9", "-k", "2",
                                                          "--sample", "3"]]),
       option=st.sampled_from(["--trip-multiple", "--screen-pct", "--worsened-threshold",
                               "--seed", "--top"]),
       value=st.sampled_from(["nan", "inf", "-inf", "-1", "-1e300", "abc", ""]))
def test_study_options_out_of_range(cli, command: list[str], option: str, value: str) -> None:  # type: ignore[no-untyped-def]
    n1_only, nk_only = {"--screen-pct", "--worsened-threshold"}, {"--seed"}
    if (command[0] == "nk" and option in n1_only) or (command[0] == "n1" and option in nk_only):
        option = "--trip-multiple"
    if option in ("--seed", "--top") and value in ("nan", "inf", "-inf", "-1e300"):
        value = "-1"
    outcome = cli(*command, option, value, "--format", "json")
    outcome.check()
    assert outcome.exit_code == 2
