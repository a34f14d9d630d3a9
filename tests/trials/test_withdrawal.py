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
