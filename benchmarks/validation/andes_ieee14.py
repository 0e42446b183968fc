"""ANDES side of the IEEE 14 generator-trip comparison (run ONLY in the validation
environment: ANDES is GPL-3 and never a dependency of blackout).

Loads ANDES's own ``ieee14/ieee14_gentrip.xlsx`` (GENROU machines, TGOV1 governors; the
Toggle trips GENROU_2 at t = 1 s), makes every load constant power, runs the time-domain
simulation to 20 s and prints one JSON line: the centre-of-inertia frequency's nadir, time
of nadir after the trip, mean RoCoF over the first 0.5 s, and the set-up (machine inertia,
governor constants, dispatch, load) that blackout's frequency model is given.
"""

from __future__ import annotations

import json

import andes
import numpy as np

andes.config_logger(stream_level=50)
ss = andes.load(andes.get_case("ieee14/ieee14_gentrip.xlsx"), setup=False, no_output=True,
                default_config=True)
ss.PQ.config.p2p, ss.PQ.config.p2i, ss.PQ.config.p2z = 1.0, 0.0, 0.0
ss.PQ.config.q2q, ss.PQ.config.q2i, ss.PQ.config.q2z = 1.0, 0.0, 0.0
ss.setup()
ss.PFlow.run()
ss.TDS.config.tf = 20.0
ss.TDS.config.tstep = 1.0 / 120.0
ss.TDS.config.no_tqdm = 1
ss.TDS.init()
f0 = float(ss.config.freq)
mva = float(ss.config.mva)
tripped = ss.Toggle.as_df()["dev"].iloc[0]
t_trip = float(ss.Toggle.as_df()["t"].iloc[0])
gen = ss.GENROU.as_df()
gov = ss.TGOV1.as_df().set_index("syn")
pe0 = {idx: float(v) * mva for idx, v in zip(gen["idx"], ss.GENROU.Pe.v, strict=True)}
units = []
for _, row in gen.iterrows():
    g = gov.loc[row["idx"]]
    units.append({"idx": row["idx"], "h_s": float(row["M"]) / 2.0, "sn_mva": float(row["Sn"]),
                  "r_pu": float(g["R"]), "t1_s": float(g["T1"]), "t2_s": float(g["T2"]),
                  "t3_s": float(g["T3"]), "vmax_pu": float(g["VMAX"]), "p0_mw": pe0[row["idx"]],
                  "tripped": row["idx"] == tripped})
load = float(ss.PQ.p0.v.sum()) * mva
ss.TDS.run()
t = np.asarray(ss.dae.ts.t)
omega = np.asarray(ss.dae.ts.x[:, ss.GENROU.omega.a])
m = gen["M"].to_numpy(dtype=float) * gen["Sn"].to_numpy(dtype=float)
on = np.array([not u["tripped"] for u in units])
coi = (omega[:, on] * m[on]).sum(axis=1) / m[on].sum()
f = f0 * coi
after = t >= t_trip
k = int(np.argmin(np.where(after, f, np.inf)))
w = (t >= t_trip) & (t <= t_trip + 0.5)
rocof = float(np.polyfit(t[w], f[w], 1)[0])
print(json.dumps({
    "nadir_hz": float(f[k]), "t_nadir_s": float(t[k] - t_trip), "rocof_hz_s": rocof,
    "setup": {"description": f"ANDES {andes.__version__} ieee14_gentrip.xlsx: {tripped} "
                             f"({pe0[tripped]:.1f} MW) trips at t = {t_trip:g} s; GENROU + "
                             "TGOV1, constant-power loads, machine D = 0; frequency = "
                             "centre of inertia of the remaining machines",
              "f0_hz": f0, "load_mw": load, "units": units},
}))
