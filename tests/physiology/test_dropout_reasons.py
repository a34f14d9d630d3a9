"""Why patients discontinue: the competing hazards of the day of dropout decide the reason from
the same uniform that decided the dropout, so recording it changes no result."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from openvns.physiology.model import (
    DROPOUT_ADVERSE_EVENT,
    DROPOUT_LACK_OF_EFFICACY,
    DROPOUT_OTHER,
    competing_reason,
)
from openvns.trials import TrialDesign, run_trial


@pytest.mark.parametrize(
    ("h0", "h_ae", "h_ineffective"),
    [(0.01, 0.03, 0.02), (0.002, 0.0, 0.05), (0.2, 0.6, 0.2), (0.001, 0.001, 0.0)],
)
def test_reasons_follow_the_shares_of_the_hazards(
    h0: float, h_ae: float, h_ineffective: float
) -> None:
    n = 400_000
    u = np.random.default_rng(5).random(n)
    full = np.full(n, 1.0)
    h = h0 + h_ae + h_ineffective
    left = u < -np.expm1(-h)
    reason = competing_reason(u, full * h0, full * h_ae, full * h_ineffective)[left]
    k = int(left.sum())
    for code, share in (
        (DROPOUT_ADVERSE_EVENT, h_ae / h),
        (DROPOUT_LACK_OF_EFFICACY, h_ineffective / h),
        (DROPOUT_OTHER, h0 / h),
    ):
        count = int(np.sum(reason == code))
        if share == 0.0:
            assert count == 0
            continue
        low, high = stats.binom.interval(0.9999, k, share)
        assert low <= count <= high, (code, count, k * share)


def test_a_trial_records_a_reason_for_every_dropout_and_none_for_completers() -> None:
    design = TrialDesign.default()
    result = run_trial(design, n_per_arm=300, root_seed=7)
    reason = result.dropout_reason
    assert reason is not None
    dropped = result.dropout_day >= 0
    assert dropped.any()
    assert np.all(reason[~dropped] == 0)
    assert np.all(np.isin(reason[dropped], [1, 2, 3]))
    # in the blinded phase only the active arm is stimulated: its side effects cause more
    # dropouts than the sham arm's background reports
    blinded = dropped & (result.dropout_day < design.baseline_days + design.blinded_days)
    ae = blinded & (reason == DROPOUT_ADVERSE_EVENT)
    assert ae[result.arm == 0].sum() > ae[result.arm == 1].sum()
