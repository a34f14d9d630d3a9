"""Numba CPU kernels of the double-cable solver.

The cable is NEURON's ``extracellular`` double cable with one compartment per section: unknowns
per section ``i`` are the intracellular potential ``vi`` and the periaxonal potential ``vx``
(layer 0); the membrane potential is ``vm = vi − vx``. Outer layer 1 is tied to the applied
potential ``e`` (its ``xg = 1e9`` S/cm² is put in series with layer 0's). Units: nF, µS, mV,
ms, nA.

One step of ``dt`` is NEURON's fixed step with ``secondorder = 0``: ionic currents are linear in
``vm`` at the present gates (conductance ``G``, ``ΣgE``), the implicit-Euler system for the new
``(vi, vx)`` is solved by a block-tridiagonal (2×2) Thomas sweep, then the gates are advanced
exactly (``cnexp``) with the rates at the new ``vm``. The applied potential of member ``b`` in step
``k`` is ``amp_b · wave[k] · ve_b``, held over the step (PyFibers sets ``e_extracellular`` to the
waveform at ``k·dt`` before advancing from ``k·dt`` to ``(k+1)·dt``).

:func:`run_batch` advances a batch of members (``prange`` over members), each stopping early when
its action potential reaches the detection section or when it has clearly settled back to rest
after the stimulus.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit, prange
from numpy.typing import NDArray

from openvns.nerve.kernels.channels import N_GATES, conductance, rates

F64 = NDArray[np.float64]
I64 = NDArray[np.int64]

# fast-math flags without 'nnan'/'ninf': NaN checks stay meaningful
_FM = {"nsz", "arcp", "contract", "reassoc"}


@njit(cache=True, fastmath=_FM)
def step(
    C: F64, gL: F64, EL: F64, gxg: F64, cx: F64, ga: F64, gx: F64,
    act: I64, gbar: F64, model: int, P: F64, dt: float,
    ve: F64, s_old: float, s_new: float,
    vm: F64, vx: F64, gates: F64, work: F64, rt: F64, Gch: F64, Jch: F64,
    table: F64, t_v0: float, t_inv_h: float,
) -> None:  # fmt: skip
    """Advance one member by one step of ``dt`` (ms), in place (see the module docstring).

    ``table`` (from :func:`gate_table` for this ``dt``; empty for exact rates) holds, per
    voltage ``t_v0 + i / t_inv_h``, each gate's steady state and update factor
    ``1 − exp(−dt/τ)``, interpolated linearly; outside it the rates are computed exactly.
    """
    n = C.size
    n_act = act.size
    for j in range(n_act):
        G, J = conductance(model, gbar[j], gates[j], P)
        Gch[j] = G
        Jch[j] = J
    inv_dt = 1.0 / dt
    jn = 0
    for i in range(n):
        cd = C[i] * inv_dt
        a = cd + gL[i]
        r = cd * vm[i] + EL[i]
        if jn < n_act and act[jn] == i:
            a += Gch[jn]
            r += Jch[jn]
            jn += 1
        cxd = cx[i] * inv_dt
        e_new = s_new * ve[i]
        e_old = s_old * ve[i]
        p = a
        q = -a
        s = a + gxg[i] + cxd
        b1 = r
        b2 = -r + gxg[i] * e_new + cxd * (e_new - e_old + vx[i])
        if i > 0:
            g1 = ga[i - 1]
            g2 = gx[i - 1]
            pi = work[i - 1, 0]
            qi = work[i - 1, 1]
            si = work[i - 1, 2]
            c1 = work[i - 1, 3]
            c2 = work[i - 1, 4]
            p += g1 - g1 * g1 * pi
            q -= g1 * g2 * qi
            s += g2 - g2 * g2 * si
            b1 += g1 * (pi * c1 + qi * c2)
            b2 += g2 * (qi * c1 + si * c2)
        if i < n - 1:
            p += ga[i]
            s += gx[i]
        inv_det = 1.0 / (p * s - q * q)
        work[i, 0] = s * inv_det
        work[i, 1] = -q * inv_det
        work[i, 2] = p * inv_det
        work[i, 3] = b1
        work[i, 4] = b2
    x1 = 0.0
    x2 = 0.0
    for i in range(n - 1, -1, -1):
        c1 = work[i, 3]
        c2 = work[i, 4]
        if i < n - 1:
            c1 += ga[i] * x1
            c2 += gx[i] * x2
        x1 = work[i, 0] * c1 + work[i, 1] * c2
        x2 = work[i, 1] * c1 + work[i, 2] * c2
        vm[i] = x1 - x2
        vx[i] = x2
    n_tab = table.shape[0]
    for j in range(n_act):
        v = vm[act[j]]
        x = (v - t_v0) * t_inv_h
        if x >= 0.0 and x < n_tab - 1:
            it = int(x)
            fr = x - it
            for g in range(N_GATES):
                inf = table[it, 2 * g] + fr * (table[it + 1, 2 * g] - table[it, 2 * g])
                fac = table[it, 2 * g + 1] + fr * (table[it + 1, 2 * g + 1] - table[it, 2 * g + 1])
                gates[j, g] += fac * (inf - gates[j, g])
        else:
            rates(model, v, P, rt)
            for g in range(N_GATES):
                gates[j, g] += -math.expm1(-dt / rt[2 * g + 1]) * (rt[2 * g] - gates[j, g])


@njit(cache=True)
def gate_table(model: int, P: F64, v0: float, h: float, n: int, dt: float) -> F64:
    """``(n, 8)``: per voltage ``v0 + i h`` (mV), each gate's ``x∞`` and ``1 − exp(−dt/τ)``."""
    out = np.empty((n, 2 * N_GATES))
    rt = np.empty(2 * N_GATES)
    for i in range(n):
        rates(model, v0 + i * h, P, rt)
        for g in range(N_GATES):
            out[i, 2 * g] = rt[2 * g]
            out[i, 2 * g + 1] = -math.expm1(-dt / rt[2 * g + 1])
    return out


@njit(cache=True)
def rest_state(
    C: F64, gL: F64, EL: F64, gxg: F64, cx: F64, ga: F64, gx: F64,
    act: I64, gbar: F64, model: int, P: F64,
    v_rest: float, n_steps: int, dt: float,
) -> tuple[F64, F64, F64]:  # fmt: skip
    """The state after PyFibers' initialisation: ``vm = v_rest``, ``vx = 0``, gates at their
    steady state at ``v_rest``, then ``n_steps`` steps of ``dt`` (ms) with no stimulus."""
    n = C.size
    vm = np.full(n, v_rest)
    vx = np.zeros(n)
    gates = np.empty((act.size, N_GATES))
    rt = np.empty(2 * N_GATES)
    rates(model, v_rest, P, rt)
    for j in range(act.size):
        for g in range(N_GATES):
            gates[j, g] = rt[2 * g]
    work = np.empty((n, 5))
    Gch = np.empty(act.size)
    Jch = np.empty(act.size)
    ve = np.zeros(n)
    no_table = np.empty((0, 2 * N_GATES))
    for _ in range(n_steps):
        step(C, gL, EL, gxg, cx, ga, gx, act, gbar, model, P, dt, ve, 0.0, 0.0,
             vm, vx, gates, work, rt, Gch, Jch, no_table, 0.0, 1.0)  # fmt: skip
    return vm, vx, gates


@njit(cache=True, parallel=True)
def run_batch(
    C: F64, gL: F64, EL: F64, gxg: F64, cx: F64, ga: F64, gx: F64,
    act: I64, gbar: F64, model: int, P: F64,
    vm0: F64, vx0: F64, gates0: F64,
    ve_rows: F64, row_of: I64, amp: F64, wave: F64, dt: float,
    table: F64, t_v0: float, t_inv_h: float,
    det_sec: int, v_ap: float,
    quiet_from: int, quiet_every: int, quiet_lo: float, quiet_hi: float,
    fired: NDArray[np.bool_], fire_step: I64, n_run: I64,
) -> None:  # fmt: skip
    """Simulate every member ``b``: potential ``amp[b] * wave[k] * ve_rows[row_of[b]]``.

    A member stops at the first step where ``vm[det_sec] >= v_ap`` (``fired``, ``fire_step``) or,
    from step ``quiet_from`` on and every ``quiet_every`` steps, when every active section lies
    in ``(quiet_lo, quiet_hi)`` mV and the highest one has fallen since the previous check.
    ``n_run`` is the number of steps simulated.
    """
    n = C.size
    n_act = act.size
    n_steps = wave.size
    for b in prange(amp.size):
        vm = vm0.copy()
        vx = vx0.copy()
        gates = gates0.copy()
        work = np.empty((n, 5))
        rt = np.empty(2 * N_GATES)
        Gch = np.empty(n_act)
        Jch = np.empty(n_act)
        ve = ve_rows[row_of[b]]
        a = amp[b]
        s_old = 0.0
        last_max = np.inf
        fired[b] = False
        fire_step[b] = -1
        k = 0
        while k < n_steps:
            s_new = a * wave[k]
            step(C, gL, EL, gxg, cx, ga, gx, act, gbar, model, P, dt, ve, s_old, s_new,
                 vm, vx, gates, work, rt, Gch, Jch, table, t_v0, t_inv_h)  # fmt: skip
            s_old = s_new
            k += 1
            if vm[det_sec] >= v_ap:
                fired[b] = True
                fire_step[b] = k - 1
                break
            if k >= quiet_from and (k - quiet_from) % quiet_every == 0:
                vmax = -np.inf
                vmin = np.inf
                for j in range(n_act):
                    v = vm[act[j]]
                    vmax = max(vmax, v)
                    vmin = min(vmin, v)
                if vmax < quiet_hi and vmin > quiet_lo and vmax < last_max:
                    break
                last_max = vmax
        n_run[b] = k


@njit(cache=True)
def run_traces(
    C: F64, gL: F64, EL: F64, gxg: F64, cx: F64, ga: F64, gx: F64,
    act: I64, gbar: F64, model: int, P: F64,
    vm0: F64, vx0: F64, gates0: F64,
    ve: F64, amp: float, wave: F64, dt: float,
    table: F64, t_v0: float, t_inv_h: float,
    record: I64, every: int,
) -> tuple[F64, F64, F64]:  # fmt: skip
    """One member without early exit: ``vm`` and ``vx`` of sections ``record`` and the gates
    of every active section, sampled at ``t = 0`` and after every ``every``-th step."""
    n = C.size
    n_act = act.size
    n_steps = wave.size
    n_out = n_steps // every + 1
    out_vm = np.empty((n_out, record.size))
    out_vx = np.empty((n_out, record.size))
    out_g = np.empty((n_out, n_act, N_GATES))
    vm = vm0.copy()
    vx = vx0.copy()
    gates = gates0.copy()
    work = np.empty((n, 5))
    rt = np.empty(2 * N_GATES)
    Gch = np.empty(n_act)
    Jch = np.empty(n_act)
    for r in range(record.size):
        out_vm[0, r] = vm[record[r]]
        out_vx[0, r] = vx[record[r]]
    out_g[0] = gates
    s_old = 0.0
    for k in range(n_steps):
        s_new = amp * wave[k]
        step(C, gL, EL, gxg, cx, ga, gx, act, gbar, model, P, dt, ve, s_old, s_new,
             vm, vx, gates, work, rt, Gch, Jch, table, t_v0, t_inv_h)  # fmt: skip
        s_old = s_new
        if (k + 1) % every == 0:
            o = (k + 1) // every
            for r in range(record.size):
                out_vm[o, r] = vm[record[r]]
                out_vx[o, r] = vx[record[r]]
            out_g[o] = gates
    return out_vm, out_vx, out_g
