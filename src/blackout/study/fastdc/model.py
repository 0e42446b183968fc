"""The factorised DC model behind every fast study: one sparse LU, sensitivities, islands.

Built once per base topology and shared read-only by every scenario and worker:

- ``B`` (pandapower's ``makeBdc``) reduced by one reference bus per base island,
  factorised once with SuperLU;
- branch-to-branch sensitivities ``H[l, m]``: flow change on ``l`` (pu) per unit of
  power transferred from the from-bus to the to-bus of ``m`` in the *base* topology.
  The outage of a set ``M`` is then a low-rank (Woodbury) update of the base flows
  ``F``: ``f = F + H[:, M] (I - H[M, M])^+ F[M]``, exact for DC;
- a random 64-bit XOR label per branch (cycle-space sketch): a set of outages
  splits an island iff a non-empty subset of its labels XORs to zero, and the
  number of new islands is ``|M| - rank_GF2(labels[M])``. Bridges have label 0.

Island balancing (the rule shared with the detailed engine's simple DC settings,
:func:`blackout.flow.balance.balance_islands`): every island without an in-service
generator loses its load; in every other island the in-service generators start from
the case's own dispatch (``gen.p_mw``, brought inside [pmin_mw, pmax_mw]) and the
island's imbalance (its demand plus shunt conductance ``gs_mw`` less that dispatch) is
shared by participation factors (``rule``: headroom by default, pmax or droop) within
[pmin_mw, pmax_mw]. The rule has no memory: the state is a function of the islands
alone. A shortfall (every unit at pmax) is shed as a uniform fraction of every load of
the island; a surplus with every unit at pmin is left to the island's slack bus, as in
:func:`blackout.flow.run_dc`. :func:`balanced_grid` is the older, explicit alternative:
the whole dispatch rewritten in proportion to pmax.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any, cast

import numpy as np
from scipy.sparse import coo_matrix, csc_matrix
from scipy.sparse.csgraph import connected_components
from scipy.sparse.linalg import splu

from blackout.flow.balance import PARTICIPATION_RULES, Participation, balance_islands
from blackout.flow.dc import dc_matrices
from blackout.flow.network import build_network
from blackout.flow.state import FlowState
from blackout.grid.model import Grid
from blackout.study.fastdc._compiled import linalg as kernels
from blackout.study.fastdc._compiled.linalg import gf2_rank

__all__ = ["DCModel", "balanced_grid", "gf2_rank"]

#: keep the full H matrix in memory up to this many bytes, else cache columns
FULL_H_BYTES = 400e6




@dataclass
class DCModel:
    """Factorised base-topology DC model of a grid (all arrays read-only after build).

    Units: flows and injections inside are in pu on ``base_mva``; public results in MW.
    ``participation``: balance islands by participation factors (True, the cascade rule)
    or leave every imbalance to the island's slack (False, :func:`run_dc` semantics).
    """

    grid: Grid
    participation: bool
    base_mva: float
    f_bus: np.ndarray
    t_bus: np.ndarray
    live: np.ndarray  # branch in service in the base case (and both buses in service)
    b_pu: np.ndarray  # DC susceptance 1/(x tap) per branch, 0 for out-of-service
    pfinj_pu: np.ndarray  # phase-shifter flow offsets per branch
    pbusinj_pu: np.ndarray  # their bus injections
    gs_mw: np.ndarray
    rate_mva: np.ndarray
    gen_bus: np.ndarray
    gen_on: np.ndarray
    pmax_mw: np.ndarray
    gen_p_case_mw: np.ndarray
    load_bus_mw: np.ndarray  # connected demand per bus, MW
    bus_in: np.ndarray
    keep: np.ndarray  # buses in the reduced system (all but one reference per base island)
    lu: Any  # scipy SuperLU of the reduced B matrix
    xor_label: np.ndarray  # uint64 per branch
    base_islands: int
    ref_gen_bus: np.ndarray  # bool per bus: a type-3 bus with an in-service generator
    gen_by_pmax: np.ndarray  # in-service generators, largest pmax first (ties: lower index)
    pmin_mw: np.ndarray
    droop_pu: np.ndarray
    rule: Participation  # participation rule of the island balance: headroom, pmax or droop
    # base (intact, balanced) state
    gen_p0_mw: np.ndarray = field(default_factory=lambda: np.zeros(0))
    load0_bus_mw: np.ndarray = field(default_factory=lambda: np.zeros(0))
    p0_pu: np.ndarray = field(default_factory=lambda: np.zeros(0))
    f0_pu: np.ndarray = field(default_factory=lambda: np.zeros(0))
    _ht: np.ndarray | None = None  # H transposed (row m = H[:, m]) when small enough
    _cache_rows: np.ndarray | None = None
    _cache_slot: np.ndarray | None = None
    _factors: tuple[np.ndarray, ...] | None = None  # LU factors as arrays (compiled solver)
    _row_of_bus: np.ndarray | None = None
    _cache_used: int = 0
    _rhs_row: np.ndarray | None = None
    #: the compiled loop's plan of this model (:func:`blackout.study.fastdc.plan.plan_of`),
    #: built on first use; not copied by ``dataclasses.replace`` (a re-scaled model
    #: builds its own)
    cascade_plan: object | None = field(default=None, init=False, repr=False, compare=False)

    # ------------------------------------------------------------------ build
    @classmethod
    def build(cls, grid: Grid, *, participation: bool = True, seed: int = 12345,
              full_h: bool | None = None, rule: str = "headroom") -> DCModel:
        """Factorise ``grid``'s base topology. ``full_h``: precompute all of H (default: when
        it fits in ``FULL_H_BYTES``), else columns are computed on demand and cached.
        ``rule``: the participation rule that shares each island's imbalance (headroom,
        pmax or droop; see :mod:`blackout.flow.balance`)."""
        if rule not in PARTICIPATION_RULES:
            raise ValueError(f"participation rule {rule!r}: expected one of "
                             f"{PARTICIPATION_RULES}")
        state = FlowState.of(grid)
        net = build_network(grid, state)
        _, bf, pbusinj, pfinj_live = dc_matrices(grid, net)
        nl, nb = grid.branch.n, grid.bus.n
        live = np.zeros(nl, dtype=bool)
        live[net.live] = True
        f, t = np.asarray(grid.branch["from_bus"]), np.asarray(grid.branch["to_bus"])
        bfc = bf.tocsr()
        b = np.zeros(nl)
        b[net.live] = np.asarray(bfc[np.arange(net.live.size), f[net.live]]).ravel()
        pfinj = np.zeros(nl)
        pfinj[net.live] = pfinj_live
        gen_on = np.asarray(net.gen_on, dtype=bool)
        pmax = np.asarray(grid.gen["pmax_mw"], dtype=float)
        labels = net.labels
        bus_in = np.asarray(state.bus_in, dtype=bool)
        gen_bus = np.asarray(grid.gen["bus"])
        ref_gen_bus = np.zeros(nb, dtype=bool)
        ref_gen_bus[gen_bus[gen_on]] = True
        ref_gen_bus &= np.asarray(grid.bus["type"]) == 3
        gens = np.flatnonzero(gen_on)
        gen_by_pmax = gens[np.lexsort((gens, -pmax[gens]))]
        # one reference bus per base island (and every out-of-service bus)
        comp = _components(nb, f[live], t[live])
        n_comp = int(comp.max()) + 1
        refs = np.full(n_comp, -1)
        slack = island_slacks(comp, n_comp, ref_gen_bus, gen_bus, gen_by_pmax)
        for k in range(n_comp):
            refs[k] = slack[k] if slack[k] >= 0 else int(np.flatnonzero(comp == k)[0])
        keep = np.setdiff1d(np.arange(nb), refs)
        bb = bbus_matrix(nb, f[live], t[live], b[live])
        lu = splu(csc_matrix(bb[keep][:, keep]), permc_spec="MMD_AT_PLUS_A",
                  options={"SymmetricMode": True}, diag_pivot_thresh=0.0)
        model = cls(
            grid=grid, participation=participation, base_mva=float(grid.base_mva),
            f_bus=f, t_bus=t, live=live, b_pu=b, pfinj_pu=pfinj,
            pbusinj_pu=np.asarray(pbusinj, dtype=float),
            gs_mw=np.where(bus_in, np.asarray(grid.bus["gs_mw"], dtype=float), 0.0),
            rate_mva=np.asarray(grid.branch["rate_a_mva"], dtype=float),
            gen_bus=gen_bus, gen_on=gen_on, pmax_mw=pmax,
            gen_p_case_mw=np.array(state.gen_p_mw, dtype=float),
            load_bus_mw=np.asarray(net.load_p_bus_mw, dtype=float), bus_in=bus_in,
            keep=keep, lu=lu, xor_label=_xor_labels(nb, f, t, live, seed),
            base_islands=n_comp, ref_gen_bus=ref_gen_bus, gen_by_pmax=gen_by_pmax,
            pmin_mw=np.asarray(grid.gen["pmin_mw"], dtype=float),
            droop_pu=np.asarray(grid.gen["droop_pu"], dtype=float), rule=cast(Participation, rule),
        )
        del labels
        gen_p0, load0, p0 = model.balance(comp)
        model.gen_p0_mw, model.load0_bus_mw, model.p0_pu = gen_p0, load0, p0
        model.f0_pu = model.base_flows(p0[:, None])[:, 0]
        if full_h is None:
            full_h = nl * nl * 8 <= FULL_H_BYTES
        if full_h:
            model._ht = model.h_columns_computed(np.arange(nl)).T.copy()
        else:
            model._cache_slot = np.full(nl, -1)
            model._cache_rows = np.zeros((0, nl))
        return model

    # ------------------------------------------------------------------ linear algebra
    @property
    def n_branch(self) -> int:
        """Number of branches in the model."""
        return int(self.f_bus.size)

    def solve_angles(self, p_pu: np.ndarray) -> np.ndarray:
        """DC angles (rad) in the base topology for injections ``p_pu`` (nb x S)."""
        theta = np.zeros_like(p_pu)
        if p_pu.ndim == 2 and p_pu.shape[1] >= 4:
            theta[self.keep] = self._solve_many(p_pu[self.keep])
        else:
            theta[self.keep] = self.lu.solve(np.ascontiguousarray(p_pu[self.keep]))
        return theta

    def unit_transfer_angles(self, cols: np.ndarray, out: np.ndarray | None = None
                             ) -> tuple[np.ndarray, np.ndarray]:
        """Base-topology angles of a unit transfer across each branch of ``cols``, in the
        solver's own row order: ``(y, row)`` with ``theta[bus, j] == y[row[bus], j]``
        (``y`` row-major, its last row zero for the reference buses). Compiled solver only.
        ``out``: a C-contiguous buffer of at least (n_reduced + 1) x len(cols) to reuse
        (``y`` is then a view of it), saving a large allocation per call."""
        row, rhs_row = self.solver_rows()
        _, _, lp, li, lx, upp, ui, ux = self._factors  # type: ignore[misc]
        n = self.keep.size
        if out is not None and out.shape[0] == n + 1 and out.shape[1] == cols.size:
            y = out
            y[:] = 0.0
        else:
            y = np.zeros((n + 1, cols.size))
        j = np.arange(cols.size)
        rf, rt = rhs_row[self.f_bus[cols]], rhs_row[self.t_bus[cols]]
        okf, okt = rf >= 0, rt >= 0
        y[rf[okf], j[okf]] += 1.0
        y[rt[okt], j[okt]] -= 1.0
        kernels.lu_solve_rows(lp, li, lx, upp, ui, ux, y[:n])
        return y, row

    def solver_rows(self) -> tuple[np.ndarray, np.ndarray]:
        """The compiled solver's row maps, per bus: ``(row, rhs_row)``: where a bus's angle
        lies in a solution (``n_reduced`` for the reference buses: the zero row) and where
        its injection goes in a right-hand side (-1 for the reference buses)."""
        self._ensure_factors()
        if self._row_of_bus is None or self._rhs_row is None:
            perm_r, perm_c = self._factors[0], self._factors[1]  # type: ignore[index]
            n, nb = self.keep.size, self.bus_in.size
            red = np.full(nb, -1, dtype=np.int64)
            red[self.keep] = np.arange(n)
            row = np.full(nb, n, dtype=np.int64)
            row[self.keep] = perm_c[red[self.keep]]
            rhs_row = np.full(nb, -1, dtype=np.int64)
            rhs_row[self.keep] = perm_r[red[self.keep]]
            self._row_of_bus, self._rhs_row = row, rhs_row
        return self._row_of_bus, self._rhs_row

    @property
    def h_transposed(self) -> np.ndarray | None:
        """All of H transposed (row m = H[:, m], pu flow per pu injection) when the model
        keeps it (``full_h``), else None."""
        return self._ht

    def lu_arrays(self) -> tuple[np.ndarray, ...]:
        """The reduced B matrix's SuperLU factors as arrays for compiled code:
        ``(perm_r, perm_c, L indptr, L indices, L data, U indptr, U indices, U data)``."""
        self._ensure_factors()
        assert self._factors is not None
        return self._factors

    def _ensure_factors(self) -> None:
        if self._factors is None:
            lu = self.lu
            low, up = lu.L.tocsc(), lu.U.tocsc()
            self._factors = (np.asarray(lu.perm_r, dtype=np.int64),
                             np.asarray(lu.perm_c, dtype=np.int64),
                             low.indptr.astype(np.int64), low.indices.astype(np.int64),
                             low.data.astype(float), up.indptr.astype(np.int64),
                             up.indices.astype(np.int64), up.data.astype(float))

    def _solve_many(self, rhs: np.ndarray) -> np.ndarray:
        """B_r^-1 rhs (reduced system, many right-hand sides) with the compiled solver."""
        self._ensure_factors()
        assert self._factors is not None
        perm_r, perm_c, lp, li, lx, upp, ui, ux = self._factors
        x = np.empty((rhs.shape[0], rhs.shape[1]))
        x[perm_r] = rhs
        kernels.lu_solve_rows(lp, li, lx, upp, ui, ux, x)
        theta: np.ndarray = x[perm_c]
        return theta

    def base_flows(self, p_pu: np.ndarray) -> np.ndarray:
        """Branch flows (pu, nl x S) in the base topology for balanced injections (nb x S),
        every phase shifter in place."""
        theta = self.solve_angles(p_pu - self.pbusinj_pu[:, None])
        dth = theta[self.f_bus] - theta[self.t_bus]
        flows: np.ndarray = self.b_pu[:, None] * dth + self.pfinj_pu[:, None]
        return flows

    def h_columns_computed(self, idx: np.ndarray) -> np.ndarray:
        """H[:, idx] (nl x k): flow change per unit transfer across each branch in ``idx``."""
        nb = self.bus_in.size
        out = np.empty((self.n_branch, idx.size))
        for lo in range(0, idx.size, 512):
            cols = idx[lo:lo + 512]
            rhs = np.zeros((nb, cols.size))
            rhs[self.f_bus[cols], np.arange(cols.size)] += 1.0
            rhs[self.t_bus[cols], np.arange(cols.size)] -= 1.0
            theta = self.solve_angles(rhs)
            out[:, lo:lo + 512] = self.b_pu[:, None] * (theta[self.f_bus] - theta[self.t_bus])
        return out

    def ht_rows(self, idx: np.ndarray) -> np.ndarray:
        """Rows of H transposed: ``ht_rows(M)[j] == H[:, M[j]]`` (k x nl), cached."""
        idx = np.asarray(idx, dtype=np.int64)
        if self._ht is not None:
            ht_rows: np.ndarray = self._ht[idx]
            return ht_rows
        assert self._cache_slot is not None and self._cache_rows is not None
        missing = np.unique(idx[self._cache_slot[idx] < 0])
        if missing.size:
            new = self.h_columns_computed(missing).T
            start = self._cache_used
            if start + missing.size > self._cache_rows.shape[0]:  # grow geometrically
                cap = max(2 * self._cache_rows.shape[0], start + missing.size, 64)
                grown = np.empty((cap, self.n_branch))
                grown[:start] = self._cache_rows[:start]
                self._cache_rows = grown
            self._cache_rows[start:start + missing.size] = new
            self._cache_used = start + missing.size
            self._cache_slot[missing] = np.arange(start, start + missing.size)
        rows: np.ndarray = self._cache_rows[self._cache_slot[idx]]
        return rows

    # ------------------------------------------------------------------ islands
    def new_islands(self, out: np.ndarray) -> int:
        """How many islands the outage of branches ``out`` adds to the base case."""
        out = out[self.live[out]]
        return int(out.size - gf2_rank(self.xor_label[out]))

    def with_load_scale(self, factor: float) -> DCModel:
        """This model with every load x ``factor``: the same factorisation and
        sensitivities, the base state re-balanced (one solve)."""
        m = dataclasses.replace(self, load_bus_mw=self.load_bus_mw * factor)
        if m._cache_slot is not None and m._cache_rows is not None:  # noqa: SLF001 (own class)
            m._cache_slot, m._cache_rows = m._cache_slot.copy(), m._cache_rows.copy()  # noqa: SLF001
        labels = m.island_labels(np.zeros(m.n_branch, dtype=bool))
        m.gen_p0_mw, m.load0_bus_mw, m.p0_pu = m.balance(labels)
        m.f0_pu = m.base_flows(m.p0_pu[:, None])[:, 0]
        return m

    def island_labels(self, out_mask: np.ndarray) -> np.ndarray:
        """Connected-component label per bus with the branches in ``out_mask`` removed."""
        on = self.live & ~out_mask
        return _components(self.bus_in.size, self.f_bus[on], self.t_bus[on])

    def balance(self, labels: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Apply the island balancing rule to the islands ``labels`` (per bus); returns
        (gen_p_mw per generator, served load per bus MW, bus injections pu).

        Injections are zero on islands without generation; on the others the slack takes
        what the rule leaves unbalanced (a surplus with every unit at pmin)."""
        n_isl = int(labels.max()) + 1
        on = self.gen_on
        bal = balance_islands(self.rule, labels, self.gen_bus, on, self.gen_p_case_mw,
                              self.pmin_mw, self.pmax_mw, self.load_bus_mw, self.gs_mw,
                              self.droop_pu)
        gen_p = bal.gen_p_mw
        load = self.load_bus_mw * bal.served[labels]
        return gen_p, load, self._injections(labels, n_isl, bal.units, gen_p, load)

    def _injections(self, labels: np.ndarray, n_isl: int, count: np.ndarray,
                    gen_p: np.ndarray, load: np.ndarray) -> np.ndarray:
        """Bus injections (pu) of a dispatch and served load per bus, zero in dark islands,
        each energised island's remaining imbalance at its slack."""
        on = self.gen_on
        dead_bus = (count[labels] == 0) | ~self.bus_in
        p_mw = np.bincount(self.gen_bus[on], weights=gen_p[on], minlength=labels.size)
        p_mw = p_mw - load - self.gs_mw
        p_mw[dead_bus] = 0.0
        residual = np.bincount(labels, weights=p_mw, minlength=n_isl)
        slack = island_slacks(labels, n_isl, self.ref_gen_bus, self.gen_bus, self.gen_by_pmax)
        ok = slack >= 0
        np.subtract.at(p_mw, slack[ok], residual[ok])
        p_pu: np.ndarray = p_mw / self.base_mva
        return p_pu

    def balance_by_pmax(self, labels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The older rule of :func:`balanced_grid`: every in-service generator of an island
        at the same fraction of its ``pmax_mw`` to meet the island's demand, whatever the
        case's dispatch; returns (gen_p_mw per generator, served load per bus MW)."""
        n_isl = int(labels.max()) + 1
        on = self.gen_on
        gisl = labels[self.gen_bus]
        count = np.bincount(gisl[on], minlength=n_isl)
        pmax = np.where(on, np.maximum(self.pmax_mw, 0.0), 0.0)
        cap = np.bincount(gisl[on], weights=pmax[on], minlength=n_isl)
        need = np.bincount(labels, weights=self.load_bus_mw, minlength=n_isl)
        served = np.where(count > 0, np.minimum(1.0, np.divide(
            cap, need, out=np.ones(n_isl), where=need > 0)), 0.0)
        dispatch = np.divide(need * served, cap, out=np.zeros(n_isl), where=cap > 0)
        return np.where(on, pmax * dispatch[gisl], 0.0), self.load_bus_mw * served[labels]


def _components(nb: int, f: np.ndarray, t: np.ndarray) -> np.ndarray:
    adj = coo_matrix((np.ones(f.size), (f, t)), shape=(nb, nb)).tocsr()
    labels: np.ndarray = connected_components(adj, directed=False)[1].astype(np.int64)
    return labels


def island_slacks(labels: np.ndarray, n_isl: int, ref_gen_bus: np.ndarray, gen_bus: np.ndarray,
            gen_by_pmax: np.ndarray) -> np.ndarray:
    """Slack bus per island (-1 without generation): the lowest type-3 bus with an
    in-service generator, else the bus of the largest in-service generator."""
    slack = np.full(n_isl, -1, dtype=np.int64)
    gb = gen_bus[gen_by_pmax]
    isl, first = np.unique(labels[gb], return_index=True)
    slack[isl] = gb[first]
    refs = np.flatnonzero(ref_gen_bus)
    if refs.size:
        risl, rfirst = np.unique(labels[refs], return_index=True)  # refs ascending
        slack[risl] = refs[rfirst]
    return slack


def bbus_matrix(nb: int, f: np.ndarray, t: np.ndarray, b: np.ndarray) -> csc_matrix:
    rows = np.concatenate([f, t, f, t])
    cols = np.concatenate([f, t, t, f])
    vals = np.concatenate([b, b, -b, -b])
    return coo_matrix((vals, (rows, cols)), shape=(nb, nb)).tocsr()


def _xor_labels(nb: int, f: np.ndarray, t: np.ndarray, live: np.ndarray, seed: int) -> np.ndarray:
    """Random cycle-space labels: 0 for bridges, equal for cut pairs (w.h.p.)."""
    rng = np.random.default_rng(seed)
    edges = np.flatnonzero(live)
    adj: list[list[tuple[int, int]]] = [[] for _ in range(nb)]
    for e in edges.tolist():
        adj[f[e]].append((int(t[e]), e))
        adj[t[e]].append((int(f[e]), e))
    seen = np.zeros(nb, dtype=bool)
    parent_edge = np.full(nb, -1)
    parent = np.full(nb, -1)
    order: list[int] = []
    tree = np.zeros(f.size, dtype=bool)
    for root in range(nb):
        if seen[root]:
            continue
        seen[root] = True
        stack = [root]
        while stack:
            u = stack.pop()
            order.append(u)
            for v, e in adj[u]:
                if not seen[v]:
                    seen[v] = True
                    parent[v], parent_edge[v] = u, e
                    tree[e] = True
                    stack.append(v)
    label = np.zeros(f.size, dtype=np.uint64)
    non_tree = edges[~tree[edges]]
    r = rng.integers(1, 2**63, size=non_tree.size, dtype=np.int64).astype(np.uint64)
    label[non_tree] = r
    acc = np.zeros(nb, dtype=np.uint64)
    np.bitwise_xor.at(acc, f[non_tree], r)
    np.bitwise_xor.at(acc, t[non_tree], r)
    acc_l = acc.tolist()
    pe, pa = parent_edge.tolist(), parent.tolist()
    lab = label.tolist()
    for u in reversed(order):  # children before parents
        if pe[u] >= 0:
            lab[pe[u]] = acc_l[u]
            acc_l[pa[u]] ^= acc_l[u]
    return np.array(lab, dtype=np.uint64)


def balanced_grid(grid: Grid) -> Grid:
    """``grid`` with its generators re-dispatched in proportion to ``pmax_mw`` to meet each
    island's demand (:meth:`DCModel.balance_by_pmax`), whatever the case's own dispatch.

    An explicit option only (``--balanced-dispatch``): studies start from the case's own
    dispatch and move only the imbalances (see the module docstring). This rewrites the
    whole dispatch (46 % of case9241pegase's generation), so results are no longer
    comparable with other tools on the same case; the MW moved is in ``notes["dispatch"]``.
    """
    model = DCModel.build(grid, full_h=False)
    gen_p, _ = model.balance_by_pmax(model.island_labels(np.zeros(model.n_branch, dtype=bool)))
    moved = float(np.abs(gen_p - model.gen_p_case_mw)[model.gen_on].sum())
    gen = {k: np.array(v) for k, v in grid.gen.items()}
    gen["p_mw"] = np.where(model.gen_on, gen_p, gen["p_mw"])
    note = (f"generation re-dispatched by participation factors (pmax_mw) to balance each "
            f"island: {moved:.1f} MW moved in total")
    return grid.replace(gen=gen, notes={**grid.notes, "dispatch": note})
