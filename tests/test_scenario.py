"""Scenario files: loading, validation errors (file, field, line, what is allowed), compiling."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from blackout.errors import ScenarioError
from blackout.flow.balance import redispatch
from blackout.grid.io import write_case
from blackout.scenario import (
    builtin_scenarios,
    compile_scenario,
    load_scenario,
    scenario_json_schema,
)

_spec = importlib.util.spec_from_file_location(
    "square_conftest", Path(__file__).parent / "threats" / "conftest.py")
assert _spec is not None and _spec.loader is not None
_square = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_square)
square_grid = _square.square_grid

BUILTIN = {"venezuela-2019-03-07-fire", "venezuela-2019-03-07-cyber",
           "venezuela-2019-03-07-neglect", "venezuela-2019-765kv-sabotage",
           "ukraine-2015-style-case39"}


@pytest.fixture(scope="module")
def square_case(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("case") / "square.json"
    write_case(square_grid(), path)
    return path


def write(tmp_path: Path, text: str, name: str = "s.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_builtin_scenarios_are_listed_with_case_and_description() -> None:
    found = builtin_scenarios()
    assert set(found) == BUILTIN
    for info in found.values():
        assert info.case in ("venezuela2019", "case39")
        assert len(info.description) > 40
        sc = load_scenario(info.path)
        assert sc.account and sc.sources, f"{info.name} must say whose account and where"
    assert load_scenario("venezuela-2019-03-07-fire").name == "venezuela-2019-03-07-fire"


def test_compile_resolves_names_and_applies_the_snapshot(tmp_path: Path, square_case: Path
                                                         ) -> None:
    path = write(tmp_path, f"""
name: t
case: {square_case}
horizon_s: 10 min
snapshot:
  load_scale: 0.9
  units_out: [G2]
threats:
  - kind: sabotage
    at_s: 30
    targets: [{{branch: west, repair_h: 12}}]
""")
    cs = compile_scenario(path)
    assert cs.settings["horizon_s"] == 600.0
    assert [(e.time_s, e.action, cs.grid.branch["name"][e.element]) for e in cs.events] == [
        (30.0, "trip", "west")]
    assert cs.grid.load["p_mw"].sum() == pytest.approx(90.0)
    assert not cs.grid.gen["in_service"][1]
    assert cs.grid.gen["p_mw"].tolist() == pytest.approx([90.0, 0.0])  # G1 takes it all
    assert cs.restoration["repairs"][0]["repair_h"] == 12.0


def test_redispatch_respects_limits() -> None:
    import numpy as np

    p = redispatch(np.array([50.0, 50.0, 10.0]), np.zeros(3), np.array([60.0, 100.0, 10.0]),
                   np.array([True, True, False]), 150.0)
    # +50 MW shared in proportion to headroom (10 and 50 MW); the unit that is off stays at 0
    assert p.tolist() == pytest.approx([50 + 50 * 10 / 60, 50 + 50 * 50 / 60, 0.0])
    capped = redispatch(np.array([50.0, 50.0]), np.zeros(2), np.array([60.0, 100.0]),
                        np.array([True, True]), 500.0)
    assert capped.tolist() == pytest.approx([60.0, 100.0])  # cannot meet it: at the limits


BAD = [
    ("case: venezuela2091", r"field case \(line 2\): unknown case 'venezuela2091'.*"
     r"did you mean venezuela2019"),
    ("snapshot: {units_out: [G3]}", r"field snapshot\.units_out\[0\] \(line 3\): no gen named "
     r"'G3' in case square; closest: G2, G1"),
    ("threats:\n  - kind: cyber\n    actions:\n      - {do: trip_units, at_s: -5, units: [G1]}",
     r"field threats\[0\]\.actions\[0\]\.at_s \(line 6\): Input should be greater than or "
     r"equal to 0"),
    ("threats:\n  - kind: cyber\n    actions:\n      - {do: trip_units, at_s: 5 parsecs, "
     "units: [G1]}", r"threats\[0\]\.actions\[0\]\.at_s \(line 6\): unknown time "
     r"unit 'parsecs'.*allowed: s, min, h, d"),
    ("threats:\n  - kind: wildfire\n    polygons:\n      - {time_s: 60, coords: [[0,0],[1,0],"
     "[1,1]]}\n      - {time_s: 30, coords: [[0,0],[1,0],[1,1]]}",
     r"field threats\[0\] \(line 4\): polygon times must be strictly increasing, got "
     r"\[60.0, 30.0\]"),
    ("threats:\n  - kind: wildfire\n    polygons:\n      - time_s: 0\n        coords: "
     "[[0,0],[1,1],[1,0],[0,1]]", r"threats\[0\]\.polygons\[0\]\.coords \(line 7\): invalid "
     r"polygon: Self-intersection.*a simple, non-self-intersecting ring is allowed"),
    ("threats:\n  - kind: wildfire\n    fault_probability_per_min: 1.5\n    ignition: "
     "{lon: 0, lat: 0, spread_m_per_min: 10}", r"threats\[0\]\.fault_probability_per_min "
     r"\(line 5\): Input should be less than or equal to 1"),
    ("protection: {hidden_failure_p: -0.1}", r"protection\.hidden_failure_p \(line 3\): "
     r"Input should be greater than or equal to 0"),
    ("threats:\n  - kind: earthquake", r"field threats\[0\] \(line 4\): Input tag "
     r"'earthquake' found using 'kind' does not match any of the expected tags: 'wildfire', "
     r"'cyber', 'sabotage', 'neglect'"),
    ("horizon: 60", r"top level \(line 1\): unknown field 'horizon'; allowed: account, case, "),
    ("threats:\n  - kind: cyber\n    actions:\n      - {do: block_protection, at_s: 50, "
     "until_s: 10, branches: [west]}", r"threats\[0\]\.actions\[0\] \(line 6\): until_s "
     r"\(10.0\) must be after at_s \(50.0\)"),
    ("horizon_s: 60\nthreats:\n  - kind: sabotage\n    at_s: 120\n    targets: [{unit: G1, "
     "repair_h: 1}]", r"threats\[0\]\.targets\[0\]\.at_s \(line 7\): 120.0 s is after the "
     r"horizon \(60.0 s\)"),
    ("threats:\n  - kind: cyber\n    actions: [{do: trip_units, units: [G9]}]",
     r"threats\[0\]\.actions\[0\]\.units\[0\] \(line 5\): no gen named 'G9'"),
]


@pytest.mark.parametrize(("body", "message"), BAD, ids=[f"bad{i}" for i in range(len(BAD))])
def test_invalid_scenarios_name_file_field_line_and_what_is_allowed(
        tmp_path: Path, square_case: Path, body: str, message: str) -> None:
    text = f"name: bad\n{body}\n" if body.startswith("case") else \
        f"name: bad\ncase: {square_case}\n{body}\n"
    if body.startswith("horizon:"):
        text = f"{body}\nname: bad\ncase: {square_case}\n"
    path = write(tmp_path, text)
    with pytest.raises(ScenarioError, match=message) as info:
        compile_scenario(load_scenario(path))
    assert str(info.value).startswith(str(path) + ": ")
    assert "\n" not in str(info.value)


def test_toml_scenarios_and_format_errors(tmp_path: Path, square_case: Path) -> None:
    ok = write(tmp_path, f'name = "t"\ncase = "{square_case}"\n[[threats]]\nkind = "sabotage"\n'
               f'targets = [{{ unit = "G1", repair_h = 5 }}]\n', "s.toml")
    assert [e.action for e in compile_scenario(ok).events] == ["trip"]
    bad = write(tmp_path, f'name = "t"\ncase = "{square_case}"\nseed = -1\n', "b.toml")
    with pytest.raises(ScenarioError, match=r"b\.toml: field seed: Input should be greater"):
        load_scenario(bad)
    with pytest.raises(ScenarioError, match=r"line 2\): not valid YAML"):
        load_scenario(write(tmp_path, "name: [a\ncase: b: c\n"))
    with pytest.raises(ScenarioError, match=r"unknown scenario format '\.txt'"):
        load_scenario(write(tmp_path, "name: x", "s.txt"))
    with pytest.raises(ScenarioError, match=r"venezuela-2019-03-07-fir: not a scenario file.*"
                                            r"did you mean venezuela-2019-03-07-fire"):
        load_scenario("venezuela-2019-03-07-fir")
    with pytest.raises(ScenarioError, match=r"a scenario is a mapping"):
        load_scenario(write(tmp_path, "- 1\n- 2\n"))


def test_json_schema_names_every_threat_kind() -> None:
    schema = scenario_json_schema()
    text = str(schema)
    for kind in ("WildfireSpec", "CyberSpec", "SabotageSpec", "NeglectSpec"):
        assert kind in text
    assert schema["additionalProperties"] is False


def test_scenario_derive_ratings_takes_the_command_line_grammar() -> None:
    """One ratings grammar for every command and the scenario file (issue: studies)."""
    from blackout.errors import ScenarioError
    from blackout.scenario import compile_scenario, load_scenario

    text = load_scenario({"name": "t", "case": "case118",
                          "snapshot": {"derive_ratings": "1.3,31.7,basis=dc"}})
    mapping = load_scenario({"name": "t", "case": "case118",
                             "snapshot": {"derive_ratings": {"k": 1.3, "floor_mva": 31.7}}})
    assert text.snapshot.derive_ratings == mapping.snapshot.derive_ratings
    rated = compile_scenario(text).grid.branch["rate_a_mva"]
    assert (rated > 0).all()
    with pytest.raises(ScenarioError, match="derive_ratings"):
        load_scenario({"name": "t", "case": "case118", "snapshot": {"derive_ratings": "x"}})
