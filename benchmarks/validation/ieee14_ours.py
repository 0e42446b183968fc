"""blackout's side of the IEEE 14 generator-trip comparison with ANDES.

The island's frequency model (:class:`blackout.physics.frequency.IslandFrequency`) is
given ANDES's machines (H, rating), TGOV1 governors (R, T1, T2, T3, VMAX) and dispatch,
with constant-power loads (load damping 0) and AGC off; the trip is the loss of the
tripped unit's electrical output at t = 0.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from blackout.physics.frequency import GovernorModel, IslandFrequency


def tgov1(t1_s: float, t2_s: float, t3_s: float) -> GovernorModel:
    """TGOV1 without limits: 1/(1 + T1 s) then (1 + T2 s)/(1 + T3 s), driven by -dw."""
    a = ((-1.0 / t1_s, 0.0), (1.0 / t3_s, -1.0 / t3_s))
    return GovernorModel("TGOV1", a, (1.0 / t1_s, 0.0), (t2_s / t3_s, 1.0 - t2_s / t3_s), 0.0,
                         1.0, "IEEE TGOV1 (ANDES ieee14 data)")


def ours_ieee14(setup: dict[str, Any]) -> dict[str, float]:
    units = [u for u in setup["units"] if not u["tripped"]]
    lost = sum(u["p0_mw"] for u in setup["units"] if u["tripped"])
    models: list[GovernorModel] = []
    group = []
    for u in units:
        m = tgov1(u["t1_s"], u["t2_s"], u["t3_s"])
        if m not in models:
            models.append(m)
        group.append(models.index(m))
    p0 = np.array([u["p0_mw"] for u in units])
    sn = np.array([u["sn_mva"] for u in units])
    isl = IslandFrequency(
        f0_hz=setup["f0_hz"], models=models, gens=np.arange(len(units)),
        h_s_mva=np.array([u["h_s"] for u in units]) * sn,
        gain_mw=sn / np.array([u["r_pu"] for u in units]), pm0_mw=p0,
        pmax_mw=np.array([u["vmax_pu"] for u in units]) * sn, group=np.array(group),
        load0_mw=float(p0.sum() + lost), damping=0.0, agc_s=None)
    _, at, _ = isl.advance(0.0, 19.0, {}, max_step_s=0.05)
    t = np.linspace(0.0, 19.0, 19001)
    f = setup["f0_hz"] * (1.0 + np.array([at(x)[0] for x in t]))
    k = int(np.argmin(f))
    w = t <= 0.5
    return {"nadir_hz": float(f[k]), "t_nadir_s": float(t[k]),
            "rocof_hz_s": float(np.polyfit(t[w], f[w], 1)[0])}
