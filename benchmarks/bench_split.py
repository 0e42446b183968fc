"""Where islands should split inside the Woodbury path: the compiled cascade loop with the
split path on and forced off, one thread, random N-2 sets (seed 2026). Prints; not a test.

The figures behind ``blackout.study.fastdc.plan.SPLIT_MIN_BUSES``. "on" builds the plan
with the split path whatever the grid's size; "off" drops its base factors, so splits
take the sparse path. Median of 3 timed run_cascades calls after a warm-up.

Run: ``OPENBLAS_NUM_THREADS=1 python benchmarks/bench_split.py``
"""

from __future__ import annotations

import statistics
import time
from dataclasses import replace

import numba
import numpy as np

from blackout import load_case
from blackout.grid.ratings import derive_ratings
from blackout.study.fastdc import plan as cascade_plan
from blackout.study.fastdc.engine import run_cascades
from blackout.study.fastdc.model import DCModel, balanced_grid

RUNS = (("case118", 1.3, 5000), ("case300", 1.3, 3000), ("case1354pegase", 2.0, 1000),
        ("case2869pegase", 2.0, 1000))


def main() -> None:
    numba.set_num_threads(1)
    cascade_plan.SPLIT_MIN_BUSES = 0
    print("case, ratings k, sets: split path on / off (cascades/s, one thread)")
    for case, k, n in RUNS:
        model = DCModel.build(derive_ratings(balanced_grid(load_case(case)), k=k,
                                             floor_mva=31.7, override_given=True))
        rng = np.random.default_rng(2026)
        live = np.flatnonzero(model.live)
        events = [sorted(rng.choice(live, 2, replace=False).tolist()) for _ in range(n)]
        on = cascade_plan.plan_of(model)
        rates = []
        for plan in (on, replace(on, base_lx=np.zeros(0), base_d=np.zeros(0))):
            model.cascade_plan = plan
            run_cascades(model, events[:5])
            times = []
            for _ in range(3):
                t0 = time.perf_counter()
                run_cascades(model, events)
                times.append(time.perf_counter() - t0)
            rates.append(n / statistics.median(times))
        print(f"{case} (buses {on.pos.size}), k={k}, {n} sets: {rates[0]:,.0f} / "
              f"{rates[1]:,.0f} ({100 * (rates[0] / rates[1] - 1):+.0f} % with it)", flush=True)


if __name__ == "__main__":
    main()
