"""Per-island system frequency response: aggregated swing equation, governors, load damping.

Each energised island is one rotating mass (the centre-of-inertia frequency, as in
the system-frequency-response (SFR) model of Anderson & Mirheydar, IEEE TPWRS
5(3):720-729, 1990)::

    2 E / f0 * d(Δf)/dt = Σ Pm_i - P_load0 (1 + D Δf/f0) - losses          [MW]
    E = Σ H_i S_i                                                           [MW s]
    Pm_i = clip(Pm0_i + S_i / R_i * y_kind(i), 0, pmax_i)                    [MW]

with H_i the inertia constant on the machine base S_i (``inertia_h_s``,
``mbase_mva``; S_i = max(mbase, pmax) because some cases carry mbase = 1), R_i
the permanent droop (``droop_pu``; <= 0: no governor), D the load damping and
y_kind the output of a linear governor-turbine model of the unit's kind, driven
by -Δω (per unit speed error) and of steady-state gain ``km``:

* reheat steam (coal, oil, nuclear, steam, unknown): Anderson & Mirheydar's
  (1 + FH TR s)/(1 + TR s), TR = 8 s, FH = 0.3, Km = 0.95 (Dynawo SimplifiedSFR
  example, typical-parameters §4.4);
* gas and combined cycle: IEC 61970-302 GovGAST, governor T1 = 0.5 s and turbine
  T2 = 0.5 s lags (typical-parameters §4.2);
* hydro: GovHydro1 linearised, transient droop r = 0.3 with reset Tr = 5 s
  (lead-lag (1 + Tr s)/(1 + (r/Rp) Tr s)), gate servo Tg = 0.5 s and the
  non-minimum-phase turbine (1 - Tw s)/(1 + 0.5 Tw s), Tw = 1 s (IEC CIM
  typical values; Kundur §9.1);
* wind, solar, import: no governor response.

Secondary control (AGC) is an integral of the speed error with time constant
``agc_s`` added to every governed unit's demand, restoring nominal frequency within
minutes (ENTSO-E SOGL: aFRR full activation within 5 min); None switches it off.

Each unit's response is clipped to [0, pmax] (no output below zero, no output
above rating), which makes the model mildly nonlinear; it is integrated with
scipy's ``solve_ivp`` (RK45) between discrete events, and threshold crossings are
located on the dense output with ``brentq``. :func:`sfr_closed_form` gives the
closed-form step response of the first-order SFR model, used to validate the
integration.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field, replace

import numpy as np
from scipy.integrate import solve_ivp
from scipy.optimize import brentq

__all__ = [
    "GovernorModel",
    "default_governors",
    "governor_for_kind",
    "IslandFrequency",
    "Crossing",
    "sfr_closed_form",
]


@dataclass(frozen=True)
class GovernorModel:
    """A linear governor-turbine model: x' = A x + B u, y = C x + Dm u, u = -Δω (pu).

    ``name`` says what it represents; ``source`` where its constants come from.
    The steady-state gain of y to u is ``km`` (1 for a lossless governor).
    """

    name: str
    a: tuple[tuple[float, ...], ...]
    b: tuple[float, ...]
    c: tuple[float, ...]
    d: float
    km: float = 1.0
    source: str = ""

    @property
    def order(self) -> int:
        """Number of states."""
        return len(self.b)

    @classmethod
    def reheat_steam(cls, *, tr_s: float = 8.0, fh: float = 0.3, km: float = 0.95) -> GovernorModel:
        """Anderson & Mirheydar's reheat steam unit: Km (1 + FH TR s)/(1 + TR s)."""
        return cls("reheat steam", ((-1.0 / tr_s,),), (1.0 / tr_s,), (km * (1.0 - fh),),
                   km * fh, km, "Anderson & Mirheydar 1990 (TR 8 s, FH 0.3, Km 0.95)")

    @classmethod
    def gas(cls, *, t1_s: float = 0.5, t2_s: float = 0.5) -> GovernorModel:
        """Gas turbine (GAST): governor lag T1 then turbine lag T2."""
        a = ((-1.0 / t1_s, 0.0), (1.0 / t2_s, -1.0 / t2_s))
        return cls("gas turbine", a, (1.0 / t1_s, 0.0), (0.0, 1.0), 0.0, 1.0,
                   "IEC 61970-302 GovGAST typical (T1 0.5 s, T2 0.5 s)")

    @classmethod
    def hydro(cls, *, r_temp: float = 0.3, tr_s: float = 5.0, r_perm: float = 0.05,
              tg_s: float = 0.5, tw_s: float = 1.0) -> GovernorModel:
        """Hydro (GovHydro1 linearised): transient droop, gate servo, water column."""
        td = tr_s * r_temp / r_perm  # lag of the transient-droop lead-lag
        lead = tr_s / td  # (1 + Tr s)/(1 + Td s) = lead + (1 - lead)/(1 + Td s)
        tt = 0.5 * tw_s
        # states: z (droop lag), s (servo), w (water column); y = 3 w - 2 s
        a = ((-1.0 / td, 0.0, 0.0),
             ((1.0 - lead) / tg_s, -1.0 / tg_s, 0.0),
             (0.0, 1.0 / tt, -1.0 / tt))
        b = (1.0 / td, lead / tg_s, 0.0)
        return cls("hydro", a, b, (0.0, -2.0, 3.0), 0.0, 1.0,
                   "IEC CIM GovHydro1 typical (r 0.3, Tr 5 s, Tg 0.5 s, Tw 1 s); Kundur 9.1")

    @classmethod
    def hydro_tuned(cls, *, h_s: float, tw_s: float = 1.0, r_perm: float = 0.05,
                    tg_s: float = 0.5) -> GovernorModel:
        """Hydro governor with the transient droop tuned to the unit's inertia.

        Kundur's stable tuning of a hydraulic governor's transient droop (Power System
        Stability and Control, §9.1; typical-parameters §4.2)::

            R_T = [2.3 - (Tw - 1) 0.15] Tw / T_M      T_R = [5.0 - (Tw - 1) 0.5] Tw

        with T_M = 2 H the mechanical starting time (s) and Tw the water starting time
        (s). A fixed R_T = 0.3, T_R = 5 s (the CIM typical) is unstable on low-inertia
        islands; this rule keeps the linearised unit stable for any H.
        """
        t_m = max(2.0 * float(h_s), 0.1)
        r_temp = max((2.3 - (tw_s - 1.0) * 0.15) * tw_s / t_m, r_perm * 1.01)
        tr_s = max((5.0 - (tw_s - 1.0) * 0.5) * tw_s, 0.1)
        model = cls.hydro(r_temp=r_temp, tr_s=tr_s, r_perm=r_perm, tg_s=tg_s, tw_s=tw_s)
        return replace(model, name=f"hydro (H {h_s:g} s, Tw {tw_s:g} s)",
                       source=f"Kundur 9.1 stable tuning: R_T {r_temp:.3f}, T_R {tr_s:.2f} s, "
                              f"Tw {tw_s:g} s, Tg {tg_s:g} s, Rp {r_perm:g}")

    @classmethod
    def none(cls) -> GovernorModel:
        """No governor (wind, solar, imports)."""
        return cls("none", (), (), (), 0.0, 0.0, "no frequency response")


def default_governors() -> dict[str, GovernorModel]:
    """Governor model per generator ``kind`` (see the module docstring for sources)."""
    steam, gas, hydro, none = (GovernorModel.reheat_steam(), GovernorModel.gas(),
                               GovernorModel.hydro(), GovernorModel.none())
    return {"hydro": hydro, "steam": steam, "coal": steam, "oil": steam, "nuclear": steam,
            "thermal": steam, "unknown": steam, "gas": gas, "combined_cycle": gas,
            "diesel": gas, "wind": none, "solar": none, "import": none}


def governor_for_kind(models: dict[str, GovernorModel], kind: str) -> GovernorModel:
    """The model of ``kind``; reheat steam (the SFR reference unit) when not listed."""
    return models.get(kind, models.get("unknown", GovernorModel.reheat_steam()))


@dataclass
class Crossing:
    """The frequency crossed ``threshold_hz`` at ``time_s``, going ``down`` or up."""

    time_s: float
    threshold_hz: float
    down: bool


@dataclass
class IslandFrequency:
    """Frequency state of one island and its integration between discrete events.

    Attributes (per online generator of the island, aligned arrays)
    ----------------------------------------------------------------
    gens : generator positions; h_s_mva : H_i S_i (MW s); gain_mw : S_i / R_i (MW per pu
    speed); pm0_mw : scheduled mechanical power; pmax_mw; group : index of the unit's
    governor model in ``models``.
    load0_mw : connected load at nominal frequency; losses_mw : network losses (AC).
    dw_pu : speed deviation Δω; x : governor states of every model, concatenated.
    """

    f0_hz: float
    models: list[GovernorModel]
    gens: np.ndarray
    h_s_mva: np.ndarray
    gain_mw: np.ndarray
    pm0_mw: np.ndarray
    pmax_mw: np.ndarray
    group: np.ndarray
    load0_mw: float
    damping: float = 1.0
    losses_mw: float = 0.0
    dw_pu: float = 0.0
    x: np.ndarray = field(default_factory=lambda: np.zeros(0))
    agc_s: float | None = None
    agc_pu: float = 0.0
    pmin_mw: np.ndarray | None = None

    def __post_init__(self) -> None:
        if self.pmin_mw is None:
            self.pmin_mw = np.zeros(self.gens.size)
        sizes = [m.order for m in self.models]
        self._offsets = np.concatenate([[0], np.cumsum(sizes)]).astype(int)
        if self.x.size != self._offsets[-1]:
            self.x = np.zeros(int(self._offsets[-1]))
        n = int(self._offsets[-1])
        self._a = np.zeros((n, n))
        self._b = np.zeros(n)
        for k, m in enumerate(self.models):
            lo, hi = self._offsets[k], self._offsets[k + 1]
            if hi > lo:
                self._a[lo:hi, lo:hi] = np.array(m.a)
                self._b[lo:hi] = np.array(m.b)

    # ------------------------------------------------------------------ quantities
    @property
    def frequency_hz(self) -> float:
        """Island frequency, Hz."""
        return self.f0_hz * (1.0 + self.dw_pu)

    @property
    def energy_mws(self) -> float:
        """Stored kinetic energy at nominal speed, Σ H_i S_i (MW s)."""
        return float(self.h_s_mva.sum())

    def _outputs(self, x: np.ndarray, dw: float, agc: float = 0.0) -> np.ndarray:
        """Governor output y of every model (steady-state gain km), plus the AGC signal."""
        u = -dw
        y = np.zeros(len(self.models))
        for k, m in enumerate(self.models):
            lo, hi = self._offsets[k], self._offsets[k + 1]
            y[k] = float(np.dot(m.c, x[lo:hi])) + m.d * u + agc if hi > lo else 0.0
        return y

    def mechanical_mw(self, x: np.ndarray | None = None, dw: float | None = None) -> np.ndarray:
        """Mechanical power of every online unit, MW, clipped to [0, pmax]."""
        x = self.x if x is None else x
        dw = self.dw_pu if dw is None else dw
        y = self._outputs(x, dw, self.agc_pu)
        pm = self.pm0_mw + self.gain_mw * y[self.group]
        return np.clip(pm, 0.0, np.maximum(self.pmax_mw, self.pm0_mw))

    def load_mw(self, dw: float | None = None) -> float:
        """Load drawn at the current frequency, MW (load damping D)."""
        dw = self.dw_pu if dw is None else dw
        return self.load0_mw * (1.0 + self.damping * dw)

    def imbalance_mw(self) -> float:
        """Σ Pm - load(f) - losses, MW (positive: surplus, frequency rises)."""
        return float(self.mechanical_mw().sum() - self.load_mw() - self.losses_mw)

    def electrical_mw(self) -> np.ndarray:
        """Electrical output of every unit for the power flow, MW.

        Each unit delivers its mechanical power plus its inertial share (H_i S_i / E) of
        the island's imbalance, so that Σ Pe = load(f) + losses exactly.
        """
        pm = self.mechanical_mw()
        e = self.energy_mws
        share = self.h_s_mva / e if e > 0 else np.full(pm.size, 1.0 / max(pm.size, 1))
        return pm - share * self.imbalance_mw()

    def quasi_steady(self) -> tuple[np.ndarray, float, float]:
        """The island's governor-response (quasi-steady) state: what relays act on.

        The imbalance between the units' setpoints (scheduled power plus the AGC's
        current correction) and the load plus losses is shared by droop participation:
        each governed unit moves by ``km S_i / R_i`` per pu of speed error, the load by
        ``D load0`` per pu (load damping), every unit within ``[pmin_mw, pmax_mw]``
        (:func:`blackout.flow.balance.share_imbalance`, the one rule). What no unit can
        take, once all are at a limit, is taken by the load's frequency dependence:
        the quasi-steady frequency is then far off nominal, and the frequency model,
        generator protection and UFLS decide what follows. The inertial transient
        lives only in the frequency model, never in branch flows.

        Returns
        -------
        (p_mw, load_factor, dw_pu) : each unit's output (MW, within its limits), the
            factor on every load of the island, and the quasi-steady speed error (pu).
        """
        from blackout.flow.balance import share_imbalance

        lo = np.asarray(self.pmin_mw, dtype=float)
        hi = np.maximum(self.pmax_mw, lo)
        km = np.array([m.km for m in self.models])[self.group] if self.models else np.ones(0)
        setpoint = self.pm0_mw + self.gain_mw * self.agc_pu if self.agc_s else self.pm0_mw.copy()
        setpoint = np.clip(setpoint, lo, hi)
        load_w = self.damping * self.load0_mw
        n = self.gens.size
        # participants: the units, then the load (its "output" is load relief, MW)
        p0 = np.r_[setpoint, 0.0]
        pmin = np.r_[lo, -np.inf]
        pmax = np.r_[hi, max(self.load0_mw, 0.0)]
        w = np.r_[self.gain_mw * km, load_w]
        delta = self.load0_mw + self.losses_mw - float(setpoint.sum())
        p, residual = share_imbalance(p0, pmin, pmax, w, delta)
        relief = float(p[n]) + residual
        load_factor = 1.0 - relief / self.load0_mw if self.load0_mw > 0 else 1.0
        dw = -relief / load_w if load_w > 0 else 0.0
        return p[:n], max(load_factor, 0.0), dw

    def jacobian(self) -> np.ndarray:
        """Linearised frequency model at the present state: d(rhs)/d(state), 1/s.

        States: speed error (pu), AGC (pu), then every governor state. Unit limits
        are ignored (small-signal), as in an eigenvalue study.
        """
        y0 = self._state()
        n = y0.size
        jac = np.zeros((n, n))
        h = 1e-7
        for k in range(n):
            up, dn = y0.copy(), y0.copy()
            up[k] += h
            dn[k] -= h
            jac[:, k] = (self._derivative(up, limits=False)
                         - self._derivative(dn, limits=False)) / (2.0 * h)
        return jac

    def least_stable_mode(self) -> complex:
        """The eigenvalue of :meth:`jacobian` with the largest real part (rad/s)."""
        ev = np.linalg.eigvals(self.jacobian())
        if ev.size == 0:
            return 0j
        return complex(ev[int(np.argmax(ev.real))])

    def _rhs(self, t: float, state: np.ndarray) -> np.ndarray:
        return self._derivative(state, limits=True)

    def _derivative(self, state: np.ndarray, *, limits: bool) -> np.ndarray:
        """d(state)/dt (1/s); ``limits``: every unit's mechanical power clipped to
        [0, pmax] (off for the small-signal Jacobian)."""
        dw, agc, x = state[0], state[1], state[2:]
        pm = self.pm0_mw + self.gain_mw * self._outputs(x, dw, agc)[self.group]
        if limits:
            pm = np.clip(pm, 0.0, np.maximum(self.pmax_mw, self.pm0_mw))
        e = max(self.energy_mws, 1e-9)
        ddw = (pm.sum() - self.load_mw(dw) - self.losses_mw) / (2.0 * e)
        dx = self._a @ x + self._b * (-dw)
        # secondary control (AGC): integral of the speed error, time constant agc_s
        dagc = -dw / self.agc_s if self.agc_s else 0.0
        return np.concatenate([[ddw, dagc], dx])

    def _state(self) -> np.ndarray:
        return np.concatenate([[self.dw_pu, self.agc_pu], self.x])

    def rocof_hz_s(self) -> float:
        """Rate of change of frequency now, Hz/s."""
        return float(self.f0_hz * self._rhs(0.0, self._state())[0])

    def is_steady(self, tol: float = 1e-6) -> bool:
        """True when the frequency is settled: speed error below 10 ppm of nominal and
        every state derivative below ``tol`` per second (nothing left to integrate)."""
        d = self._rhs(0.0, self._state())
        settled = abs(self.dw_pu) < 1e-5 or not self.agc_s
        return bool(settled and np.all(np.abs(d) < tol))

    # ------------------------------------------------------------------ integration
    def advance(
        self, t0_s: float, t1_s: float, thresholds: dict[float, bool], *,
        max_step_s: float = 0.5,
    ) -> tuple[Crossing | None, Callable[[float], tuple[float, np.ndarray]], np.ndarray]:
        """Integrate from t0 to t1 and find the first threshold crossing.

        ``thresholds`` maps a frequency (Hz) to whether the island is now below it. Returns
        the first :class:`Crossing` (or None), a function giving (Δω, x) at any time in
        [t0, t1] (x includes the AGC state first), and sampled (time_s, frequency_hz) rows for the trace. The state itself
        is not changed: call :meth:`set_state` with the time chosen by the engine.
        """
        y0 = self._state()
        if t1_s <= t0_s or self.is_steady():
            const = (self.dw_pu, np.r_[self.agc_pu, self.x])
            trace = np.array([[t0_s, self.frequency_hz], [max(t1_s, t0_s), self.frequency_hz]])
            return None, lambda t: const, trace
        # an island with (almost) no rotating mass (an SVC or inverters alone) settles in
        # microseconds: RK45 crawls, or fails on its first step and leaves an empty dense
        # output. It is integrated implicitly (Radau) from local time 0, where steps that
        # short are representable (the model is autonomous); other islands as before.
        tau_s = 2.0 * max(self.energy_mws, 1e-9) / max(self.load0_mw * self.damping, 1e-9)
        stiff = tau_s < 1e-3
        shift = t0_s if stiff else 0.0
        sol = solve_ivp(self._rhs, (t0_s - shift, t1_s - shift), y0,
                        method="Radau" if stiff else "RK45", dense_output=True,
                        rtol=1e-7, atol=1e-10, max_step=max_step_s)
        if not sol.success:
            raise FloatingPointError(
                f"frequency of an island of {self.gens.size} units (stored energy "
                f"{self.energy_mws:g} MW s) not integrable from {t0_s:g} s: {sol.message}")

        def dense(t: float | np.ndarray) -> np.ndarray:
            return sol.sol(np.asarray(t) - shift)

        grid = np.union1d(sol.t + shift, np.arange(t0_s, t1_s, 0.02))
        freq = self.f0_hz * (1.0 + dense(grid)[0])
        first: Crossing | None = None
        for thr, below in thresholds.items():
            side = freq < thr
            # the first sample sits on the previous stop, where f may equal a threshold
            change = np.flatnonzero(side[1:] != below) + 1
            if change.size == 0:
                continue
            j = int(change[0])
            g = lambda t, thr=thr: self.f0_hz * (1.0 + dense(t)[0]) - thr  # noqa: E731
            a, b = grid[j - 1], grid[j]
            tc = brentq(g, a, b, xtol=1e-10) if g(a) * g(b) < 0 else b
            if first is None or tc < first.time_s:
                first = Crossing(float(tc), float(thr), down=not below)

        def at(t: float) -> tuple[float, np.ndarray]:
            s = dense(min(max(t, t0_s), t1_s))
            return float(s[0]), np.array(s[1:])

        stop = first.time_s if first else t1_s
        keep = grid <= stop
        trace = np.column_stack([np.r_[grid[keep], stop],
                                 np.r_[freq[keep], self.f0_hz * (1.0 + at(stop)[0])]])
        return first, at, trace

    def set_state(self, dw_pu: float, x: np.ndarray) -> None:
        """Move the island to a state returned by :meth:`advance` (AGC state, then x)."""
        self.dw_pu = float(dw_pu)
        self.agc_pu = float(x[0])
        self.x = np.array(x[1:], dtype=float)


def sfr_closed_form(
    delta_p_pu: float, *, h_s: float = 4.0, r_pu: float = 0.05, d_pu: float = 1.0,
    fh: float = 0.3, tr_s: float = 8.0, km: float = 0.95, f0_hz: float = 60.0,
) -> dict[str, float]:
    """Closed-form response of the SFR model to a load step ``delta_p_pu`` (Anderson &
    Mirheydar 1990; formulas as in typical-parameters §4.4).

    Returns
    -------
    dict with ``nadir_hz`` (lowest frequency), ``t_nadir_s``, ``settling_hz`` (steady
    state) and ``rocof_hz_s`` (initial rate of change), for a system at ``f0_hz``.
    """
    wn = math.sqrt((d_pu * r_pu + km) / (2.0 * h_s * r_pu * tr_s))
    zeta = wn * (2.0 * h_s * r_pu + (d_pu * r_pu + km * fh) * tr_s) / (2.0 * (d_pu * r_pu + km))
    wr = wn * math.sqrt(1.0 - zeta**2)
    alpha = math.sqrt((1.0 - 2.0 * tr_s * zeta * wn + tr_s**2 * wn**2) / (1.0 - zeta**2))
    t_z = math.atan(wr * tr_s / (zeta * wn * tr_s - 1.0)) / wr
    if t_z < 0:
        t_z += math.pi / wr
    ss = r_pu * delta_p_pu / (d_pu * r_pu + km)
    nadir = ss * (1.0 + math.sqrt(1.0 - zeta**2) * alpha * math.exp(-zeta * wn * t_z))
    return {
        "nadir_hz": f0_hz * (1.0 - nadir),
        "t_nadir_s": t_z,
        "settling_hz": f0_hz * (1.0 - ss),
        "rocof_hz_s": -f0_hz * delta_p_pu / (2.0 * h_s),
    }
