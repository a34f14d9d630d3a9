#!/usr/bin/env python3
"""Re-simulate a dumped PyFibers/NEURON model with plain numpy/scipy and compare to its traces.

Our own code (MIT), numpy + scipy only: it does NOT import pyfibers or neuron.  It checks that
the discretisation described in tests/data/pyfibers/models/README.md (backward Euler for the
intracellular + two extracellular-layer cable, currents linearised at the old v with the old
gates, then cnexp gate update with the new v) reproduces NEURON's numbers, using only the data
files:

    python tools/reference/check_discretization.py \
        tests/data/pyfibers/models/MRG_INTERPOLATION_10.0.json \
        tests/data/pyfibers/traces/mrg10_r1_pw0.1_0.15.json

A slow, unoptimised reference (sparse LU every step); not part of the package.
"""

from __future__ import annotations

import json
import sys

import numpy as np
import scipy.sparse as sp
import scipy.sparse.linalg as spla

Q1, Q2, Q3 = 2.2 ** ((37 - 20) / 10), 2.9 ** ((37 - 20) / 10), 3.0 ** ((37 - 36) / 10)


def _exp(x):
    return np.where(x < -100, 0.0, np.exp(np.minimum(x, 700)))


def _lin(v, a, b, c, sign=1.0):
    """a*s*(v+b)/(1-exp(-s*(v+b)/c)) with its removable singularity (s = +1 or -1)."""
    x = sign * (v + b)
    small = np.abs((v + b) / c) < 1e-6
    with np.errstate(divide="ignore", invalid="ignore"):
        val = a * x / (1 - _exp(-x / c))
    return np.where(small, a * c, val)


def mrg_rates(v):
    amp = np.where(v < -150, 0.00086725, _lin(v, 0.01, 27, 10.2)) * Q1
    bmp = np.where(v > 150, 1.5855e-05, _lin(v, 0.00025, 34, 10, -1)) * Q1
    am = np.where(v < -150, 0.15733, _lin(v, 1.86, 21.4, 10.3)) * Q1
    bm = np.where(v > 150, 0.0057268, _lin(v, 0.086, 25.7, 9.16, -1)) * Q1
    ah = np.where(v > 150, 0.0032594, _lin(v, 0.062, 114, 11, -1)) * Q2
    bh = np.where(v < -150, 0.0014054, 2.3 / (1 + _exp(-(v + 31.8) / 13.4))) * Q2
    as_ = np.where(v < -150, 3.3484e-05, 0.3 / (_exp((v + 53) / -5) + 1)) * Q3
    bs = np.where(v < -150, 3.3484e-06, 0.03 / (_exp((v + 90) / -1) + 1)) * Q3
    return {"mp": (amp, bmp), "m": (am, bm), "h": (ah, bh), "s": (as_, bs)}


def sundt_rates(v, T=37.0):
    q = 3.0 ** ((T - 30) / 10)
    u, w = v + 59.0, v + 71.0

    def X(x, y):
        small = np.abs(x / y) < 1e-6
        with np.errstate(divide="ignore", invalid="ignore"):
            val = x / (np.exp(x / y) - 1)
        return np.where(small, y * (1 - x / y / 2), val)

    am, bm = q * 0.32 * X(13.1 - u, 4), q * 0.28 * X(u - 40.1, 5)
    ah, bh = q * 0.128 * np.exp((17 - w) / 18), q * 4 / (np.exp((40 - w) / 5) + 1)
    k = 1e-3 * 9.648e4 / (8.315 * (273.16 + T))
    an, bn = np.exp(-5 * k * (v + 32)), np.exp(-5 * 0.4 * k * (v + 32))
    al, bl = np.exp(2 * k * (v + 61)), np.exp(2 * 1.0 * k * (v + 61))
    ninf, taun = 1 / (1 + an), bn / (q * 0.03 * (1 + an))
    linf, taul = 1 / (1 + al), bl / (q * 0.001 * (1 + al))
    return {
        "m": (am / (am + bm), 1 / (am + bm)),
        "h": (ah / (ah + bh), 1 / (ah + bh)),
        "n": (ninf, taun),
        "l": (linf, taul),
    }


class Model:
    def __init__(self, dump: dict):
        S = dump["sections"]
        self.N = N = len(S)
        self.kind = [s["kind"] for s in S]
        L = np.array([s["L"] for s in S])
        d = np.array([s["diam"] for s in S])
        A = np.pi * d * L * 1e-8  # cm2
        self.Cm = np.array([s["cm"] for s in S]) * A * 1e3  # nF
        ri = np.array([s["ri_Mohm"] for s in S])  # half-section axial resistance, MOhm
        ext = [s["extracellular"] for s in S]
        xr = np.array([e["xraxial"] for e in ext])  # MOhm/cm, (N,2)
        xg = np.array([e["xg"] for e in ext]) * A[:, None] * 1e6  # uS
        xc = np.array([e["xc"] for e in ext]) * A[:, None] * 1e3  # nF
        self.xg, self.xc = xg, xc
        half = L * 1e-4 / 2  # cm
        g_ax = 1.0 / (ri[:-1] + ri[1:])  # uS
        g_x0 = 1.0 / (xr[:-1, 0] * half[:-1] + xr[1:, 0] * half[1:])
        g_x1 = 1.0 / (xr[:-1, 1] * half[:-1] + xr[1:, 1] * half[1:])
        self.A = A
        # passive conductance and reversal
        self.gpas = np.zeros(N)
        self.epas = np.zeros(N)
        for k, s in enumerate(S):
            if "pas" in s["mechanisms"]:
                self.gpas[k] = s["mechanisms"]["pas"]["g"] * A[k] * 1e6  # uS
                self.epas[k] = s["mechanisms"]["pas"]["e"]
        self.mrg = [k for k, s in enumerate(S) if "axnode_myel" in s["mechanisms"]]
        self.sundt = [k for k, s in enumerate(S) if "nahh" in s["mechanisms"]]
        # static part of the matrix: unknowns [vi (N), x0 (N), x1 (N)]
        rows, cols, vals = [], [], []

        def add_lap(off, g):
            i = np.arange(N - 1)
            for a, b in ((i, i + 1), (i + 1, i)):
                rows.extend(off + a)
                cols.extend(off + b)
                vals.extend(-g)
            for a in (i, i + 1):
                rows.extend(off + a)
                cols.extend(off + a)
                vals.extend(g)

        add_lap(0, g_ax)
        add_lap(N, g_x0)
        add_lap(2 * N, g_x1)
        self.K = sp.coo_matrix((vals, (rows, cols)), shape=(3 * N, 3 * N)).tocsr()

    def init_states(self, st):
        self.vi = np.array([s["v"] + s["vext"][0] for s in st])
        self.x0 = np.array([s["vext"][0] for s in st])
        self.x1 = np.array([s["vext"][1] for s in st])
        self.g = {}
        if self.mrg:
            for n in ("mp", "m", "h", "s"):
                self.g[n] = np.array([st[k]["axnode_myel"][n] for k in self.mrg])
        if self.sundt:
            for n in ("m", "h"):
                self.g[n] = np.array([st[k]["nahh"][n] for k in self.sundt])
            for n in ("n", "l"):
                self.g[n] = np.array([st[k]["borgkdr"][n] for k in self.sundt])

    def channel_G_E(self):
        """Total membrane conductance (uS) and G*E sum (nA) per section, gates at old values."""
        G = self.gpas.copy()
        GE = self.gpas * self.epas
        if self.mrg:
            k = np.array(self.mrg)
            a = self.A[k] * 1e6
            g = self.g
            gna = 3.0 * g["m"] ** 3 * g["h"] * a + 0.01 * g["mp"] ** 3 * a
            gk = 0.08 * g["s"] * a
            gl = 0.007 * a
            G[k] += gna + gk + gl
            GE[k] += gna * 50 + gk * -90 + gl * -90
        if self.sundt:
            k = np.array(self.sundt)
            a = self.A[k] * 1e6
            g = self.g
            gna = 0.04 * g["m"] ** 3 * g["h"] * a
            gk = 0.04 * g["n"] ** 3 * g["l"] * a
            G[k] += gna + gk
            GE[k] += gna * 50 + gk * -90
        return G, GE

    def step(self, dt, e_ext):
        N = self.N
        G, GE = self.channel_G_E()
        v_old = self.vi - self.x0
        cm = self.Cm / dt
        c0 = self.xc[:, 0] / dt
        c1 = self.xc[:, 1] / dt
        gm = cm + G  # membrane: cm*(v_new - v_old) + G*v_new - GE
        g0 = self.xg[:, 0] + c0
        g1 = self.xg[:, 1] + c1
        i = np.arange(N)
        r = np.concatenate([i, i, N + i, N + i, N + i, 2 * N + i, 2 * N + i])
        cidx = np.concatenate([i, N + i, i, N + i, 2 * N + i, N + i, 2 * N + i])
        vals = np.concatenate([gm, -gm, -gm, gm + g0, -g0, -g0, g0 + g1])
        M = self.K + sp.coo_matrix((vals, (r, cidx)), shape=(3 * N, 3 * N)).tocsr()
        mem_src = cm * v_old + GE  # current pushed from vi to x0 side
        d01_old = self.x0 - self.x1
        b = np.concatenate(
            [
                mem_src,
                -mem_src + c0 * d01_old,
                -c0 * d01_old + self.xg[:, 1] * e_ext + c1 * (e_ext + self.x1 - self._e_prev),
            ]
        )
        sol = spla.spsolve(M.tocsc(), b)
        self.vi, self.x0, self.x1 = sol[:N], sol[N : 2 * N], sol[2 * N :]
        self._e_prev = e_ext
        v = self.vi - self.x0
        if self.mrg:
            vk = v[np.array(self.mrg)]
            for n, (a, bb) in mrg_rates(vk).items():
                tau, inf = 1 / (a + bb), a / (a + bb)
                self.g[n] = self.g[n] + (1 - np.exp(-dt / tau)) * (inf - self.g[n])
        if self.sundt:
            vk = v[np.array(self.sundt)]
            for n, (inf, tau) in sundt_rates(vk).items():
                self.g[n] = self.g[n] + (1 - np.exp(-dt / tau)) * (inf - self.g[n])


def main(argv=None) -> int:
    argv = argv if argv is not None else sys.argv[1:]
    with open(argv[0]) as fh:
        dump = json.load(fh)
    m = Model(dump)
    m._e_prev = np.zeros(m.N)
    m.init_states(dump["state_after_finitialize"])
    for _ in range(40):
        m.step(5.0, np.zeros(m.N))
    t0 = dump["state_t0"]
    v_ref = np.array([s["v"] for s in t0])
    x0_ref = np.array([s["vext"][0] for s in t0])
    print(
        f"steady state: max|v - NEURON| = {np.max(np.abs(m.vi - m.x0 - v_ref)):.3e} mV, "
        f"max|vext0 - NEURON| = {np.max(np.abs(m.x0 - x0_ref)):.3e} mV"
    )
    if len(argv) < 2:
        return 0
    with open(argv[1]) as fh:
        tr = json.load(fh)
    c = tr["case"]
    dt, tstop = c["dt_ms"], c["tstop_ms"]
    npw = round(c["pw_ms"] / dt)
    ve = np.array(tr["ve_per_mA_mV"]) * tr["stimamp_signed"]
    m.init_states(t0)
    every = round(tr["t_ms"][1] / dt)
    node_sec = np.array(tr["node_section_indices"])[tr["v_nodes"]["node_indices"]]
    ref = np.array(tr["v_nodes"]["v"])  # (n_nodes_rec, n_t)
    out = [m.vi[node_sec] - m.x0[node_sec]]
    nsteps = round(tstop / dt)
    for k in range(nsteps):
        m.step(dt, ve * (1.0 if k < npw else 0.0))
        if (k + 1) % every == 0:
            out.append(m.vi[node_sec] - m.x0[node_sec])
    sim = np.array(out).T
    err = np.abs(sim - ref)
    where = np.unravel_index(err.argmax(), err.shape)
    print(
        f"trace {argv[1]}: max|v_node - NEURON| = {err.max():.3e} mV "
        f"(ref rounded to 6 significant digits), at (node, sample) {where}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
