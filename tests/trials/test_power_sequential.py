"""Power of a group-sequential design: the interim rule applied to every simulated replicate."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from openvns.patients.conditions import load_condition
from openvns.simulation.parameters import ModelParameters
from openvns.trials import TrialDesign, run_trial
from openvns.trials.interim import Interim, boundaries, interim_outcome
from openvns.trials.power import blinded_design, patient_endpoints, power_curve
from openvns.trials.power_output import power_document
from openvns.trials.power_sequential import decide, look_z


def _design(**interim: float | None) -> TrialDesign:
    base = TrialDesign.default().to_dict()
    base.update(baseline_days=14, blinded_days=28, open_label_days=0, interim=interim)
    return TrialDesign.from_dict(base)


def _null(**interim: float | None) -> TrialDesign:
    sham = TrialDesign.default().arms[1]
    return _design(**interim).model_copy(
        update={"arms": (sham.model_copy(update={"name": "a"}), sham), "open_label_arm": None}
    )


def _rule(z1: float, z2: float, interim: Interim) -> str:
    """The decision of interim_outcome, written out for one trial."""
    c1, c2 = boundaries(interim.information_fraction, interim.alpha)
    if abs(z1) >= c1:
        return "stopped for efficacy" if z1 < 0 else "stopped for harm"
    if interim.futility_z is not None and -z1 < interim.futility_z:
        return "stopped for futility"
    if abs(z2) >= c2:
        return "efficacy at the final analysis" if z2 < 0 else "harm at the final analysis"
    return "no difference shown"


@settings(max_examples=300, deadline=None)
@given(
    st.floats(-6, 6), st.floats(-6, 6), st.floats(0.1, 0.9),
    st.one_of(st.none(), st.floats(-2, 2)),
)  # fmt: skip
def test_the_vectorised_rule_is_the_interim_rule(
    z1: float, z2: float, t: float, futility: float | None
) -> None:
    interim = Interim(information_fraction=t, futility_z=futility)
    eff, s_eff, s_harm, s_fut = (float(x[0]) for x in decide(np.array([z1]), np.array([z2]),
                                                              interim))  # fmt: skip
    decision = _rule(z1, z2, interim)
    assert eff == (decision in ("stopped for efficacy", "efficacy at the final analysis"))
    assert s_eff == (decision == "stopped for efficacy")
    assert s_harm == (decision == "stopped for harm")
    assert s_fut == (decision == "stopped for futility")


@pytest.mark.parametrize("futility", [None, 0.0])
def test_a_replicate_decides_as_the_trial_does(futility: float | None) -> None:
    """One replicate made of a real trial's patients: the same looks, z and decision as
    :func:`interim_outcome` on the trial."""
    design = _design(information_fraction=0.5, futility_z=futility)
    result = run_trial(design, n_per_arm=40, root_seed=12)
    mp = ModelParameters.default(load_condition("fibromyalgia"))
    ep = patient_endpoints(
        blinded_design(design), result.patient_index, result.arm, root_seed=12, parameters=mp
    ).reshape(1)
    assert design.interim is not None
    out = interim_outcome(result, design.interim)
    z1 = look_z(ep, result.arm, 0.5)
    assert z1[0] == pytest.approx(out.interim.z, rel=1e-9)
    z2 = look_z(ep, result.arm, 1.0)
    if out.final is not None:
        assert z2[0] == pytest.approx(out.final.z, rel=1e-9)
    eff, *_ = decide(z1, z2, design.interim)
    assert bool(eff[0]) == (out.decision in ("stopped for efficacy",
                                              "efficacy at the final analysis"))  # fmt: skip


def test_the_design_keeps_its_type_i_error_and_reports_early_stops() -> None:
    """Sham against sham: efficacy (one direction of a two-sided 0.05) about 2.5 % of trials;
    a futility rule at z = 10 stops every trial at the interim with half the patients."""
    r = 400
    curve = power_curve(_null(information_fraction=0.5), [12], replicates=r, root_seed=21)
    seq = curve.sequential
    assert seq is not None
    p = float(seq.power[0])
    assert abs(p - 0.025) < 4 * np.sqrt(0.025 * 0.975 / r)
    assert seq.expected_patients[0] <= 24
    stops = seq.stopped_efficacy[0] + seq.stopped_harm[0]
    assert stops <= seq.efficacy[0] + seq.stopped_harm[0]
    futile_curve = power_curve(
        _null(information_fraction=0.5, futility_z=10.0), [12], replicates=50, root_seed=21
    )
    futile = futile_curve.sequential
    assert futile is not None
    assert int(futile.stopped_futility[0]) == 50 - int(futile.stopped_efficacy[0]) - int(
        futile.stopped_harm[0]
    )
    assert futile.expected_patients[0] == pytest.approx(12.0)  # 6 of 12 in each arm
    doc = power_document(futile_curve)
    assert doc["sequential"]["stopped_futility"] == [int(futile.stopped_futility[0])]
