"""Power of a randomised-withdrawal design: the loss of response among the run-in responders,
tested per replicate as :func:`withdrawal_outcome` tests one trial; its type I error when the
withdrawn arm keeps the continued arm's protocol; the large-sample effect and the evidence."""

from __future__ import annotations

import json

import numpy as np
import pytest
from scipy import stats

from openvns.analysis.statistics import Comparison, newcombe_difference
from openvns.patients.conditions import load_condition
from openvns.simulation.parameters import ModelParameters
from openvns.trials import TrialDesign, run_trial
from openvns.trials.executors import serial
from openvns.trials.power import (
    _simulate,
    allocation,
    blinded_design,
    large_sample_effect,
    patient_endpoints,
    power_curve,
)
from openvns.trials.power_evidence import DesignEvidence
from openvns.trials.power_withdrawal import (
    WITHDRAWAL_ENDPOINT,
    withdrawal_comparison,
    withdrawal_counts,
    withdrawal_tests,
)
from openvns.trials.withdrawal import withdrawal_outcome

TITRATE = (
    "titrate from 0.25 mA by 0.25 mA every 14 days to tolerance, max 2.0 mA; 20 Hz; 250 us; "
    "30 s on / 5 min off"
)
FIXED = "1.0 mA; 20 Hz; 250 us; 30 s on / 5 min off"
OFF = "0.0 mA; 20 Hz; 250 us; 30 s on / 5 min off"


def withdrawal_design(
    withdrawn: str = OFF,
    *,
    kind: str = "sham",
    continued: str = TITRATE,
    responder_pct: float = 30.0,
    open_label_days: int = 0,
) -> TrialDesign:
    """A short withdrawal design: 14-day baseline, 28-day run-in, 28-day withdrawal."""
    return TrialDesign.from_dict(
        {
            **TrialDesign.default().to_dict(),
            "baseline_days": 14,
            "blinded_days": 56,
            "open_label_days": open_label_days,
            "open_label_arm": "continue" if open_label_days else None,
            "withdrawal": {"run_in_days": 28, "responder_pct": responder_pct},
            "arms": [
                {"name": "continue", "kind": "active", "protocol": continued},
                {"name": "withdraw", "kind": kind, "protocol": withdrawn},
            ],
        }
    )


@pytest.mark.parametrize(("n_per_arm", "method"), [(12, "fisher exact"), (300, "chi-square")])
def test_a_replicate_gives_the_trial_withdrawal_outcome(n_per_arm: int, method: str) -> None:
    """One replicate made of a real trial's patients (with an open-label extension, which the
    power's blinded design drops): the same run-in responders and losses per arm, the same
    difference, interval and p-value as :func:`withdrawal_outcome` (Fisher at small counts,
    chi-square at large)."""
    design = withdrawal_design(responder_pct=20.0, open_label_days=14)
    result = run_trial(design, n_per_arm=n_per_arm, root_seed=7)
    mp = ModelParameters.default(load_condition("fibromyalgia"))
    ep = patient_endpoints(
        blinded_design(design), result.patient_index, result.arm, root_seed=7, parameters=mp
    ).reshape(1)
    out = withdrawal_outcome(result)
    lost_w, resp_w, lost_c, resp_c = (int(x[0]) for x in withdrawal_counts(ep, result.arm))
    assert (resp_c, resp_w) == (
        out.run_in_responders["continue"],
        out.run_in_responders["withdraw"],
    )
    assert (lost_c, lost_w) == (out.lost["continue"], out.lost["withdraw"])
    assert min(resp_c, resp_w) > 0
    assert max(lost_c, lost_w) > 0
    assert newcombe_difference(lost_w, resp_w, lost_c, resp_c).method == method
    est, p = withdrawal_tests(ep, result.arm)
    assert est[0] == pytest.approx(out.difference, rel=1e-12, abs=1e-15)
    assert p[0] == pytest.approx(out.p_value, rel=1e-9, abs=1e-15)
    c = withdrawal_comparison(ep, result.arm)
    assert (c.estimate, c.lower, c.upper, c.p_value) == pytest.approx(
        (out.difference, out.lower, out.upper, out.p_value), rel=1e-12, abs=1e-15
    )


def test_the_power_curve_counts_the_replicates_tests() -> None:
    """The curve's first row is the loss of response (withdrawn − continued): its rejections
    are those of the per-replicate tests of the same patients; the parallel rows follow."""
    design = withdrawal_design(responder_pct=5.0)
    curve = power_curve(design, [10, 20], replicates=10, root_seed=3, alpha=0.5)
    first = curve.endpoints[0]
    assert (first.comparison, first.endpoint) == ("withdraw − continue", WITHDRAWAL_ENDPOINT)
    assert [(e.comparison, e.endpoint) for e in curve.endpoints[1:]] == [
        ("continue − withdraw", k) for k in ("change_NRS", "responders_30", "responders_50")
    ]
    mp = ModelParameters.default(load_condition("fibromyalgia"))
    ep = _simulate(
        blinded_design(design), [(r, 40) for r in range(10)], root_seed=3, parameters=mp,
        run=serial, chunk_size=2048, progress=None,
    ).reshape(10)  # fmt: skip
    for j, n in enumerate((10, 20)):
        sub, arms = ep.take(2 * n), allocation(design, 2 * n)
        _, p = withdrawal_tests(sub, arms)
        assert int(first.rejections[j]) == int(np.sum(p < 0.5))
        _x1, n1, _x2, n2 = withdrawal_counts(sub, arms)
        assert curve.withdrawal is not None
        assert curve.withdrawal.responders[j].tolist() == pytest.approx([n2.mean(), n1.mean()])
    assert first.rejections.sum() > 0  # (α = 0.5: some replicates reject)
    assert curve.withdrawal.lines()[0].startswith("randomised withdrawal: loss of response")


def test_withdrawing_to_the_same_protocol_keeps_the_type_i_error() -> None:
    """Both arms on the same fixed 1 mA protocol, before and after the withdrawal: the run-in
    responders and their losses are alike in both arms (pooled over 200 trials of 30 per arm)
    and the loss-of-response test rejects no more often than α (its rejections at most the
    upper end of the central 99.9 % binomial interval around α = 0.05; the chi-square / Fisher
    test is conservative at these counts), nor does Welch's Δ NRS leave that interval. A low
    responder threshold (5 %) gives ~20 run-in responders per arm, so that the test can
    reject."""
    reps, alpha = 200, 0.05
    design = withdrawal_design(FIXED, kind="active", continued=FIXED, responder_pct=5.0)
    curve = power_curve(design, [30], replicates=reps, root_seed=17, alpha=alpha)
    lo, hi = stats.binom.ppf([0.0005, 0.9995], reps, alpha)
    lost = curve.get("withdraw − continue", WITHDRAWAL_ENDPOINT)
    assert lost.rejections[0] <= hi, lost
    welch = curve.get("continue − withdraw", "change_NRS")
    assert lo <= welch.rejections[0] <= hi, welch
    wd = curve.withdrawal
    assert wd is not None
    responders = wd.responders[0] * reps  # run-in responders per arm, all trials
    assert responders.min() > 10 * reps
    share = wd.lost_share[0]
    assert share.min() > 0.05  # there are losses to compare
    pooled = float(np.sum(share * responders) / responders.sum())
    se = np.sqrt(pooled * (1 - pooled) * np.sum(1.0 / responders))
    assert abs(share[1] - share[0]) < 4 * se, share
    # the run-in is the same protocol in both arms: as many responders (binomial, 4 s.e.)
    q = responders.sum() / (2 * 30 * reps)
    assert abs(responders[1] - responders[0]) < 4 * np.sqrt(2 * 30 * reps * q * (1 - q) * 2)


def test_the_large_sample_effect_is_the_withdrawal_outcome_of_one_big_trial() -> None:
    design = withdrawal_design()
    big = large_sample_effect(design, n_per_arm=40, root_seed=2)
    key = ("withdraw − continue", WITHDRAWAL_ENDPOINT)
    assert next(iter(big)) == key
    assert ("continue − withdraw", "change_NRS") in big
    mp = ModelParameters.default(load_condition("fibromyalgia"))
    ep = _simulate(
        blinded_design(design), [(2**30, 80)], root_seed=2, parameters=mp, run=serial,
        chunk_size=2048, progress=None,
    )  # fmt: skip
    x1, n1, x2, n2 = (int(v[0]) for v in withdrawal_counts(ep, allocation(design, 80)))
    assert big[key] == newcombe_difference(x1, n1, x2, n2)


def test_the_evidence_sets_the_trials_loss_of_response_beside_the_model() -> None:
    from openvns.trials.power import EndpointPower, PowerCurve
    from openvns.trials.power_stats import mc_standard_error
    from openvns.trials.runner import TrialSummary
    from openvns.trials.withdrawal import WithdrawalOutcome

    key = ("withdraw − continue", WITHDRAWAL_ENDPOINT)
    e = EndpointPower(
        *key, "loss of response, run-in responders (χ² / Fisher)", np.array([80]),
        np.array([0.4]), mc_standard_error([0.4], 200),
    )  # fmt: skip
    curve = PowerCurve("fibromyalgia", ("continue", "withdraw"), (100,), 200, 0.05, 1, (e,))
    big = {key: Comparison(0.06, 0.02, 0.10, 0.01, "chi-square")}
    ev = DesignEvidence(100, curve, 5000, big)
    outcome = WithdrawalOutcome({"continue": 40, "withdraw": 41}, {"continue": 5, "withdraw": 20},
                                0.36, 0.17, 0.52, 0.0002)  # fmt: skip
    lines = ev.lines(TrialSummary(arms={}, comparisons={}), outcome)
    assert "withdraw − continue, loss of response" in lines[1].text
    assert "power 40 % ± 3 %; large-sample +6.0 points [+2.0, +10.0]" in lines[1].text
    assert "this trial +36.0 points [+17.0, +52.0]" in lines[1].text
    assert lines[-1].warning
    assert "outside the model's large-sample interval" in lines[-1].text
    doc = ev.to_dict(TrialSummary(arms={}, comparisons={}), outcome)
    assert doc["endpoints"][0]["estimate_inside_large_sample_ci"] is False
    json.dumps(doc)
    assert not ev.lines(TrialSummary(arms={}, comparisons={}))[-1].warning  # no outcome given


def test_a_parallel_design_has_no_withdrawal_flags() -> None:
    design = blinded_design(TrialDesign.default())
    mp = ModelParameters.default(load_condition("fibromyalgia"))
    ep = patient_endpoints(design, [0, 1, 2, 3], [0, 1, 0, 1], root_seed=1, parameters=mp)
    assert not ep.run_in_responder.any()
    assert not ep.lost_response.any()
