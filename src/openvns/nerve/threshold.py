"""Activation thresholds of a fibre for a batch of extracellular fields, and block windows.

:func:`find_thresholds` finds, for every row of ``ve_mV_per_mA`` (the potential at each section
per mA of source current), the lowest amplitude multiplier of ``waveform`` that makes at least one
action potential reach the node nearest ``ap_detect_location`` (−30 mV upward crossing: PyFibers'
and ASCENT's criterion). The search starts **below** threshold and climbs a geometric ladder
(×1.5) until an amplitude fires, so it finds the lowest threshold rather than the edge of a block
window, then narrows the bracket by k-section, evaluating several amplitudes of every row in one
batched solver call per round, until ``(hi − lo) / hi ≤ rel_tol``. The threshold is the upper
(supra-threshold) end of the final bracket, as in PyFibers.

Strength–duration helpers: :func:`strength_duration` and :func:`chronaxie`.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numba
import numpy as np
from numpy.typing import NDArray

from openvns.device.waveforms import BALANCE_RTOL, PulseShape
from openvns.errors import ValidationError
from openvns.nerve.fibres.model import Fiber
from openvns.nerve.fibres.parameters import load
from openvns.nerve.kernels.backend import CableProblem, ExitRule, RestState, get_backend
from openvns.nerve.search import _block_window, _ladder, _refine

logger = logging.getLogger(__name__)

F64 = NDArray[np.float64]

__all__ = [
    "ThresholdResult",
    "chronaxie",
    "find_thresholds",
    "sample_waveform",
    "strength_duration",
]


@dataclass(frozen=True)
class ThresholdResult:
    """Result of :func:`find_thresholds`.

    Attributes
    ----------
    threshold_mA
        ``(batch,)`` lowest amplitude (mA, per row's 1 mA field) giving ≥ 1 AP at the
        detector; ``nan`` where none below ``max_amplitude_mA``.
    bracket_mA
        ``(batch, 2)`` last sub-threshold and supra-threshold amplitudes.
    converged
        ``(batch,)`` whether the bracket reached ``rel_tol``.
    block_window_mA
        ``(batch, 2)`` lowest blocked amplitude above threshold and the amplitude where APs get
        through again (``nan`` where none was found), or ``None`` without ``report_block``.
    n_simulations
        Number of fibre simulations run (every amplitude of every row).
    simulated_ms
        Total simulated time over every simulation, ms.
    """

    threshold_mA: F64
    bracket_mA: F64
    converged: NDArray[np.bool_]
    block_window_mA: F64 | None
    n_simulations: int
    simulated_ms: float


# ------------------------------------------------------------------------------- validation
def _positive(field: str, value: Any, unit: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ValidationError(field, value, f"a finite number > 0 {unit}")
    if value <= 0:
        raise ValidationError(field, value, f"a finite number > 0 {unit}")
    return float(value)


def sample_waveform(
    waveform: PulseShape | NDArray[np.float64] | Any,
    dt_us: float,
    tstop_ms: float,
    *,
    require_charge_balanced: bool = False,
) -> F64:
    """The waveform as current samples per 1 mA, one per step of ``dt_us`` up to ``tstop_ms``.

    A :class:`~openvns.device.waveforms.PulseShape` is sampled charge-exactly (mean current per
    step); an array is taken as samples at ``dt_us`` and padded with zeros. Raises
    :class:`~openvns.errors.ValidationError` for a non-finite, all-zero or too-long waveform, or
    an unbalanced one when ``require_charge_balanced``.
    """
    dt = _positive("dt_us", dt_us, "µs")
    tstop = _positive("tstop_ms", tstop_ms, "ms")
    n_steps = max(1, round(tstop * 1e3 / dt))
    if isinstance(waveform, PulseShape):
        if require_charge_balanced and not waveform.is_charge_balanced:
            raise ValidationError("waveform", waveform.kind, "a charge-balanced waveform")
        if waveform.duration_us > n_steps * dt + 1e-9 * dt:
            raise ValidationError("tstop_ms", tstop_ms, f"≥ {waveform.duration_us / 1e3:g} ms")
        _, samples = waveform.sample(dt, duration_us=n_steps * dt)
        wave = samples[:n_steps]
    else:
        try:
            wave = np.asarray(waveform, dtype=np.float64)
        except (TypeError, ValueError) as exc:
            raise ValidationError(
                "waveform", type(waveform).__name__, "a PulseShape or a 1-D array"
            ) from exc
        if wave.ndim != 1 or wave.size == 0:
            raise ValidationError(
                "waveform", f"array of shape {wave.shape}", "a non-empty 1-D array"
            )
        if not np.all(np.isfinite(wave)):
            raise ValidationError(
                "waveform", "non-finite samples", "finite current samples (mA per mA)"
            )
        if wave.size > n_steps:
            if np.any(wave[n_steps:] != 0):
                raise ValidationError(
                    "waveform", f"{wave.size} samples", f"≤ {n_steps} samples (tstop)"
                )
            wave = wave[:n_steps]
        wave = np.concatenate([wave, np.zeros(n_steps - wave.size)])
        if require_charge_balanced:
            net, total = abs(float(wave.sum())), float(np.abs(wave).sum())
            if net > BALANCE_RTOL * total:
                raise ValidationError(
                    "waveform", f"net charge {net * dt:g} nC per mA", "a charge-balanced waveform"
                )
    if not np.any(wave != 0):
        raise ValidationError("waveform", "all zero", "a waveform with non-zero current")
    return np.ascontiguousarray(wave)


def _ve_rows(fiber: Fiber, ve: Any) -> F64:
    try:
        arr = np.asarray(ve, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise ValidationError("ve_mV_per_mA", type(ve).__name__, "a numeric array") from exc
    if arr.ndim == 1:
        arr = arr[None, :]
    if arr.ndim != 2 or arr.shape[1] != fiber.n_sections or arr.shape[0] == 0:
        raise ValidationError(
            "ve_mV_per_mA", f"array of shape {np.shape(ve)}", f"shape (batch, {fiber.n_sections})"
        )
    if not np.all(np.isfinite(arr)):
        raise ValidationError("ve_mV_per_mA", "non-finite values", "finite potentials (mV per mA)")
    return np.ascontiguousarray(arr)


# ---------------------------------------------------------------------------------- search
class _Runner:
    """Runs batches of (row, amplitude) members of one fibre and counts the work."""

    def __init__(self, fiber: Fiber, ve: F64, wave: F64, dt_ms: float, det: int, backend: str,
                 early_exit: bool) -> None:  # fmt: skip
        self.backend = get_backend(backend)
        self.problem = CableProblem.from_fiber(fiber)
        self.rest: RestState = self.backend.rest_state(self.problem)
        self.ve, self.wave, self.dt_ms, self.det = ve, wave, dt_ms, det
        s = load("solver")
        nz = np.flatnonzero(wave)
        quiet_from = int(nz[-1]) + 1 + round(s.get("quiet_min_after_pulse_ms") / dt_ms)
        if not early_exit:
            quiet_from = wave.size + 1
        self.rule = ExitRule(
            from_step=quiet_from,
            every=max(1, int(s.get("quiet_check_interval_steps"))),
            lo_mV=fiber.v_rest_mV - s.get("quiet_below_mV"),
            hi_mV=fiber.v_rest_mV + s.get("quiet_above_mV"),
        )
        self.n_sim = 0
        self.n_steps = 0

    def fire(self, rows: NDArray[np.int64], amps: F64) -> NDArray[np.bool_]:
        if rows.size == 0:
            return np.zeros(0, dtype=np.bool_)
        out = self.backend.run(self.problem, self.rest, self.ve, rows, amps, self.wave,
                               self.dt_ms, self.det, self.rule)  # fmt: skip
        self.n_sim += rows.size
        self.n_steps += int(out.n_steps.sum())
        return out.fired


def find_thresholds(
    fiber: Fiber,
    ve_mV_per_mA: Any,
    waveform: PulseShape | NDArray[np.float64],
    dt_us: float = 1.0,
    tstop_ms: float = 5.0,
    ap_detect_location: float = 0.9,
    rel_tol: float = 1e-3,
    report_block: bool = False,
    *,
    require_charge_balanced: bool = False,
    amplitudes_per_round: int | None = None,
    max_amplitude_mA: float | None = None,
    backend: str = "numba",
    early_exit: bool = True,
) -> ThresholdResult:
    """Activation thresholds of ``fiber`` for each row of ``ve_mV_per_mA``.

    Parameters
    ----------
    fiber
        The fibre (:func:`~openvns.nerve.fibres.build_fiber`).
    ve_mV_per_mA
        ``(batch, n_sections)`` extracellular potential per +1 mA of source current, mV/mA; the
        applied potential is ``ve * I(t)`` with ``I(t)`` the waveform current (negative =
        cathodic). A 1-D array is one row.
    waveform
        A :class:`~openvns.device.waveforms.PulseShape` (sampled at ``dt_us``) or samples of the
        current per 1 mA at ``dt_us``.
    dt_us, tstop_ms
        Time step (µs; PyFibers' default 1 µs) and simulated duration (ms).
    ap_detect_location
        Location (0–1) of the detecting node along the fibre.
    rel_tol
        Relative width of the final bracket.
    report_block
        Also search above threshold (up to ``block_search_factor`` × threshold) for a window of
        amplitudes where the AP is blocked.
    require_charge_balanced
        Reject a waveform whose net charge is not zero.
    amplitudes_per_round
        Amplitudes per row evaluated in one batched call (default: enough to keep every core
        busy, 1 = bisection).
    max_amplitude_mA
        Give up above this amplitude (threshold ``nan``); default from ``data/solver.yaml``.
    backend
        Solver backend name.
    early_exit
        Stop settled sub-threshold members early (never changes a threshold; ``False`` for
        checks).

    Raises
    ------
    ValidationError
        For bad input, before any simulation.
    """
    if not isinstance(fiber, Fiber):
        raise ValidationError("fiber", type(fiber).__name__, "an openvns.nerve.fibres.Fiber")
    ve = _ve_rows(fiber, ve_mV_per_mA)
    wave = sample_waveform(
        waveform, dt_us, tstop_ms, require_charge_balanced=require_charge_balanced
    )
    det_node = fiber.node_index_at(ap_detect_location)
    if not (isinstance(rel_tol, int | float) and 0 < rel_tol < 0.5 and math.isfinite(rel_tol)):
        raise ValidationError("rel_tol", rel_tol, "a number in (0, 0.5)")
    s = load("solver")
    a_max = s.get("max_amplitude_mA") if max_amplitude_mA is None else max_amplitude_mA
    a_max = _positive("max_amplitude_mA", a_max, "mA")
    n_rows = ve.shape[0]
    if amplitudes_per_round is None:
        k = max(1, math.ceil(numba.get_num_threads() / n_rows))
    elif (
        isinstance(amplitudes_per_round, bool)
        or not isinstance(amplitudes_per_round, int)
        or amplitudes_per_round < 1
    ):
        raise ValidationError("amplitudes_per_round", amplitudes_per_round, "an integer ≥ 1")
    else:
        k = amplitudes_per_round
    peak = np.max(np.abs(ve), axis=1) * float(np.max(np.abs(wave)))
    if np.any(peak == 0):
        raise ValidationError("ve_mV_per_mA", "a row of zeros", "a non-zero potential in every row")

    run = _Runner(
        fiber, ve, wave, dt_us * 1e-3, int(fiber.node_indices[det_node]), backend, early_exit
    )
    ratio = s.get("ladder_ratio")
    start = s.get("start_potential_mV") / peak
    width = max(1, run.backend.batch_width(run.problem))
    k_ladder = max(k, 4)
    d_ladder = _depth(lambda d: n_rows * k_ladder * d, width)
    d_refine = _depth(lambda d: n_rows * ((k + 1) ** d - 1), width)
    lo, hi, blocked_above = _ladder(run, start, ratio, k_ladder, a_max, d_ladder)
    lo, hi = _refine(run, lo, hi, k, rel_tol, d_refine)
    found = np.isfinite(hi)
    converged = found & ((hi - lo) <= rel_tol * hi)
    block = None
    if report_block:
        block = _block_window(
            run, hi, blocked_above, k, rel_tol, s.get("block_search_factor"), ratio, d_refine
        )
    logger.debug("thresholds: %d rows, %d simulations, %d steps", n_rows, run.n_sim, run.n_steps)
    return ThresholdResult(
        threshold_mA=np.where(found, hi, np.nan),
        bracket_mA=np.stack([lo, hi], axis=1),
        converged=converged,
        block_window_mA=block,
        n_simulations=run.n_sim,
        simulated_ms=run.n_steps * dt_us * 1e-3,
    )


def _depth(members: Callable[[int], int], width: int) -> int:
    """Rounds per call: the largest ``d`` whose ``members(d)`` fit in ``width`` (at least 1)."""
    d = 1
    while d < 8 and members(d + 1) <= width:
        d += 1
    return d


# ------------------------------------------------------------------------ strength-duration
def strength_duration(
    fiber: Fiber,
    ve_mV_per_mA: Any,
    pulse_widths_us: Any,
    make_waveform: Any,
    **kwargs: Any,
) -> F64:
    """Thresholds (mA) for each pulse width: ``(n_widths, batch)``.

    ``make_waveform(pw_us)`` builds the waveform of one width (e.g.
    :func:`openvns.device.waveforms.monophasic`); other arguments go to :func:`find_thresholds`.
    """
    widths = np.atleast_1d(np.asarray(pulse_widths_us, dtype=np.float64))
    if widths.ndim != 1 or not np.all(np.isfinite(widths)) or np.any(widths <= 0):
        raise ValidationError("pulse_widths_us", pulse_widths_us, "positive finite widths (µs)")
    return np.stack(
        [find_thresholds(fiber, ve_mV_per_mA, make_waveform(float(pw)), **kwargs).threshold_mA
         for pw in widths]
    )  # fmt: skip


def chronaxie(pulse_widths_us: Any, thresholds_mA: Any) -> tuple[float, float]:
    """Rheobase (mA) and chronaxie (µs) from a strength–duration curve.

    Fits Weiss' law ``I = I_rh (1 + c / pw)`` (linear in charge ``Q = I pw = I_rh (pw + c)``) by
    least squares on the charge, the standard way to read chronaxie from thresholds.
    """
    pw = np.asarray(pulse_widths_us, dtype=np.float64)
    thr = np.asarray(thresholds_mA, dtype=np.float64)
    if pw.shape != thr.shape or pw.ndim != 1 or pw.size < 2:
        raise ValidationError(
            "pulse_widths_us", pw.shape, "two or more widths matching the thresholds"
        )
    if not (np.all(np.isfinite(thr)) and np.all(thr > 0) and np.all(pw > 0)):
        raise ValidationError("thresholds_mA", thresholds_mA, "positive finite thresholds")
    slope, intercept = np.polyfit(pw, thr * pw, 1)  # Q = I_rh pw + I_rh c
    return float(slope), float(intercept / slope)
