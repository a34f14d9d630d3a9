"""Ion-channel kinetics of the fibre models, as numba functions on scalars.

Two kinetics, each with four gates and the same interface so that one cable kernel serves both:

* ``AXNODE`` — the MRG node of Ranvier (McIntyre, Richardson & Grill 2002): fast Na
  (m³h), persistent Na (mp³), slow K (s); gates ``(mp, m, h, s)``. The rate functions follow
  the published AXNODE model including its guards (fixed rates beyond ±150 mV, ``exp`` taken as
  0 below −100, removable singularities).
* ``SUNDT`` — the Sundt et al. (2015) C fibre: Traub–Miles Na (m³h) with NaV1.7/1.8 shifts and a
  Borg-Graham delayed rectifier K (n³l); gates ``(m, h, n, l)``.

Constants come from ``openvns/nerve/fibres/data/{mrg,sundt}.yaml``: :func:`axnode_params` and
:func:`sundt_params` pack them, temperature-adjusted, into a flat float vector (``P``) whose
layout is given by the ``_I*`` indices below. Gating follows NEURON's ``cnexp``: with the rates
at the new voltage, ``x ← x + (1 − exp(−dt/τ)) (x∞ − x)``.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit
from numpy.typing import NDArray

from openvns.nerve.fibres.parameters import load

AXNODE, SUNDT = 1, 2
N_GATES = 4

# ------------------------------------------------------------------ AXNODE parameter layout
_RATE_NAMES = (
    "ampA", "ampB", "ampC", "bmpA", "bmpB", "bmpC", "amA", "amB", "amC", "bmA", "bmB", "bmC",
    "ahA", "ahB", "ahC", "bhA", "bhB", "bhC", "asA", "asB", "asC", "bsA", "bsB", "bsC",
)  # fmt: skip
_IQ1, _IQ2, _IQ3, _IENA, _IEK, _IVTRAUB = 0, 1, 2, 3, 4, 5
_IRATE = 6  # 24 rate constants in _RATE_NAMES order
_IGUARD, _IEXPFLOOR, _IPOLE = 30, 31, 32
_IGUARDRATE = 33  # 8 fixed rates beyond the guard
AXNODE_NPARAM = 41

# ------------------------------------------------------------------- SUNDT parameter layout
_SNAMES = (
    "am_A",
    "am_B",
    "am_C",
    "bm_A",
    "bm_B",
    "bm_C",
    "ah_A",
    "ah_B",
    "ah_C",
    "bh_A",
    "bh_B",
    "bh_C",
)
_SQNA, _SQK, _SENA, _SEK, _SMSHIFT, _SHSHIFT, _SVOFF = 0, 1, 2, 3, 4, 5, 6
_SRATE = 7  # 12 constants in _SNAMES order
_SPOLE = 19
_SVHN, _SVHL, _SA0N, _SA0L, _SZN, _SZL, _SGMN, _SGML, _SFRT = 20, 21, 22, 23, 24, 25, 26, 27, 28
SUNDT_NPARAM = 29


def _q10(base: float, ref_C: float, temperature_C: float) -> float:
    return float(base ** ((temperature_C - ref_C) / 10.0))


def axnode_params(temperature_C: float) -> NDArray[np.float64]:
    """The AXNODE constant vector at ``temperature_C`` (°C)."""
    f = load("mrg")
    p = np.zeros(AXNODE_NPARAM)
    for i, k in enumerate(("1", "2", "3")):
        p[i] = _q10(f.get(f"axnode.q10_{k}_base"), f.get(f"axnode.q10_{k}_ref_C"), temperature_C)
    p[_IENA] = f.get("axnode.ena_mV")
    p[_IEK] = f.get("axnode.ek_mV")
    p[_IVTRAUB] = f.get("axnode.vtraub_mV")
    for i, name in enumerate(_RATE_NAMES):
        p[_IRATE + i] = f.get(f"axnode.{name}")
    p[_IGUARD] = f.get("axnode.guard_v_mV")
    p[_IEXPFLOOR] = f.get("axnode.exp_floor")
    p[_IPOLE] = f.get("axnode.pole_tolerance")
    p[_IGUARDRATE : _IGUARDRATE + 8] = f.array("axnode.rate_at_guard")
    return p


def sundt_params(temperature_C: float) -> NDArray[np.float64]:
    """The Sundt constant vector at ``temperature_C`` (°C)."""
    f = load("sundt")
    p = np.zeros(SUNDT_NPARAM)
    p[_SQNA] = _q10(f.get("nahh.q10_base"), f.get("nahh.q10_ref_C"), temperature_C)
    p[_SQK] = _q10(f.get("borgkdr.q10_base"), f.get("borgkdr.q10_ref_C"), temperature_C)
    p[_SENA] = f.get("nahh.ena_mV")
    p[_SEK] = f.get("borgkdr.ek_mV")
    p[_SMSHIFT] = f.get("nahh.mshift_mV")
    p[_SHSHIFT] = f.get("nahh.hshift_mV")
    p[_SVOFF] = f.get("nahh.v_offset_mV")
    for i, name in enumerate(_SNAMES):
        p[_SRATE + i] = f.get(f"nahh.{name}")
    p[_SPOLE] = f.get("nahh.pole_tolerance")
    p[_SVHN] = f.get("borgkdr.vhalfn_mV")
    p[_SVHL] = f.get("borgkdr.vhalfl_mV")
    p[_SA0N] = f.get("borgkdr.a0n_per_ms")
    p[_SA0L] = f.get("borgkdr.a0l_per_ms")
    p[_SZN] = f.get("borgkdr.zetan")
    p[_SZL] = f.get("borgkdr.zetal")
    p[_SGMN] = f.get("borgkdr.gmn")
    p[_SGML] = f.get("borgkdr.gml")
    # 1e-3 converts mV to V: exp(1e-3 z (v - vhalf) F / (R T))
    kelvin = f.get("borgkdr.zero_celsius_K") + temperature_C
    p[_SFRT] = (
        1e-3 * f.get("borgkdr.faraday_C_mol") / (f.get("borgkdr.gas_constant_J_mol_K") * kelvin)
    )
    return p


# ------------------------------------------------------------------------------ AXNODE rates
@njit(cache=True)
def _exp_floor(x: float, floor: float) -> float:
    return 0.0 if x < floor else math.exp(x)


@njit(cache=True)
def _axnode_rates(v: float, p: NDArray[np.float64], out: NDArray[np.float64]) -> None:
    """``out[0:8] = (mp∞, τmp, m∞, τm, h∞, τh, s∞, τs)`` at ``v`` (mV); τ in ms."""
    guard = p[_IGUARD]
    fl = p[_IEXPFLOOR]
    tol = p[_IPOLE]
    r = _IRATE
    g = _IGUARDRATE
    # mp: alpha (vtrap1), beta (vtrap2)
    A, B, C = p[r], p[r + 1], p[r + 2]
    if abs((v + B) / C) < tol:
        a = A * C
    elif v < -guard:
        a = p[g]
    else:
        a = A * (v + B) / (1.0 - _exp_floor(-(v + B) / C, fl))
    A, B, C = p[r + 3], p[r + 4], p[r + 5]
    if abs((v + B) / C) < tol:
        b = A * C
    elif v > guard:
        b = p[g + 1]
    else:
        b = A * (-(v + B)) / (1.0 - _exp_floor((v + B) / C, fl))
    a *= p[_IQ1]
    b *= p[_IQ1]
    out[0] = a / (a + b)
    out[1] = 1.0 / (a + b)
    # m: alpha (vtrap6), beta (vtrap7)
    A, B, C = p[r + 6], p[r + 7], p[r + 8]
    if abs((v + B) / C) < tol:
        a = A * C
    elif v < -guard:
        a = p[g + 2]
    else:
        a = A * (v + B) / (1.0 - _exp_floor(-(v + B) / C, fl))
    A, B, C = p[r + 9], p[r + 10], p[r + 11]
    if abs((v + B) / C) < tol:
        b = A * C
    elif v > guard:
        b = p[g + 3]
    else:
        b = A * (-(v + B)) / (1.0 - _exp_floor((v + B) / C, fl))
    a *= p[_IQ1]
    b *= p[_IQ1]
    out[2] = a / (a + b)
    out[3] = 1.0 / (a + b)
    # h: alpha (vtrap8), beta (vtrap9)
    A, B, C = p[r + 12], p[r + 13], p[r + 14]
    if abs((v + B) / C) < tol:
        a = A * C
    elif v > guard:
        a = p[g + 4]
    else:
        a = A * (-(v + B)) / (1.0 - _exp_floor((v + B) / C, fl))
    A, B, C = p[r + 15], p[r + 16], p[r + 17]
    b = p[g + 5] if v < -guard else A / (1.0 + _exp_floor(-(v + B) / C, fl))
    a *= p[_IQ2]
    b *= p[_IQ2]
    out[4] = a / (a + b)
    out[5] = 1.0 / (a + b)
    # s: alpha (vtrap10), beta (vtrap11), Traub convention v - vtraub
    vt = p[_IVTRAUB]
    A, B, C = p[r + 18], p[r + 19], p[r + 20]
    a = p[g + 6] if v < -guard else A / (_exp_floor((v - vt + B) / C, fl) + 1.0)
    A, B, C = p[r + 21], p[r + 22], p[r + 23]
    b = p[g + 7] if v < -guard else A / (_exp_floor((v - vt + B) / C, fl) + 1.0)
    a *= p[_IQ3]
    b *= p[_IQ3]
    out[6] = a / (a + b)
    out[7] = 1.0 / (a + b)


# ------------------------------------------------------------------------------- SUNDT rates
@njit(cache=True)
def _exprel(x: float, y: float, tol: float) -> float:
    """``x / (exp(x/y) - 1)`` with its limit near 0 (nahh ``expM1``)."""
    if abs(x / y) < tol:
        return y * (1.0 - x / y / 2.0)
    return x / (math.exp(x / y) - 1.0)


@njit(cache=True)
def _sundt_rates(v: float, p: NDArray[np.float64], out: NDArray[np.float64]) -> None:
    """``out[0:8] = (m∞, τm, h∞, τh, n∞, τn, l∞, τl)`` at ``v`` (mV); τ in ms."""
    q = p[_SQNA]
    tol = p[_SPOLE]
    r = _SRATE
    vm = v + p[_SVOFF] + p[_SMSHIFT]
    a = q * p[r] * _exprel(p[r + 1] - vm, p[r + 2], tol)
    b = q * p[r + 3] * _exprel(vm - p[r + 4], p[r + 5], tol)
    out[0] = a / (a + b)
    out[1] = 1.0 / (a + b)
    vh = v + p[_SVOFF] + p[_SHSHIFT]
    a = q * p[r + 6] * math.exp((p[r + 7] - vh) / p[r + 8])
    b = q * p[r + 9] / (math.exp((p[r + 10] - vh) / p[r + 11]) + 1.0)
    out[2] = a / (a + b)
    out[3] = 1.0 / (a + b)
    qk = p[_SQK]
    frt = p[_SFRT]
    a = math.exp(p[_SZN] * (v - p[_SVHN]) * frt)
    b = math.exp(p[_SZN] * p[_SGMN] * (v - p[_SVHN]) * frt)
    out[4] = 1.0 / (1.0 + a)
    out[5] = b / (qk * p[_SA0N] * (1.0 + a))
    a = math.exp(p[_SZL] * (v - p[_SVHL]) * frt)
    b = math.exp(p[_SZL] * p[_SGML] * (v - p[_SVHL]) * frt)
    out[6] = 1.0 / (1.0 + a)
    out[7] = b / (qk * p[_SA0L] * (1.0 + a))


# ---------------------------------------------------------------------------- common interface
@njit(cache=True)
def rates(model: int, v: float, p: NDArray[np.float64], out: NDArray[np.float64]) -> None:
    """Steady states and time constants of the four gates of ``model`` at ``v``."""
    if model == AXNODE:
        _axnode_rates(v, p, out)
    else:
        _sundt_rates(v, p, out)


@njit(cache=True)
def conductance(
    model: int, gbar: NDArray[np.float64], gates: NDArray[np.float64], p: NDArray[np.float64]
) -> tuple[float, float]:
    """Channel conductance ``G`` and ``Σ g_k E_k`` for the present gates (units of ``gbar``)."""
    if model == AXNODE:
        mp, m, h, s = gates[0], gates[1], gates[2], gates[3]
        g_na = gbar[0] * mp * mp * mp + gbar[1] * m * m * m * h
        g_k = gbar[2] * s
        return g_na + g_k, g_na * p[_IENA] + g_k * p[_IEK]
    m, h, n, l_ = gates[0], gates[1], gates[2], gates[3]
    g_na = gbar[0] * m * m * m * h
    g_k = gbar[1] * n * n * n * l_
    return g_na + g_k, g_na * p[_SENA] + g_k * p[_SEK]


@njit(cache=True)
def reversal_potentials(model: int, p: NDArray[np.float64]) -> tuple[float, float]:
    """Na and K reversal potentials (mV) of ``model``'s channels."""
    if model == AXNODE:
        return p[_IENA], p[_IEK]
    return p[_SENA], p[_SEK]
