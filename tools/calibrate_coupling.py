"""Derive the two values of the physiology set that hang on the default recruitment table.

- ``variability.coupling_median``: the median nerve-interface multiplier θ, the human laryngeal
  EMG50 (0.49 mA at 250 µs, P12 of the physiology set) over the default 2 mm table's
  laryngeal-motor I50 at 250 µs (the weighted median threshold of the group).
- ``heart_rate.r50_B``: the cardiac-B recruited fraction of half the bradycardic effect, such
  that the median patient (θ = ``coupling_median``) has the human HR10, −10 % at 3.53 mA, 250 µs,
  20 Hz (P12; target ``hr10`` of the validation registry), with ``n_B`` and ``c_eff_HR_pct``
  as they are.

Prints both with the table's key; rerun it after the default table changes (a new field, mesh
or population) and copy the values into ``physiology/data/vns_pain_model.yaml``.
``tests/physiology/test_coupling_derivation.py`` fails while they disagree.

``--carry-from-field analytic`` also carries the values set in drive units "where human clinical
currents land" over from the table on that field to the default one, keeping the *current* at
which each acts in the median patient (250 µs, 20 Hz): ``D50_N`` (P2's rat NE at 0.25 / 0.5 /
1.0 mA), ``D50_up`` (P5's effective 0.4–0.8 mA), ``c_down_small_fibre`` (P5's failing 1.6 mA),
``X50_F_phasic`` and ``X50_I_phasic`` (the ON-locked modulation's band). Each old value is
turned into the current that reaches it on the old table (θ of the old table's own EMG50 fit),
and that current into the new value on the new table.

    .venv/bin/python tools/calibrate_coupling.py [--carry-from-field analytic]
"""

from __future__ import annotations

import argparse
from collections.abc import Callable

import numpy as np
from scipy.optimize import brentq

from openvns.nerve.recruitment import build_recruitment_table
from openvns.physiology.drive import ADELTA_AFF, C_AFF, afferent_drive, thin_fibre_drive
from openvns.physiology.parameters import PhysiologyParameters, load_parameters
from openvns.simulation.recruitment import TableRecruitment, default_recruitment
from openvns.trials.validation.mechanism import heart_rate_pct
from openvns.trials.validation.registry import load_registry

#: The human laryngeal EMG50 (mA) and its pulse width (µs): P12 of the physiology set
#: (``physiology/data/vns_pain_model.yaml``), the target of θ's median.
EMG50_MA = 0.49
EMG50_PULSE_WIDTH_US = 250.0


#: The anchors' stimulation (the recruitment tables' reference pulse width and 20 Hz).
FREQUENCY_HZ = 20.0
#: Currents searched for an anchor (mA): zero to the generators' maximum.
CURRENT_RANGE_MA = (1e-3, 3.5)

Drive = Callable[[np.ndarray, PhysiologyParameters], np.ndarray]


def _drive(r: np.ndarray, p: PhysiologyParameters) -> np.ndarray:
    n = len(r)
    return afferent_drive(r, np.full(n, FREQUENCY_HZ), np.ones(n, bool), p)


def _thin_drive(r: np.ndarray, p: PhysiologyParameters) -> np.ndarray:
    n = len(r)
    return thin_fibre_drive(r, np.full(n, FREQUENCY_HZ), np.ones(n, bool), p)


def _thin_fraction(r: np.ndarray, p: PhysiologyParameters) -> np.ndarray:
    return np.asarray(r[:, ADELTA_AFF] + r[:, C_AFF])


#: name -> the quantity (of the fractions recruited) the value is a half-point of
ANCHORS: dict[str, Drive] = {
    "D50_N": _drive,
    "D50_up": _drive,
    "X50_F_phasic": _drive,
    "X50_I_phasic": _thin_drive,
    "c_down_small_fibre": _thin_fraction,
}


#: The values as they were set on the analytic-field table (vns_pain_model.yaml 2026.12.3,
#: before the default table moved to the finite-element field): what is carried.
SET_ON_ANALYTIC = {
    "D50_N": 0.2,
    "D50_up": 0.3,
    "X50_F_phasic": 0.3,
    "X50_I_phasic": 0.5,
    "c_down_small_fibre": 0.45,
}


def _carry(p: PhysiologyParameters, old_field: str) -> None:
    """Print each anchor's value carried from the table on ``old_field`` to the default one."""
    old_table = build_recruitment_table("2mm", field=old_field)
    old, new = TableRecruitment(old_table), default_recruitment()
    theta_old = EMG50_MA / old_table.i50_mA("laryngeal_motor", EMG50_PULSE_WIDTH_US)
    theta_new = EMG50_MA / new.table.i50_mA("laryngeal_motor", EMG50_PULSE_WIDTH_US)
    print(f"\ncarried from the {old_field} table (θ {theta_old:.3f}) to the default (θ "
          f"{theta_new:.3f}), median patient, 250 µs, 20 Hz:")  # fmt: skip
    for name, drive in ANCHORS.items():
        value = SET_ON_ANALYTIC[name]

        def at(rec: TableRecruitment, theta: float, mA: float, d: Drive = drive) -> float:
            r = np.asarray(rec(np.array([mA]) / theta, EMG50_PULSE_WIDTH_US))
            return float(d(r, p)[0])

        def gap(mA: float, v: float = value) -> float:
            return at(old, theta_old, mA) - v

        current = brentq(gap, *CURRENT_RANGE_MA, xtol=1e-6)
        print(f"  {name}: {value:g} at {current:.3f} mA -> {at(new, theta_new, current):.3g}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument(
        "--carry-from-field",
        default=None,
        choices=["analytic"],
        help="carry SET_ON_ANALYTIC from the analytic table to the default one",
    )
    args_cli = ap.parse_args()
    p = load_parameters()
    (hr10,) = load_registry().select(["hr10"])
    i50 = default_recruitment().table.i50_mA("laryngeal_motor", EMG50_PULSE_WIDTH_US)
    emg50 = EMG50_MA
    theta = emg50 / i50
    rec = default_recruitment()
    args = hr10.args

    def hr(r50: float) -> float:
        q = p.with_(r50_B=r50, coupling_median=theta)
        out = heart_rate_pct(np.array([args["current_mA"]]), np.array([theta]), q, rec,
                             frequency_Hz=args["frequency_Hz"],
                             pulse_width_us=args["pulse_width_us"])  # fmt: skip
        return float(out[0]) - float(hr10.reference.value)

    r50 = brentq(hr, 1e-4, 1.0, xtol=1e-6)
    print(f"default table {rec.table.key[:12]}: laryngeal-motor I50 {i50:.4f} mA at 250 µs")
    print(f"coupling_median = {emg50} / {i50:.4f} = {theta:.3f}")
    at = f"{args['current_mA']} mA, {args['pulse_width_us']} µs, {args['frequency_Hz']} Hz"
    print(f"r50_B = {r50:.4f} (HR {hr(r50) + float(hr10.reference.value):.2f} % at {at})")
    if args_cli.carry_from_field:
        _carry(p, args_cli.carry_from_field)


if __name__ == "__main__":
    main()
