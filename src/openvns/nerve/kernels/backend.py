"""The backend interface of the fibre solver and its numba CPU implementation.

A backend turns a :class:`CableProblem` (one fibre's cable coefficients in solver units) and a
batch of members (a row of potentials per mA and an amplitude each) into an
:class:`Outcome` per member. :func:`get_backend` returns a backend by name; a GPU backend
implements the same methods and registers itself in :data:`BACKENDS`.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from typing import Protocol

import numba
import numpy as np
from numpy.typing import NDArray

from openvns.errors import ValidationError
from openvns.nerve.fibres.model import Fiber
from openvns.nerve.fibres.parameters import load
from openvns.nerve.kernels import cpu, lanes
from openvns.nerve.kernels.channels import AXNODE, SUNDT

logger = logging.getLogger(__name__)

F64 = NDArray[np.float64]
I64 = NDArray[np.int64]

_AREA = 1e-8  # cm² per µm²
_GATE_TABLES: dict[tuple[object, ...], tuple[F64, float, float]] = {}
_GATE_TABLES_MAX = 16


@dataclass(frozen=True, eq=False)
class CableProblem:
    """A fibre's double cable in solver units (nF, µS, mV, ms).

    Attributes
    ----------
    C_nF, gL_uS, EL_nA
        Membrane capacitance, leak conductance and leak ``g·E`` per section.
    gxg_uS, cx_nF
        Periaxonal layer to the outside: conductance and capacitance per section.
    ga_uS, gx_uS
        Intracellular and periaxonal conductances between consecutive section centres (sum of
        the two half-section resistances, as NEURON).
    act, gbar_uS, model, P
        Active sections, their maximal channel conductances, the kinetics id and constants.
    v_rest_mV
        Resting potential of the initialisation.
    """

    C_nF: F64
    gL_uS: F64
    EL_nA: F64
    gxg_uS: F64
    cx_nF: F64
    ga_uS: F64
    gx_uS: F64
    act: I64
    gbar_uS: F64
    model: int
    P: F64
    v_rest_mV: float

    @classmethod
    def from_fiber(cls, fiber: Fiber) -> CableProblem:
        """Coefficients of ``fiber`` (see :mod:`openvns.nerve.kernels.cpu`)."""
        area = fiber.area_um2 * _AREA  # cm²
        xg0 = fiber.xg_S_cm2
        xg1 = load("solver").get("outer_layer_xg_S_cm2")
        xg = xg0 * xg1 / (xg0 + xg1)
        radius_cm = 0.5 * fiber.diam_um * 1e-4
        half_L_cm = 0.5 * fiber.L_um * 1e-4
        ri_half_Mohm = fiber.Ra_ohm_cm * half_L_cm / (math.pi * radius_cm**2) * 1e-6
        rx_half_Mohm = fiber.xraxial_Mohm_cm * half_L_cm
        act = np.flatnonzero(fiber.active).astype(np.int64)
        g_leak = fiber.g_leak_S_cm2 * area * 1e6  # S -> µS
        return cls(
            C_nF=fiber.cm_uF_cm2 * area * 1e3,  # µF -> nF
            gL_uS=g_leak,
            EL_nA=g_leak * fiber.e_leak_mV * 1e-3 * 1e3,  # µS·mV = nA
            gxg_uS=xg * area * 1e6,
            cx_nF=fiber.xc_uF_cm2 * area * 1e3,
            ga_uS=1.0 / (ri_half_Mohm[:-1] + ri_half_Mohm[1:]),
            gx_uS=1.0 / (rx_half_Mohm[:-1] + rx_half_Mohm[1:]),
            act=act,
            gbar_uS=np.ascontiguousarray(fiber.gbar_S_cm2[act] * area[act, None] * 1e6),
            model=AXNODE if fiber.channels == "axnode" else SUNDT,
            P=fiber.channel_params.copy(),
            v_rest_mV=fiber.v_rest_mV,
        )

    def gate_table(self, dt_ms: float) -> tuple[F64, float, float]:
        """Tabulated gate kinetics for steps of ``dt_ms``: ``(table, v0_mV, 1/h)``.

        Cached per kinetics, constants and step (shared by every fibre of a model and
        temperature), so repeated threshold calls do not rebuild it.
        """
        s = load("solver")
        v0, v1, h = (s.get("gate_table_v_min_mV"), s.get("gate_table_v_max_mV"),
                     s.get("gate_table_step_mV"))  # fmt: skip
        key = (self.model, self.P.tobytes(), float(dt_ms), v0, v1, h)
        if key not in _GATE_TABLES:
            if len(_GATE_TABLES) >= _GATE_TABLES_MAX:
                _GATE_TABLES.pop(next(iter(_GATE_TABLES)))
            n = round((v1 - v0) / h) + 1
            table = cpu.gate_table(self.model, self.P, v0, h, n, float(dt_ms))
            _GATE_TABLES[key] = (table, v0, 1.0 / h)
        return _GATE_TABLES[key]

    def coefficients(self) -> tuple[F64, F64, F64, F64, F64, F64, F64, I64, F64, int, F64]:
        """The coefficient arrays in kernel argument order."""
        return (self.C_nF, self.gL_uS, self.EL_nA, self.gxg_uS, self.cx_nF, self.ga_uS,
                self.gx_uS, self.act, self.gbar_uS, self.model, self.P)  # fmt: skip


@dataclass(frozen=True)
class RestState:
    """Membrane and periaxonal potentials (mV) and gates after the initialisation."""

    vm: F64
    vx: F64
    gates: F64


@dataclass(frozen=True)
class Outcome:
    """Per member: whether the AP reached the detector, the step it did, steps simulated."""

    fired: NDArray[np.bool_]
    fire_step: I64
    n_steps: I64


@dataclass(frozen=True)
class ExitRule:
    """Early exit of a settled member (see :func:`openvns.nerve.kernels.cpu.run_batch`)."""

    from_step: int
    every: int
    lo_mV: float
    hi_mV: float


class Backend(Protocol):
    """What a solver backend provides."""

    name: str

    def batch_width(self, problem: CableProblem) -> int:
        """How many members of ``problem`` one :meth:`run` advances at about the cost of one
        (the threshold search evaluates several of its rounds per call, speculatively, to fill
        this width)."""
        ...

    def rest_state(self, problem: CableProblem) -> RestState:
        """PyFibers' initialisation: relax from ``v_rest`` without stimulus."""
        ...

    def run(
        self,
        problem: CableProblem,
        rest: RestState,
        ve_rows: F64,
        row_of: I64,
        amplitudes: F64,
        wave: F64,
        dt_ms: float,
        detect_section: int,
        exit_rule: ExitRule,
    ) -> Outcome:
        """Simulate every member; see :func:`openvns.nerve.kernels.cpu.run_batch`."""
        ...


class NumbaBackend:
    """The numba CPU backend: parallel over threads, and within a thread over
    :data:`~openvns.nerve.kernels.lanes.LANES` members at once (SIMD lanes) when the batch has
    more members than threads."""

    name = "numba"

    def batch_width(self, problem: CableProblem) -> int:
        # lanes pay for speculative members when the cable sweep dominates (myelinated fibres);
        # with every section active (C fibres) the per-lane gate updates dominate
        threads = int(numba.get_num_threads())
        if 4 * problem.act.size < problem.C_nF.size:
            return threads * lanes.LANES
        return threads

    def rest_state(self, problem: CableProblem) -> RestState:
        f = load("solver")
        dt = f.get("steady_state_dt_ms")
        n = round(f.get("steady_state_duration_ms") / dt)
        vm, vx, gates = cpu.rest_state(*problem.coefficients(), problem.v_rest_mV, n, dt)
        return RestState(vm, vx, gates)

    def run(
        self,
        problem: CableProblem,
        rest: RestState,
        ve_rows: F64,
        row_of: I64,
        amplitudes: F64,
        wave: F64,
        dt_ms: float,
        detect_section: int,
        exit_rule: ExitRule,
    ) -> Outcome:
        m = amplitudes.size
        fired = np.zeros(m, dtype=np.bool_)
        fire_step = np.full(m, -1, dtype=np.int64)
        n_run = np.zeros(m, dtype=np.int64)
        args = (
            *problem.coefficients(),
            rest.vm, rest.vx, rest.gates,
            np.ascontiguousarray(ve_rows, dtype=np.float64),
            np.ascontiguousarray(row_of, dtype=np.int64),
            np.ascontiguousarray(amplitudes, dtype=np.float64),
            np.ascontiguousarray(wave, dtype=np.float64),
            float(dt_ms), *problem.gate_table(float(dt_ms)),
            int(detect_section), load("solver").get("ap_threshold_mV"),
            exit_rule.from_step, exit_rule.every, exit_rule.lo_mV, exit_rule.hi_mV,
        )  # fmt: skip
        threads = numba.get_num_threads()
        if m <= threads or (m < threads * lanes.LANES and self.batch_width(problem) == threads):
            # one member per thread, or half-empty lanes where they do not pay: scalar kernel
            cpu.run_batch(*args, fired, fire_step, n_run)
        else:
            order = np.arange(m, dtype=np.int64)
            lanes.run_lanes(*args, order, min(threads, m), fired, fire_step, n_run)
        return Outcome(fired, fire_step, n_run)


#: Registered backends by name.
BACKENDS: dict[str, Backend] = {"numba": NumbaBackend()}


def get_backend(name: str = "numba") -> Backend:
    """The backend called ``name``."""
    if name not in BACKENDS:
        raise ValidationError("backend", name, f"one of {', '.join(BACKENDS)}")
    return BACKENDS[name]
