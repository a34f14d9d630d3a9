"""Member-interleaved ("lane") numba kernel of the double-cable solver.

The same step as :func:`openvns.nerve.kernels.cpu.step` (NEURON's backward Euler with
``secondorder = 0``, 2×2 block-tridiagonal Thomas sweep, ``cnexp`` gates; units nF, µS, mV, ms,
nA), but for :data:`LANES` members at once: every state array is laid out ``[section, lane]``
with the lane index innermost and every loop over lanes is the innermost loop, so the serial
section-to-section dependency of the sweep is shared by the lanes and the arithmetic vectorises
(SIMD across members). Boundary terms are folded in branch-free with zero-padded coupling
arrays; each operation is the one of the scalar kernel in the same order, so the lanes agree with
it to rounding (fast-math contraction may differ: ~1e-15 relative).

:func:`run_lanes` runs a batch: ``prange`` over ``n_chunks`` chunks (one per thread); a chunk
takes members ``order[c], order[c + n_chunks], …`` and keeps its lanes busy, loading the next
member into a lane as soon as the lane's member has fired or settled (same exit rules as
:func:`~openvns.nerve.kernels.cpu.run_batch`).
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit, prange
from numpy.typing import NDArray

from openvns.nerve.kernels.channels import AXNODE, N_GATES, rates, reversal_potentials

F64 = NDArray[np.float64]
I64 = NDArray[np.int64]

#: Members advanced together by one thread (SIMD width of the lane loops).
LANES = 4

# fast-math flags without 'nnan'/'ninf' (as the scalar kernel)
_FM = {"nsz", "arcp", "contract", "reassoc"}


@njit(cache=True, fastmath=_FM)
def _conductances(model: int, gbar: F64, P: F64, gates: F64, Gch: F64, Jch: F64) -> None:
    """Per active section and lane: channel conductance ``G`` (µS) and ``Σ g E`` (nA)."""
    e_na, e_k = reversal_potentials(model, P)
    n_act = gbar.shape[0]
    if model == AXNODE:
        for j in range(n_act):
            g0, g1, g2 = gbar[j, 0], gbar[j, 1], gbar[j, 2]
            for lane in range(LANES):
                mp = gates[j, 0, lane]
                m = gates[j, 1, lane]
                g_na = g0 * mp * mp * mp + g1 * m * m * m * gates[j, 2, lane]
                g_k = g2 * gates[j, 3, lane]
                Gch[j, lane] = g_na + g_k
                Jch[j, lane] = g_na * e_na + g_k * e_k
    else:
        for j in range(n_act):
            g0, g1 = gbar[j, 0], gbar[j, 1]
            for lane in range(LANES):
                m = gates[j, 0, lane]
                n = gates[j, 2, lane]
                g_na = g0 * m * m * m * gates[j, 1, lane]
                g_k = g1 * n * n * n * gates[j, 3, lane]
                Gch[j, lane] = g_na + g_k
                Jch[j, lane] = g_na * e_na + g_k * e_k


@njit(cache=True, fastmath=_FM)
def lane_step(
    C: F64, gL: F64, EL: F64, gxg: F64, cx: F64,
    ga_prev: F64, gx_prev: F64, ga_next: F64, gx_next: F64,
    act: I64, gbar: F64, model: int, P: F64, dt: float,
    VE: F64, s_old: F64, s_new: F64,
    vm: F64, vx: F64, gates: F64, wk: F64, Gch: F64, Jch: F64, x1: F64, x2: F64,
    table: F64, t_v0: float, t_inv_h: float, rt: F64,
) -> None:  # fmt: skip
    """Advance every lane by one step of ``dt`` (ms), in place.

    ``VE[i, l]`` is lane ``l``'s potential per mA at section ``i`` and ``s_old``/``s_new`` its
    stimulus scale (mA) over the previous and this step. ``ga_prev[i]`` is the intracellular
    conductance (µS) to section ``i − 1`` (0 for ``i = 0``), ``ga_next[i]`` to ``i + 1`` (0 at the
    end); likewise ``gx_*`` for the periaxonal layer. ``wk`` (``(n + 1, 5, LANES)``, row 0 zero)
    holds the forward sweep; ``x1``, ``x2`` (``LANES``) are scratch.
    """
    n = C.size
    n_act = act.size
    _conductances(model, gbar, P, gates, Gch, Jch)
    inv_dt = 1.0 / dt
    jn = 0
    for i in range(n):
        cd = C[i] * inv_dt
        a0 = cd + gL[i]
        el = EL[i]
        cxd = cx[i] * inv_dt
        gg = gxg[i]
        g1 = ga_prev[i]
        g2 = gx_prev[i]
        h1 = ga_next[i]
        h2 = gx_next[i]
        fa = 0.0
        jj = 0
        if jn < n_act and act[jn] == i:
            fa = 1.0
            jj = jn
            jn += 1
        for lane in range(LANES):
            a = a0 + fa * Gch[jj, lane]
            r = cd * vm[i, lane] + el + fa * Jch[jj, lane]
            e_new = s_new[lane] * VE[i, lane]
            e_old = s_old[lane] * VE[i, lane]
            pi = wk[i, 0, lane]
            qi = wk[i, 1, lane]
            si = wk[i, 2, lane]
            c1 = wk[i, 3, lane]
            c2 = wk[i, 4, lane]
            p = a + (g1 - g1 * g1 * pi) + h1
            q = -a - g1 * g2 * qi
            s = a + gg + cxd + (g2 - g2 * g2 * si) + h2
            b1 = r + g1 * (pi * c1 + qi * c2)
            b2 = -r + gg * e_new + cxd * (e_new - e_old + vx[i, lane]) + g2 * (qi * c1 + si * c2)
            inv_det = 1.0 / (p * s - q * q)
            wk[i + 1, 0, lane] = s * inv_det
            wk[i + 1, 1, lane] = -q * inv_det
            wk[i + 1, 2, lane] = p * inv_det
            wk[i + 1, 3, lane] = b1
            wk[i + 1, 4, lane] = b2
    for lane in range(LANES):
        x1[lane] = 0.0
        x2[lane] = 0.0
    for i in range(n - 1, -1, -1):
        h1 = ga_next[i]
        h2 = gx_next[i]
        for lane in range(LANES):
            c1 = wk[i + 1, 3, lane] + h1 * x1[lane]
            c2 = wk[i + 1, 4, lane] + h2 * x2[lane]
            y1 = wk[i + 1, 0, lane] * c1 + wk[i + 1, 1, lane] * c2
            y2 = wk[i + 1, 1, lane] * c1 + wk[i + 1, 2, lane] * c2
            vm[i, lane] = y1 - y2
            vx[i, lane] = y2
            x1[lane] = y1
            x2[lane] = y2
    n_tab = table.shape[0]
    for j in range(n_act):
        ia = act[j]
        for lane in range(LANES):
            v = vm[ia, lane]
            x = (v - t_v0) * t_inv_h
            if x >= 0.0 and x < n_tab - 1:
                it = int(x)
                fr = x - it
                for g in range(N_GATES):
                    t0 = table[it, 2 * g]
                    f0 = table[it, 2 * g + 1]
                    inf = t0 + fr * (table[it + 1, 2 * g] - t0)
                    fac = f0 + fr * (table[it + 1, 2 * g + 1] - f0)
                    gates[j, g, lane] += fac * (inf - gates[j, g, lane])
            else:
                rates(model, v, P, rt)
                for g in range(N_GATES):
                    gates[j, g, lane] += -math.expm1(-dt / rt[2 * g + 1]) * (
                        rt[2 * g] - gates[j, g, lane]
                    )


@njit(cache=True)
def _load(
    lane: int, vm0: F64, vx0: F64, gates0: F64, ve: F64, vm: F64, vx: F64, gates: F64, VE: F64
) -> None:
    """Put a member at rest (``vm0``, ``vx0``, ``gates0``) with potentials ``ve`` into ``lane``."""
    for i in range(vm0.size):
        vm[i, lane] = vm0[i]
        vx[i, lane] = vx0[i]
        VE[i, lane] = ve[i]
    for j in range(gates0.shape[0]):
        for g in range(N_GATES):
            gates[j, g, lane] = gates0[j, g]


@njit(cache=True, fastmath=_FM)
def _run_chunk(
    c: int, C: F64, gL: F64, EL: F64, gxg: F64, cx: F64,
    ga_prev: F64, gx_prev: F64, ga_next: F64, gx_next: F64,
    act: I64, gbar: F64, model: int, P: F64,
    vm0: F64, vx0: F64, gates0: F64,
    ve_rows: F64, row_of: I64, amp: F64, wave: F64, dt: float,
    table: F64, t_v0: float, t_inv_h: float,
    det_sec: int, v_ap: float,
    quiet_from: int, quiet_every: int, quiet_lo: float, quiet_hi: float,
    order: I64, n_chunks: int,
    fired: NDArray[np.bool_], fire_step: I64, n_run: I64,
) -> None:  # fmt: skip
    """Chunk ``c`` of :func:`run_lanes`: members ``order[c::n_chunks]`` through the lanes."""
    n = C.size
    n_act = act.size
    n_steps = wave.size
    n_mem = order.size
    vm = np.empty((n, LANES))
    vx = np.empty((n, LANES))
    VE = np.zeros((n, LANES))
    gates = np.empty((n_act, N_GATES, LANES))
    wk = np.zeros((n + 1, 5, LANES))
    Gch = np.empty((n_act, LANES))
    Jch = np.empty((n_act, LANES))
    x1 = np.empty(LANES)
    x2 = np.empty(LANES)
    rt = np.empty(2 * N_GATES)
    s_old = np.zeros(LANES)
    s_new = np.zeros(LANES)
    member = np.full(LANES, -1, dtype=np.int64)
    k = np.zeros(LANES, dtype=np.int64)
    last_max = np.full(LANES, np.inf)
    nxt = c
    busy = 0
    for lane in range(LANES):
        if nxt < n_mem:
            b = order[nxt]
            nxt += n_chunks
            _load(lane, vm0, vx0, gates0, ve_rows[row_of[b]], vm, vx, gates, VE)
            member[lane] = b
            busy += 1
        else:
            _load(lane, vm0, vx0, gates0, ve_rows[0] * 0.0, vm, vx, gates, VE)
    while busy > 0:
        for lane in range(LANES):
            b = member[lane]
            s_new[lane] = amp[b] * wave[k[lane]] if b >= 0 else 0.0
        lane_step(C, gL, EL, gxg, cx, ga_prev, gx_prev, ga_next, gx_next, act, gbar, model,
                  P, dt, VE, s_old, s_new, vm, vx, gates, wk, Gch, Jch, x1, x2,
                  table, t_v0, t_inv_h, rt)  # fmt: skip
        for lane in range(LANES):
            b = member[lane]
            s_old[lane] = s_new[lane]
            if b < 0:
                continue
            k[lane] += 1
            kk = k[lane]
            done = False
            if vm[det_sec, lane] >= v_ap:
                fired[b] = True
                fire_step[b] = kk - 1
                done = True
            elif kk >= quiet_from and (kk - quiet_from) % quiet_every == 0:
                vmax = -np.inf
                vmin = np.inf
                for j in range(n_act):
                    v = vm[act[j], lane]
                    vmax = max(vmax, v)
                    vmin = min(vmin, v)
                if vmax < quiet_hi and vmin > quiet_lo and vmax < last_max[lane]:
                    done = True
                last_max[lane] = vmax
            if not done and kk >= n_steps:
                done = True
            if done:
                n_run[b] = kk
                if nxt < n_mem:
                    b = order[nxt]
                    nxt += n_chunks
                    _load(lane, vm0, vx0, gates0, ve_rows[row_of[b]], vm, vx, gates, VE)
                    member[lane] = b
                    s_old[lane] = 0.0
                    k[lane] = 0
                    last_max[lane] = np.inf
                else:
                    member[lane] = -1
                    s_old[lane] = 0.0
                    busy -= 1


@njit(cache=True, parallel=True)
def run_lanes(
    C: F64, gL: F64, EL: F64, gxg: F64, cx: F64, ga: F64, gx: F64,
    act: I64, gbar: F64, model: int, P: F64,
    vm0: F64, vx0: F64, gates0: F64,
    ve_rows: F64, row_of: I64, amp: F64, wave: F64, dt: float,
    table: F64, t_v0: float, t_inv_h: float,
    det_sec: int, v_ap: float,
    quiet_from: int, quiet_every: int, quiet_lo: float, quiet_hi: float,
    order: I64, n_chunks: int,
    fired: NDArray[np.bool_], fire_step: I64, n_run: I64,
) -> None:  # fmt: skip
    """Simulate every member ``b`` (potential ``amp[b] * wave[k] * ve_rows[row_of[b]]``).

    Exit rules and outputs as :func:`openvns.nerve.kernels.cpu.run_batch`: a member stops at the
    first step where ``vm[det_sec] >= v_ap`` mV (``fired``, ``fire_step``) or, from step
    ``quiet_from`` on and every ``quiet_every`` steps, when every active section lies in
    ``(quiet_lo, quiet_hi)`` mV and the highest one has fallen since the previous check;
    ``n_run`` is the number of steps simulated. ``order`` is the order in which members are
    taken, dealt round-robin to ``n_chunks`` chunks run in parallel.
    """
    zero = np.zeros(1)
    ga_prev = np.concatenate((zero, ga))
    gx_prev = np.concatenate((zero, gx))
    ga_next = np.concatenate((ga, zero))
    gx_next = np.concatenate((gx, zero))
    for c in prange(n_chunks):
        c64: int = np.int64(c)  # type: ignore[assignment]  # the parfor index is unsigned
        _run_chunk(c64, C, gL, EL, gxg, cx, ga_prev, gx_prev, ga_next, gx_next, act, gbar, model,
                   P, vm0, vx0, gates0, ve_rows, row_of, amp, wave, dt, table, t_v0, t_inv_h,
                   det_sec, v_ap, quiet_from, quiet_every, quiet_lo, quiet_hi, order, n_chunks,
                   fired, fire_step, n_run)  # fmt: skip
