"""Mechanism facts as metrics: sweeps of the daily physiology in the population's median patient.

Each metric drives :func:`openvns.physiology.step` / :func:`~openvns.physiology.simulate` with
the default cuff's recruitment at a real current and pulse width (θ = ``coupling_median``) and
returns one number whose interval the registry states (reference physiology.md §2, §5.9).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import numpy.typing as npt

from openvns.device.dose import duty_cycle
from openvns.patients import typical_traits
from openvns.physiology import DailyInputs, PhysiologyState, initial_state, simulate
from openvns.physiology.drive import afferent_drive, thin_fibre_drive
from openvns.physiology.modulation import phasic_modulation
from openvns.physiology.parameters import PhysiologyParameters
from openvns.physiology.side_effects import heart_rate_change_pct
from openvns.simulation.courses import Recruitment
from openvns.trials.validation.stats import Measured

__all__ = ["METRICS", "heart_rate_pct"]

FloatArray = npt.NDArray[np.float64]


def heart_rate_pct(
    current_mA: FloatArray,
    coupling: FloatArray,
    params: PhysiologyParameters,
    recruitment: Recruitment,
    *,
    frequency_Hz: float = 20.0,
    pulse_width_us: float = 250.0,
) -> FloatArray:
    """Heart-rate change during ON (%) of patients with multipliers ``coupling`` at ``current_mA``
    (negative: bradycardia; 0 where the current is 0)."""
    cur = np.asarray(current_mA, dtype=np.float64)
    r = np.asarray(recruitment(cur / coupling, pulse_width_us), dtype=np.float64)
    f = np.full(cur.shape, frequency_Hz)
    on = cur > 0
    D_on = afferent_drive(r, f, on, params)
    return np.asarray(heart_rate_change_pct(D_on, r, f, on, params), dtype=np.float64)


def _start(p: PhysiologyParameters, n: int) -> PhysiologyState:
    t = typical_traits("fibromyalgia", p)
    return initial_state(p, n, P0_NRS=t["P0_NRS"], alpha=t["alpha"])


def _inputs(
    p: PhysiologyParameters, rec: Recruitment, current_mA: FloatArray, *, pulse_width_us: float,
    frequency_Hz: float, off_time_min: float | FloatArray = 5.0, on_time_s: float = 30.0,
    on: bool = True,
) -> DailyInputs:  # fmt: skip
    cur = np.atleast_1d(np.asarray(current_mA, dtype=np.float64))
    n = cur.shape[0]
    r = np.asarray(rec(cur / p.coupling_median, pulse_width_us), dtype=np.float64)
    off = np.broadcast_to(np.asarray(off_time_min, dtype=np.float64), (n,))
    dc = np.array([duty_cycle(on_time_s, float(o)) for o in off])
    return DailyInputs(r, np.full(n, frequency_Hz), dc, np.full(n, 24.0), np.full(n, on))


def _run(
    days: int, inputs: DailyInputs, p: PhysiologyParameters, record: tuple[str, ...]
) -> dict[str, npt.NDArray[np.generic]]:
    n = inputs.frequency_Hz.shape[0]
    return simulate(days, lambda d, s: inputs, p, n, state=_start(p, n), record=record)


Ctx = object  # the metric context (see metrics.MetricContext); only params/recruitment are read


def _pr(ctx: Ctx) -> tuple[PhysiologyParameters, Recruitment]:
    return ctx.params, ctx.recruitment  # type: ignore[attr-defined]


def serotonin_duty(ctx: Ctx, *, off_time_min: float, current_mA: float = 1.5) -> Measured:
    """``R`` at day 14 with 30 s every ``off_time_min`` relative to every 5 min (20 Hz, 250 µs)."""
    p, rec = _pr(ctx)
    inp = _inputs(p, rec, np.array([current_mA, current_mA]), pulse_width_us=250.0,
                  frequency_Hz=20.0, off_time_min=np.array([5.0, off_time_min]))  # fmt: skip
    R = np.asarray(_run(14, inp, p, ("R",))["R"], dtype=np.float64)[-1]
    return Measured(float(R[1] / R[0]), n=1, detail=f"R14 = {R[1]:.3f} vs {R[0]:.3f}")


def onset(ctx: Ctx, *, state: str, day: int, current_mA: float = 1.5) -> Measured:
    """``state`` on ``day`` of standard stimulation relative to its value at day 90."""
    p, rec = _pr(ctx)
    inp = _inputs(p, rec, np.array([current_mA]), pulse_width_us=250.0, frequency_Hz=20.0)
    x = np.asarray(_run(90, inp, p, (state,))[state], dtype=np.float64)[:, 0]
    return Measured(
        float(x[day - 1] / x[-1]), n=1, detail=f"{state}: {x[day - 1]:.3f} / {x[-1]:.3f}"
    )


def lc_day1(ctx: Ctx, *, current_mA: float = 1.5) -> Measured:
    """LC sensitisation ``S`` after day 1 relative to that day's mean LC output ``Nbar``."""
    p, rec = _pr(ctx)
    inp = _inputs(p, rec, np.array([current_mA]), pulse_width_us=250.0, frequency_Hz=20.0)
    out = _run(1, inp, p, ("S", "Nbar"))
    S, N = float(np.asarray(out["S"])[0, 0]), float(np.asarray(out["Nbar"])[0, 0])
    return Measured(S / N, n=1, detail=f"S = {S:.3f}, Nbar = {N:.3f}")


_SWEEP = np.round(np.arange(0.05, 3.51, 0.05), 2)


def inverted_u(ctx: Ctx) -> Measured:
    """``G(2 I*) / G(I*)`` over a current sweep (20 Hz, 250 µs; I* the optimal current)."""
    p, rec = _pr(ctx)
    inp = _inputs(p, rec, _SWEEP, pulse_width_us=250.0, frequency_Hz=20.0)
    G = np.asarray(_run(1, inp, p, ("G",))["G"], dtype=np.float64)[0]
    k = int(np.argmax(G))
    best = float(_SWEEP[k])
    if k == len(_SWEEP) - 1 or G[k] <= 0:
        return Measured(1.0, n=1, detail=f"no interior optimum (peak at {best} mA)")
    twice = float(np.interp(2 * best, _SWEEP, G))
    return Measured(
        twice / float(G[k]), n=1, detail=f"optimum {best:.2f} mA; G(2·I*) = {twice:.3f}"
    )


def _phasic(
    p: PhysiologyParameters, rec: Recruitment, current_mA: FloatArray, *, pulse_width_us: float,
    frequency_Hz: float, F_ratio: float,
) -> FloatArray:  # fmt: skip
    """ON-locked net modulation (the acute, train-locked part of §5.3) of the median patient."""
    inp = _inputs(p, rec, current_mA, pulse_width_us=pulse_width_us, frequency_Hz=frequency_Hz)
    r, f, on = inp.recruited_fraction, inp.frequency_Hz, inp.stimulation_on
    n = f.shape[0]
    return phasic_modulation(
        afferent_drive(r, f, on, p), thin_fibre_drive(r, f, on, p), np.full(n, F_ratio), p
    )


def facilitation_band(ctx: Ctx) -> Measured:
    """Share (%) of currents in 0.2–0.6 T with net ON-locked facilitation (20 Hz, 500 µs, the
    population's sign mixture F/I); T is the lowest current above which the ON-locked net
    modulation stays positive (inhibition) — Ren 1988's tail-flick reflex during stimulation."""
    p, rec = _pr(ctx)
    cur = np.round(np.arange(0.01, 3.501, 0.01), 3)
    M = _phasic(p, rec, cur, pulse_width_us=500.0, frequency_Hz=20.0, F_ratio=p.F_max_over_I_max)
    pos = M > 0
    if not pos[-1]:
        return Measured(0.0, n=1, detail="no inhibition up to 3.5 mA")
    last_nonpos = np.flatnonzero(~pos)
    T = float(cur[last_nonpos[-1] + 1]) if last_nonpos.size else float(cur[0])
    band = np.linspace(0.2 * T, 0.6 * T, 9)
    Mb = np.interp(band, cur, M)
    share = 100.0 * float(np.mean(Mb < 0))
    return Measured(share, n=1, detail=f"T = {T:.2f} mA; max M in band {Mb.max():.2e}")


def acute_pronociception(
    ctx: Ctx, *, current_mA: float, pulse_width_us: float, frequency_Hz: float,
    pro_nociceptive_share: float,
) -> Measured:  # fmt: skip
    """Population mean of the ON-locked net modulation at a clinical setting (< 0: stimulation
    lowers the heat-pain threshold), over the two sign classes in the given shares."""
    p, rec = _pr(ctx)
    cur = np.array([current_mA])
    kw = {"pulse_width_us": pulse_width_us, "frequency_Hz": frequency_Hz}
    m_pro = float(_phasic(p, rec, cur, **kw, F_ratio=p.F_max_over_I_max_pro_nociceptive)[0])
    m_anti = float(_phasic(p, rec, cur, **kw, F_ratio=p.F_max_over_I_max)[0])
    m = pro_nociceptive_share * m_pro + (1.0 - pro_nociceptive_share) * m_anti
    return Measured(m, n=1, detail=f"pro-nociceptive class {m_pro:.3f}, other {m_anti:.3f}")


def heart_rate_median_patient(
    ctx: Ctx, *, current_mA: float, pulse_width_us: float, frequency_Hz: float
) -> Measured:
    """HR change (%) of the median patient (θ = ``coupling_median``) at the given settings."""
    p, rec = _pr(ctx)
    hr = heart_rate_pct(np.array([current_mA]), np.array([p.coupling_median]), p, rec,
                        frequency_Hz=frequency_Hz, pulse_width_us=pulse_width_us)  # fmt: skip
    return Measured(float(hr[0]), n=1)


METRICS: dict[str, Callable[..., Measured]] = {
    "mechanism.serotonin_duty": serotonin_duty,
    "mechanism.onset": onset,
    "mechanism.lc_day1": lc_day1,
    "mechanism.inverted_u": inverted_u,
    "mechanism.facilitation_band": facilitation_band,
    "mechanism.acute_pronociception": acute_pronociception,
    "heart_rate_median_patient": heart_rate_median_patient,
}
