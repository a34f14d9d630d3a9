"""The randomised-withdrawal design: the run-in on the first arm's protocol, the withdrawal, and
loss of response among the run-in responders."""

from __future__ import annotations

import numpy as np
import pytest
from pydantic import ValidationError as PydanticValidationError

from openvns.analysis.endpoints import change_from_baseline, endpoint_window
from openvns.errors import ValidationError
from openvns.trials import TrialConfig, run_trial
from openvns.trials.runner import TrialResult
from openvns.trials.withdrawal import Withdrawal, withdrawal_outcome

ACTIVE = (
    "titrate from 0.25 mA by 0.25 mA every 14 days to tolerance, max 2.0 mA; 20 Hz; 250 us; "
    "30 s on / 5 min off"
)
TRIAL = {
    "baseline_days": 28, "blinded_days": 168, "open_label_days": 0,
    "open_label_arm": "continue",
    "withdrawal": {"run_in_days": 112, "responder_pct": 30.0},
    "arms": [
        {"name": "continue", "kind": "active", "protocol": ACTIVE},
        {"name": "withdraw", "kind": "sham",
         "protocol": "0.0 mA; 20 Hz; 250 us; 30 s on / 5 min off"},
    ],
}  # fmt: skip


def _config(**changes: object) -> TrialConfig:
    data = TrialConfig().to_dict()
    data["trial"] = {**TRIAL, **changes}
    return TrialConfig.from_dict(data)


@pytest.fixture(scope="module")
def result() -> TrialResult:
    cfg = _config()
    return run_trial(cfg.design, n_per_arm=300, root_seed=5, parameters=cfg.model_parameters())


def test_both_arms_share_the_run_in_then_one_is_withdrawn(result: TrialResult) -> None:
    d = result.design
    run_in_end = d.baseline_days + 112
    cont, wd = result.arm == 0, result.arm == 1
    on = result.dropout_day < 0
    during = result.current_mA[:, d.baseline_days + 100]
    after = result.current_mA[:, run_in_end + 20]
    assert during[wd & on].mean() > 0.5  # the withdrawn arm was titrated in the run-in
    assert abs(during[wd & on].mean() - during[cont & on].mean()) < 0.3
    assert np.all(after[wd] == 0.0)
    assert after[cont & on].mean() > 0.5


def test_loss_of_response_is_counted_patient_by_patient(result: TrialResult) -> None:
    d = result.design
    out = withdrawal_outcome(result)
    base, run_in_end = slice(0, d.baseline_days), d.baseline_days + 112
    for i, arm in enumerate(result.arm_names):
        sel = (result.arm == i) & result.eligible
        nrs, obs = result.nrs[sel].astype(np.float64), result.observed[sel]
        first = change_from_baseline(nrs, obs, base, endpoint_window(run_in_end, d.baseline_days))
        last = change_from_baseline(
            nrs, obs, base, endpoint_window(d.baseline_days + d.blinded_days, run_in_end)
        )
        responded = [p <= -30 + 1e-9 for p in first.change_pct]  # NaN compares False
        kept = [p <= -30 + 1e-9 for p in last.change_pct]
        assert out.run_in_responders[arm] == sum(responded)
        assert out.lost[arm] == sum(r and not k for r, k in zip(responded, kept, strict=True))
    # switching the device off loses more responses than going on
    share = {a: out.lost[a] / out.run_in_responders[a] for a in result.arm_names}
    assert share["withdraw"] > share["continue"]
    assert out.lower <= out.difference <= out.upper


def test_the_design_is_validated_and_round_trips() -> None:
    cfg = _config()
    assert cfg.design.withdrawal == Withdrawal(run_in_days=112)
    assert TrialConfig.from_dict(cfg.to_dict()).design.withdrawal == cfg.design.withdrawal
    with pytest.raises(ValidationError, match=r"withdrawal\.run_in_days"):
        _config(withdrawal={"run_in_days": 150})  # leaves 18 days: less than the window
    with pytest.raises(ValidationError, match=r"withdrawal\.period"):
        _config(withdrawal={"run_in_days": 112, "period": 3})
    with pytest.raises(PydanticValidationError, match="run_in_days"):
        Withdrawal(run_in_days=7)


@pytest.mark.parametrize(
    "name", ["implant_randomised_withdrawal.toml", "implant_interim_futility.toml"]
)
def test_the_design_examples_run(name: str) -> None:
    from pathlib import Path

    from openvns.trials import load_config
    from openvns.trials.interim import interim_outcome

    path = Path(__file__).resolve().parents[2] / "examples" / "designs" / name
    cfg = load_config(path)
    r = run_trial(cfg.design, n_per_arm=40, root_seed=1, parameters=cfg.model_parameters())
    if cfg.design.withdrawal is not None:
        out = withdrawal_outcome(r)
        assert sum(out.run_in_responders.values()) > 0
    else:
        assert cfg.design.interim is not None
        assert interim_outcome(r, cfg.design.interim).decision


def test_time_to_loss_follows_each_responder_week_by_week(result: TrialResult) -> None:
    """Each run-in responder's week of loss, recomputed from the diary day by day; the withdrawn
    lose it sooner (log-rank)."""
    from openvns.trials.withdrawal import time_to_loss

    d = result.design
    times = time_to_loss(result)
    base_end, run_in_end = d.baseline_days, d.baseline_days + 112
    blinded_end = d.baseline_days + d.blinded_days
    n_weeks = (blinded_end - run_in_end + 6) // 7
    for i, arm in enumerate(result.arm_names):
        rows = np.flatnonzero((result.arm == i) & result.eligible)
        expected_t, expected_lost = [], []
        for r in rows:
            nrs, obs = result.nrs[r].astype(float), result.observed[r]
            baseline = nrs[:base_end][obs[:base_end]].mean()
            window = slice(run_in_end - 28, run_in_end)
            seen = nrs[window][obs[window]]
            if seen.size < 14 or not seen.mean() <= 0.7 * baseline + 1e-9:
                continue  # not a run-in responder
            week_of_loss = None
            previous_lost = False
            for k in range(n_weeks):
                start = run_in_end + 7 * k
                days = np.arange(start, min(start + 7, blinded_end))
                drop = result.dropout_day[r]
                if 0 <= drop < start + 7:
                    week_of_loss = k + 1
                    break
                got = nrs[days][obs[days]]
                lost = got.size >= (days.size + 1) // 2 and got.mean() > 0.7 * baseline + 1e-9
                if lost and previous_lost:  # two weeks in a row
                    week_of_loss = k + 1
                    break
                previous_lost = lost
            expected_lost.append(week_of_loss is not None)
            expected_t.append(week_of_loss if week_of_loss is not None else n_weeks)
        np.testing.assert_array_equal(times[arm].time_weeks, expected_t)
        np.testing.assert_array_equal(times[arm].lost, expected_lost)
    out = withdrawal_outcome(result)
    assert out.time_to_loss is not None
    assert 0.0 <= out.logrank_p <= 1.0
    # switching the device off: fewer keep the response through the first month
    keep = {a: t.kaplan_meier() for a, t in times.items()}
    at_4 = {a: float(km.survival[km.time <= 4][-1]) for a, km in keep.items()}
    assert at_4["withdraw"] < at_4["continue"]
    doc = out.to_dict()["time_to_loss"]
    assert doc["events"]["withdraw"] == int(times["withdraw"].lost.sum())
