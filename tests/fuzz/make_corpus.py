"""Writes tests/fuzz/corpus/: issue 24's failing inputs, reproduced from its descriptions.

Run ``python tests/fuzz/make_corpus.py`` to regenerate the files and manifest.json
(they are committed; tests/fuzz/test_corpus.py runs them). Not a test module.
"""
# ruff: noqa: E501, E401, E702, E731
import copy
import json
from pathlib import Path

from blackout.grid.io import read_case, write_case
from blackout.grid.io.native import grid_to_dict

HERE = Path(__file__).parent
C = HERE / "corpus"
C.mkdir(parents=True, exist_ok=True)
base_m = HERE.parent / "data" / "grid" / "malformed" / "base.m"
grid = read_case(base_m)
entries = []
def add(file, argv, expect, note):
    entries.append({"file": file, "argv": argv, "expect": expect, "issue": note})
PF = ["pf", "{file}", "--format", "json"]
# pandapower JSON naming modules
write_case(grid, C / "_pp.json", fmt="pandapower")
pp = json.loads((C / "_pp.json").read_text()); (C / "_pp.json").unlink()
pp["_object"] = {k: v for k, v in pp["_object"].items() if k != "std_types" and not k.startswith("res_")}
d = copy.deepcopy(pp); d["_object"]["zen"] = {"_module": "this", "_class": "function", "_object": "s"}
(C / "pandapower_module_this.json").write_text(json.dumps(d))
add("pandapower_module_this.json", PF, "_module 'this'", "1: a case file runs code (the Zen of Python)")
d = copy.deepcopy(pp); d["_object"]["evil"] = {"_module": "evilmod_corpus", "_class": "f", "_object": "{}"}
(C / "pandapower_local_module.json").write_text(json.dumps(d))
add("pandapower_local_module.json", PF, "_module 'evilmod_corpus'", "1: a local module named by _module is imported and run")
d = copy.deepcopy(pp); fr = json.loads(d["_object"]["line"]["_object"]); fr["data"][0][fr["columns"].index("from_bus")] = 999
d["_object"]["line"]["_object"] = json.dumps(fr)
(C / "pandapower_dangling_bus.json").write_text(json.dumps(d))
add("pandapower_dangling_bus.json", PF, "table 'line', row 0, field 'from_bus'", "fuzz: a line naming no bus segfaulted pandapower's numba code")
d = copy.deepcopy(pp); d["_object"]["f_hz"] = -60
(C / "pandapower_f_hz_negative.json").write_text(json.dumps(d))
add("pandapower_f_hz_negative.json", PF, "f_hz", "5: frequency -60 Hz accepted")
# native JSON
nat = json.loads(json.dumps(grid_to_dict(grid)))
def native(name, mutate, expect, note):
    d = copy.deepcopy(nat); mutate(d)
    (C / name).write_text(json.dumps(d, allow_nan=True))
    add(name, PF, expect, note)
def setcell(t, f, v, row=0):
    def m(d): d[t][f][row] = v
    return m
def setall(t, f, v):
    def m(d): d[t][f] = [v] * len(d[t][f])
    return m
def settop(k, v):
    def m(d): d[k] = v
    return m
native("native_p_nan.json", setcell("load", "p_mw", "nan"), "field 'p_mw'", "4: NaN in native JSON")
native("native_p_NaN_literal.json", setcell("load", "p_mw", float("nan")), "field 'p_mw'", "4: NaN literal in native JSON")
native("native_p_inf.json", setcell("load", "p_mw", float("inf")), "field 'p_mw'", "4: Inf in native JSON")
native("native_p_null.json", setcell("load", "p_mw", None), "field 'p_mw'", "4: null in native JSON")
native("native_p_string.json", setcell("load", "p_mw", "90 MW"), "field 'p_mw'", "4: wrong type in native JSON")
native("native_table_not_list.json", lambda d: d["bus"].__setitem__("vn_kv", 345), "field 'vn_kv'", "4: wrong type in native JSON")
native("native_kv_zero.json", setcell("bus", "vn_kv", 0), "field 'vn_kv'", "4: 0 kV bus (RuntimeError inside lightsim2grid)")
native("native_kv_nan.json", setcell("bus", "vn_kv", "nan"), "field 'vn_kv'", "4: NaN kV bus")
native("native_f_hz_zero.json", settop("f_hz", 0), "f_hz", "5: f_hz 0 gives a 0.0 Hz nadir")
native("native_f_hz_negative.json", settop("f_hz", -60), "f_hz", "5: f_hz -60")
native("native_bus_type_9.json", setcell("bus", "type", 9), "field 'type'", "5: bus type 9 moves the slack")
native("native_pmax_nan.json", setcell("gen", "pmax_mw", "nan"), "field 'pmax_mw'", "5: NaN pmax_mw")
native("native_rating_nan.json", setcell("branch", "rate_a_mva", "nan"), "field 'rate_a_mva'", "5: NaN rating")
native("native_version_999.json", settop("version", 999), "version", "5: version 999 accepted")
native("native_bus_number_1e20.json", setcell("bus", "number", 1e20), "field 'number'", "5: bus 1e20 reported as -9223372036854775808")
native("native_inertia_negative.json", setall("gen", "inertia_h_s", -5), "field 'inertia_h_s'", "2: every inertia_h_s -5 (10+ min, 2.3 GB)")
native("native_qmin_above_qmax.json", lambda d: (d["gen"].__setitem__("qmin_mvar", [500.0] * len(d["gen"]["qmin_mvar"]))), "qmax_mvar below qmin_mvar", "fuzz: lightsim2grid RuntimeError")
(C / "native_deep_nesting.json").write_text("[" * 5000 + "]" * 5000)
add("native_deep_nesting.json", PF, "nested too deeply", "4: deep nesting -> RecursionError")
# MATPOWER
text = base_m.read_text()
def mfile(name, old, new, expect, note):
    assert old in text, old
    (C / name).write_text(text.replace(old, new, 1))
    add(name, PF, expect, note)
mfile("matpower_1e300.m", "\t2\t1\t90\t30", "\t2\t1\t1e300\t30", "out of range", "4: 1e300 in a .m (FloatingPointError)")
mfile("matpower_comma.m", "0.085", "0,085", "comma inside a matrix", "5: '1,2' read as 1.2")
mfile("matpower_bus_1e20.m", "\t3\t2\t0\t0", "\t1e20\t2\t0\t0", "bus number 1e+20", "5: bus 1e20")
mfile("matpower_nan.m", "\t2\t1\t90\t30", "\t2\t1\tNaN\t30", "non-finite", "4: NaN in a .m")
mfile("matpower_kv_zero.m", "345\t1\t1.1", "0\t1\t1.1", "field 'vn_kv'", "4: 0 kV bus")
(C / "matpower_latin1.m").write_bytes(text.replace("function mpc = base", "function mpc = base % caf\xe9").encode("latin-1"))
add("matpower_latin1.m", PF, "not UTF-8", "4: non-UTF-8 file")
(C / "matpower_utf16.m").write_bytes(text.encode("utf-16"))
add("matpower_utf16.m", PF, "UTF-16", "4: UTF-16 file")
# scenarios
RUN = ["run", "{file}", "--format", "json"]
(C / "scenario_latin1.yaml").write_bytes(b"name: caf\xe9\ncase: case39\n")
add("scenario_latin1.yaml", RUN, "not UTF-8", "4: printf 'name: caf\\xe9\\ncase: case39\\n' > b.yaml; blackout run b.yaml")
(C / "scenario_utf16.yaml").write_bytes("name: x\ncase: case39\n".encode("utf-16"))
add("scenario_utf16.yaml", RUN, "UTF-16", "4: UTF-16 scenario")
(C / "scenario_deep.yaml").write_text("a: " + "[" * 5000 + "]" * 5000 + "\n")
add("scenario_deep.yaml", RUN, "nested too deeply", "4: deep nesting -> RecursionError")
(C / "scenario_wildfire_step.yaml").write_text("name: fire\ncase: case39\nhorizon_s: 600\nthreats:\n  - kind: wildfire\n    ignition: {lon: 0, lat: 0, spread_m_per_min: 50}\n    step_s: 1e-9\n")
add("scenario_wildfire_step.yaml", RUN, "step_s", "2: wildfire step_s 1e-9 (never ends)")
(C / "scenario_oscillate_period.yaml").write_text('name: oscillate\ncase: case39\nhorizon_s: 600\nthreats:\n  - kind: cyber\n    actions:\n      - {do: oscillate_setpoint, units: ["gen 30"], amplitude_mw: 10, period_s: 1e-6}\n')
add("scenario_oscillate_period.yaml", RUN, "period_s", "2: oscillate_setpoint period_s 1e-6")
(C / "scenario_horizon.yaml").write_text('name: long\ncase: case39\nhorizon_s: 1e12\nthreats:\n  - kind: cyber\n    actions:\n      - {do: open_breakers, branches: ["4-14"]}\n')
add("scenario_horizon.yaml", RUN, "horizon_s", "2: horizon_s 1e12")
# evidence
EXPLAIN = ["explain", "{file}", "--format", "json", "--trials", "1", "--workers", "1"]
ev = "name: probe\nobservations:\n  - name: lost\n    source: operator\n    observable: {{kind: load_lost_percent{at}}}\n    range: {rng}\n"
(C / "evidence_at_nan.yaml").write_text(ev.format(at=", at: .nan", rng="[0, 10]"))
add("evidence_at_nan.yaml", EXPLAIN, "observable.at", "5: evidence at: .nan accepted")
(C / "evidence_at_negative.yaml").write_text(ev.format(at=", at: -5", rng="[0, 10]"))
add("evidence_at_negative.yaml", EXPLAIN, "observable.at", "5: evidence at: -5 accepted")
(C / "evidence_range_inf.yaml").write_text(ev.format(at="", rng="[-.inf, .inf]"))
add("evidence_range_inf.yaml", EXPLAIN, "range values must be finite", "4: evidence range [-.inf, .inf] failed only after every simulation")
(C / "evidence_latin1.yaml").write_bytes(b"name: caf\xe9\n")
add("evidence_latin1.yaml", EXPLAIN, "not UTF-8", "4: non-UTF-8 evidence")
# CLI options (no file)
for argv, expect, note in [
    (["run", "--case", "case39", "--trip", "4-14", "--at", "nan"], "--at", "5: --at nan: nothing trips, exit 0"),
    (["run", "--case", "case39", "--trip", "4-14", "--at", "inf"], "--at", "5: --at inf"),
    (["run", "--case", "case39", "--trip", "4-14", "--at", "1000", "--horizon", "60"], "--at", "5: --at after the horizon"),
    (["run", "--case", "case39", "--trip", "4-14", "--horizon", "nan"], "--horizon", "4: --horizon nan"),
    (["explain", "--seed", "-5"], "--seed", "4: explain --seed -5"),
    (["explain", "--workers", "-1"], "--workers", "4: explain --workers -1"),
    (["n1", "case9", "--dc", "--screen-pct", "nan"], "--screen-pct", "fuzz: n1 --screen-pct nan accepted (exit 0)"),
    (["n1", "case9", "--dc", "--trip-multiple", "nan"], "--trip-multiple", "fuzz: n1 --trip-multiple nan: internal error (NaN in the JSON)"),
    (["nk", "case9", "-k", "2", "--sample", "5", "--seed", "-1"], "--seed", "fuzz: nk --seed -1: internal error"),
    (["nk", "case9", "-k", "2", "--sample", "5", "--trip-multiple", "inf"], "--trip-multiple", "fuzz: nk --trip-multiple inf: internal error"),
    (["pf", "case9", "--fmt", "json"], "No such option", "click's usage errors: one line"),
]:
    entries.append({"file": None, "argv": argv, "expect": expect, "issue": note})
(C / "manifest.json").write_text(json.dumps({
    "_comment": "Regression inputs reproduced from issue 24's descriptions (and what the fuzz suite found). Each runs `blackout ARGV` ({file} = the file here) and must exit 2 with one line containing `expect`. tests/fuzz/test_corpus.py runs them; the directory, FIFO and /dev/zero probes are made at test time.",
    "entries": entries}, indent=1))
print(len(entries))
