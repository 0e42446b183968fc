"""Where the compiled cascade loop spends its time, by phase (one thread). Prints; not a test.

Builds a copy of ``blackout.study.fastdc._compiled.loop`` whose scenario loop reads the CPU's
cycle counter around each phase (starting a scenario, a Woodbury round, islands and
re-balance, assembling B, the batched LDL^T, flows and check), runs the benchmark's
random N-2 sets on one thread, and prints each phase's share and microseconds per cascade.
The copy is compiled fresh (no cache), so the first call takes a while.

Run: ``python benchmarks/profile_cascades.py [CASE] [K] [SETS]`` (default case2869pegase
2.0 2000: the issue's workload of bench_study.py).
"""

from __future__ import annotations

import inspect
import sys
import time
import types
from typing import Any

import numpy as np

PHASES = {  # a call in _cascades -> phase name
    "_start(ws, nxt": "start a scenario",
    "woodbury_round(ws": "Woodbury round (split re-balance, base solve, update, check)",
    "_prepare(ws": "islands (union-find) and re-balance",
    "_assemble(ws": "assemble B",
    "_interleave(mats": "interleave the batch",
    "batch_solve(grid": "batched LDL^T and solves",
    "_flows(ws": "flows and check",
}

COUNTER = '''
from llvmlite import ir as _ir
from numba.core import cgutils as _cg, types as _ty
from numba.extending import intrinsic as _intrinsic


@_intrinsic
def _cycles(typingctx):
    def codegen(context, builder, signature, args):
        fn = _cg.get_or_insert_function(builder.module, _ir.FunctionType(_ir.IntType(64), []),
                                        "llvm.readcyclecounter")
        return builder.call(fn, [])
    return _ty.uint64(), codegen
'''


def _instrumented() -> types.ModuleType:
    from blackout.study.fastdc._compiled import loop as cascade_kernel
    src = inspect.getsource(cascade_kernel).replace("cache=True", "cache=False")
    src = src.replace("@njit(parallel=True, cache=False)\ndef _cascades(",
                      "@njit(cache=False)\ndef _cascades(")
    head = "outs: Outputs) -> None:  # pragma: no cover - compiled\n"
    assert src.count(head) == 1, "the loop's signature changed: update this script"
    src = src.replace(head, head.replace("outs: Outputs)", "outs: Outputs, prof: np.ndarray)"))
    for i, call in enumerate(PHASES):
        if call not in src[src.index("def _cascades("):]:
            print(f"(phase not found in this loop, not timed: {PHASES[call]})")
            continue
        at = src.index(call, src.index("def _cascades("))
        line = src[src.rindex("\n", 0, at) + 1:at]
        indent = line[:len(line) - len(line.lstrip())]
        if line.strip() == "if not":  # `if not woodbury_round(...):` -> time it first
            at -= len("if not ")
            call_at = at + len("if not ")
        else:
            assert not line.strip(), f"{call}: expected a call on its own line"
            call_at = at
        end, depth = src.index("(", call_at), 0
        while True:
            depth += {"(": 1, ")": -1}.get(src[end], 0)
            if depth == 0:
                break
            end += 1
        stmt = src[call_at:end + 1]
        timed = (f"_t0 = _cycles()\n{indent}_r = {stmt}\n{indent}prof[{i}] += _cycles() - _t0\n"
                 f"{indent}prof[{len(PHASES) + i}] += 1\n")
        src = src[:at] + timed + indent + ("if not _r" if call_at != at else "_r") + \
            src[end + 1:]
    mod = types.ModuleType("cascade_kernel_profiled")
    src = src.replace("from __future__ import annotations\n", "")
    exec(compile(COUNTER + src, "cascade_kernel_profiled", "exec"), mod.__dict__)  # noqa: S102
    return mod


def main() -> None:
    case = sys.argv[1] if len(sys.argv) > 1 else "case2869pegase"
    k = float(sys.argv[2]) if len(sys.argv) > 2 else 2.0
    n = int(sys.argv[3]) if len(sys.argv) > 3 else 2000
    from blackout import load_case
    from blackout.flow.ratings import derive_ratings
    from blackout.study.fastdc.engine import _initiating_sets
    from blackout.study.fastdc.model import DCModel, balanced_grid

    ck = _instrumented()
    model = DCModel.build(derive_ratings(balanced_grid(load_case(case)), k=k, floor_mva=31.7,
                                         override_given=True))
    rng = np.random.default_rng(2026)
    live = np.flatnonzero(model.live)
    events = [sorted(rng.choice(live, 2, replace=False).tolist()) for _ in range(n)]
    plan = ck.plan_of(model)
    limit = np.where(model.rate_mva > 0, model.rate_mva / model.base_mva, np.inf)
    _, ptr, flat = _initiating_sets(events, model.n_branch)

    def run(p: np.ndarray, f: np.ndarray, prof: np.ndarray) -> None:
        """run_block's call of the loop, with the counters."""
        calls: list[tuple[Any, ...]] = []
        real = getattr(ck, "_cascades")  # noqa: B009 (a module built at run time)
        setattr(ck, "_cascades", lambda *args: calls.append(args))  # noqa: B010 (capture)
        try:
            ck.run_block(plan, p, f, limit, 1000)
        finally:
            setattr(ck, "_cascades", real)  # noqa: B010
        args = list(calls[0])
        args[0] = 1  # one chunk: one thread
        real(*args, prof)

    run(ptr[:6], flat[:ptr[5]], np.zeros(2 * len(PHASES)))  # compiles
    prof_calls = np.zeros(2 * len(PHASES))
    t0 = time.perf_counter()
    run(ptr, flat, prof_calls)
    wall = time.perf_counter() - t0
    prof, calls = prof_calls[:len(PHASES)], prof_calls[len(PHASES):]
    total = prof.sum()
    print(f"{case}, ratings {k} x base flow, {n} random N-2 sets, one thread: "
          f"{1e6 * wall / n:.0f} us per cascade ({n / wall:,.0f}/s)")
    for share, c, name in sorted(zip(prof / total, calls, PHASES.values(), strict=True),
                                 reverse=True):
        print(f"  {100 * share:5.1f} %  ~{share * 1e6 * wall / n:6.1f} us/cascade  "
              f"{c / n:5.2f} calls/cascade  {name}")
    print(f"  (shares of the {total / n:,.0f} cycles per cascade counted in these calls; the "
          "rest of the loop, trips and bookkeeping, is spread over them in the per-cascade "
          "figures)")


if __name__ == "__main__":
    main()
