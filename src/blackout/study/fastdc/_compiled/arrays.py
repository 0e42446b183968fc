"""The named arrays the compiled cascade loop hands between its functions.

Each is a :class:`typing.NamedTuple` of numpy arrays, which numba compiles like a plain
tuple (``@njit(parallel=True, cache=True)`` included) while every function reads its fields
by name. Units: pu flows and injections on the case's ``base_mva``; MW where a field says
so; bus positions are rows of the reduced B (``pos``), branch positions the model's.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

__all__ = ["BaseArrays", "BatchArrays", "CompiledGrid", "LoopSettings", "Outputs", "Workspace"]


class CompiledGrid(NamedTuple):
    """The model's arrays (:meth:`CascadePlan.grid`), read-only in the loop."""

    pos: np.ndarray  # B row of each bus
    colp: np.ndarray  # pattern of L (the base B's LDL^T): column pointers
    coli: np.ndarray  # ... row indices
    colbr: np.ndarray  # ... the branch behind each entry (-1: fill)
    lp: np.ndarray  # L's column pointers of the batched factorisation
    ref_buses: np.ndarray  # type-3 buses with an in-service generator
    gen_order: np.ndarray  # in-service generators, largest pmax first
    pmax_on: np.ndarray  # pmax of each in-service generator, MW
    gs_mw: np.ndarray  # shunt conductance per bus, MW
    load_mw: np.ndarray  # connected demand per bus, MW
    bus_in: np.ndarray  # bus in service
    live: np.ndarray  # branch in service in the base case
    f_bus: np.ndarray  # from bus per branch
    t_bus: np.ndarray  # to bus per branch
    b_pu: np.ndarray  # DC susceptance per branch, pu
    pf_pu: np.ndarray  # phase-shifter flow offset per branch, pu
    gen_bus: np.ndarray  # bus per generator
    gen_on: np.ndarray  # generator in service
    li: np.ndarray  # L's row indices
    rowp: np.ndarray  # L by rows: pointers
    rowc: np.ndarray  # ... columns
    rowo: np.ndarray  # ... offsets into L's values
    acolp: np.ndarray  # B's strictly lower entries by column: pointers
    arow: np.ndarray  # ... rows
    abr: np.ndarray  # ... the branch of each entry
    entry: np.ndarray  # B's lower entry of each branch (-1: none)
    aval0: np.ndarray  # B's strictly lower entries of the base case, pu
    diag0: np.ndarray  # B's diagonal of the base case by position, pu
    shifters: np.ndarray  # branches with a phase shift
    adjp: np.ndarray  # live branches at each bus: adjb[adjp[i]:adjp[i+1]]
    adjb: np.ndarray
    inert: np.ndarray  # no load, in-service generation or shunt conductance at the bus
    forest_v: np.ndarray  # a spanning forest of the live branches (breadth-first): bus,
    forest_p: np.ndarray  # its parent bus
    forest_e: np.ndarray  # and the branch to it
    chords: np.ndarray  # the live branches off the forest
    gen_pc: np.ndarray  # per generator: case dispatch inside its limits, MW
    gen_lo: np.ndarray  # pmin, MW
    gen_hi: np.ndarray  # pmax (at least pmin), MW
    w_up: np.ndarray  # participation weight to go up, MW (0 out of service)
    w_dn: np.ndarray  # participation weight to go down, MW


class BaseArrays(NamedTuple):
    """The Woodbury arrays and the intact, balanced base case (:meth:`CascadePlan.base`)."""

    ht: np.ndarray  # H transposed (row m = H[:, m]), pu flow per pu injection
    xor: np.ndarray  # cycle-space label per branch (uint64)
    f0: np.ndarray  # base flows, pu
    label: np.ndarray  # island per bus
    p: np.ndarray  # bus injections, pu
    grounded: np.ndarray  # grounded B positions
    dead: np.ndarray  # dark islands
    lx: np.ndarray  # LDL^T of the base B: L values (empty: no split on the Woodbury path)
    d: np.ndarray  # ... D


class Workspace(NamedTuple):
    """State and scratch of one scenario slot (:func:`.islands._work`)."""

    floats: np.ndarray  # (8, nb): cap, need, served, disp, resid per island; p (bus
    # injections, pu); B's diagonal by position; a right-hand-side scratch
    ints: np.ndarray  # (5, nb): union-find, label (island per bus), subtree top,
    # generators and slack per island
    flags: np.ndarray  # (2, nb) bool: grounded (by position), dead (per island)
    out: np.ndarray  # per branch: out of service
    flow: np.ndarray  # per branch: flow, pu
    new: np.ndarray  # this round's trips
    wb_out: np.ndarray  # Woodbury outage list
    wb_mat: np.ndarray  # Woodbury matrix
    wb_vec: np.ndarray  # Woodbury vector
    basis: np.ndarray  # GF(2) basis of the outages' cycle labels (uint64)
    on: np.ndarray  # branches in service (ascending)
    state: np.ndarray  # ints: scenario (-1: free), round, islands, outages in the Woodbury
    # list, Woodbury still valid, trips, new trips, branches in service, islands split by a
    # search (labels not in union-find order; on the Woodbury path its flows then start
    # from flow_base), splits not yet balanced, labels stale (union-find at the next
    # round), a split not yet balanced is not inert
    sums: np.ndarray  # served MW, total load MW
    lower: np.ndarray  # B's strictly lower entries (0 for branches out), pu
    marks: np.ndarray  # (3, nb): the split search's marks (0 outside a search), 2 queues
    flow_base: np.ndarray  # base-topology flows of the current injections (pu, once an
    # island split inside the Woodbury path)
    gen_p: np.ndarray  # each generator's output in the balance, MW
    share: np.ndarray  # (6, nb): per island the imbalance to share and the load plus
    # shunt conductance to meet (MW), then the balance's scratch


class BatchArrays(NamedTuple):
    """The batched sparse round, scenarios innermost (columns) unless staged by scenario."""

    diag: np.ndarray  # (nb, batch): B's diagonal
    lower: np.ndarray  # (n_a, batch): B's strictly lower entries
    x: np.ndarray  # (nb, batch): right-hand side, then solution
    lx: np.ndarray  # (nnz, batch): L
    d: np.ndarray  # (nb, batch): D
    scratch: np.ndarray  # (nb, batch)
    piv_scratch: np.ndarray  # (batch,)
    zero_pivot: np.ndarray  # (batch,): nonzero where a scenario met a zero pivot
    x_t: np.ndarray  # (batch, nb): right-hand side staged, solution transposed
    diag_t: np.ndarray  # (batch, nb): diagonal staged
    lower_t: np.ndarray  # (batch, n_a): lower entries staged


class LoopSettings(NamedTuple):
    """The loop's scalars (:func:`.loop.loop_settings`)."""

    max_rounds: int  # rounds that trip something before a scenario stops
    base_mva: float  # the case's MVA base
    kw: int  # Woodbury while at most this many outages keep the base islands (0: never)
    search: int  # past the Woodbury path, search a round's trips for splits when at most
    # this many (0: union-find every round)
    n_base: int  # islands of the base case
    served_base: float  # load served in the base case, MW
    batch: int  # scenarios whose sparse rounds run together
    n_slot: int  # scenarios in flight per thread


class Outputs(NamedTuple):
    """Per scenario: what the loop writes (:func:`.loop.run_block`)."""

    trips: np.ndarray  # (scenarios, branches) int32: tripped branches in trip order
    n_trips: np.ndarray  # trips per scenario
    rounds: np.ndarray  # rounds that tripped something
    lost: np.ndarray  # load not served at the end, MW
    islands: np.ndarray  # islands at the end
    ok: np.ndarray  # False where a zero pivot stopped the scenario
