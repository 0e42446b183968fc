"""Assemble solved voltages into a :class:`PowerFlowResult` (flows, generator outputs, loading)."""

from __future__ import annotations

import numpy as np
from scipy.sparse import csr_matrix

from blackout.flow.network import Network
from blackout.flow.result import IslandResult, PowerFlowResult
from blackout.grid.model import Grid

__all__ = ["assemble"]


def assemble(
    grid: Grid,
    net: Network,
    v: np.ndarray,
    islands: list[IslandResult],
    slacks: dict[int, int],
    *,
    mode: str,
    yf: csr_matrix | None = None,
    yt: csr_matrix | None = None,
    p_from_live_mw: np.ndarray | None = None,
) -> PowerFlowResult:
    """Branch flows, generator outputs and loadings from bus voltages ``v`` (0 where dark)."""
    base = grid.base_mva
    nbr = grid.branch.n
    energized = np.abs(v) > 0
    f = grid.branch["from_bus"][net.live]
    t = grid.branch["to_bus"][net.live]
    on = energized[f] & energized[t]
    pf = np.zeros(nbr)
    qf = np.zeros(nbr)
    pt = np.zeros(nbr)
    qt = np.zeros(nbr)
    if mode == "ac":
        assert yf is not None and yt is not None
        sf = v[f] * np.conj(yf @ v) * base
        st = v[t] * np.conj(yt @ v) * base
        pf[net.live] = np.where(on, sf.real, 0.0)
        qf[net.live] = np.where(on, sf.imag, 0.0)
        pt[net.live] = np.where(on, st.real, 0.0)
        qt[net.live] = np.where(on, st.imag, 0.0)
        s_max = np.maximum(np.abs(pf + 1j * qf), np.abs(pt + 1j * qt))
    else:
        assert p_from_live_mw is not None
        pf[net.live] = np.where(on, p_from_live_mw, 0.0)
        pt[net.live] = -pf[net.live]
        s_max = np.abs(pf)
    rate = grid.branch["rate_a_mva"]
    with np.errstate(divide="ignore", invalid="ignore"):
        loading = np.where(rate > 0, s_max / rate * 100.0, np.nan)
    branch_live = np.zeros(nbr, dtype=bool)
    branch_live[net.live[on]] = True
    loading = np.where(branch_live | (rate == 0), loading, np.nan)

    # generator outputs: scheduled P except the slack's first unit, which takes the balance
    gen_p = np.where(net.gen_on, net.state.gen_p_mw, 0.0)
    gen_q = np.where(net.gen_on, grid.gen["q_mvar"], 0.0)
    gbus = grid.gen["bus"]
    gen_p = np.where(energized[gbus], gen_p, 0.0)
    gen_q = np.where(energized[gbus], gen_q, 0.0)
    if mode == "ac":
        ybus_inj = _bus_injection(grid, net, v, pf, qf, pt, qt)
    for k, slack in slacks.items():
        units = np.flatnonzero(net.gen_on & (gbus == slack))
        others = net.state.gen_p_mw[units[1:]].sum()
        if mode == "ac":
            p_bus = ybus_inj.real[slack] + net.load_p_bus_mw[slack]
        else:
            p_bus = _dc_bus_p(grid, net, pf, slack) + net.load_p_bus_mw[slack]
        gen_p[units[0]] = p_bus - others
        islands[k].generation_mw = float(
            gen_p[np.flatnonzero(net.gen_on & (net.labels[gbus] == k))].sum())
    if mode == "ac":
        # reactive output of every PV/ref bus: computed injection plus load, shared equally
        q_bus = ybus_inj.imag + np.bincount(grid.load["bus"], weights=net.state.load_q_mvar,
                                            minlength=grid.bus.n)
        live_gens = np.flatnonzero(net.gen_on & energized[gbus])
        counts = np.bincount(gbus[live_gens], minlength=grid.bus.n)
        fixed = grid.bus["type"][gbus[live_gens]] == 1
        gen_q[live_gens] = np.where(fixed, gen_q[live_gens],
                                    q_bus[gbus[live_gens]] / np.maximum(counts[gbus[live_gens]], 1))
    vm = np.abs(v)
    va = np.degrees(np.angle(v))
    return PowerFlowResult(
        mode=mode,
        case=grid.name,
        islands=islands,
        bus={
            "name": np.asarray(grid.bus["name"]),
            "island": np.array(net.labels),
            "energized": energized,
            "vm_pu": vm,
            "va_degree": np.where(energized, va, 0.0),
            "load_mw": net.load_p_bus_mw,
        },
        branch={
            "name": np.asarray(grid.branch["name"]),
            "in_service": branch_live,
            "p_from_mw": pf,
            "q_from_mvar": qf,
            "p_to_mw": pt,
            "q_to_mvar": qt,
            "loading_percent": loading,
        },
        gen={
            "name": np.asarray(grid.gen["name"]),
            "kind": np.asarray(grid.gen["kind"]),
            "in_service": net.gen_on & energized[gbus],
            "p_mw": gen_p,
            "q_mvar": gen_q,
        },
    )


def _bus_injection(grid: Grid, net: Network, v: np.ndarray, pf: np.ndarray, qf: np.ndarray,
                   pt: np.ndarray, qt: np.ndarray) -> np.ndarray:
    """Complex power leaving each bus into branches and shunts (MVA) = net injection."""
    nb = grid.bus.n
    f, t = grid.branch["from_bus"], grid.branch["to_bus"]
    s = np.bincount(f, weights=pf, minlength=nb) + np.bincount(t, weights=pt, minlength=nb)
    q = np.bincount(f, weights=qf, minlength=nb) + np.bincount(t, weights=qt, minlength=nb)
    vm2 = np.abs(v) ** 2
    s = s + net.bus[:, 4] * vm2  # shunt conductance consumes Gs * V^2
    q = q - net.bus[:, 5] * vm2  # shunt susceptance injects Bs * V^2
    return s + 1j * q


def _dc_bus_p(grid: Grid, net: Network, pf: np.ndarray, bus: int) -> float:
    f, t = grid.branch["from_bus"], grid.branch["to_bus"]
    out = pf[f == bus].sum() - pf[t == bus].sum()
    return float(out + net.bus[bus, 4])
