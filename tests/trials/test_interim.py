"""The adaptive design's interim analysis: Lan–DeMets O'Brien–Fleming boundaries, the decision
rules, and the design from a trial.toml."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
from pydantic import ValidationError as PydanticValidationError
from scipy import stats

from openvns.errors import ValidationError
from openvns.trials import TrialConfig, TrialDesign, run_trial
from openvns.trials.interim import (
    Interim,
    boundaries,
    interim_outcome,
    obrien_fleming_spending,
)


@pytest.mark.parametrize("t", [0.25, 0.5, 0.75])
@pytest.mark.parametrize("alpha", [0.05, 0.01])
def test_boundaries_spend_alpha_exactly(t: float, alpha: float) -> None:
    c1, c2 = boundaries(t, alpha)
    # the interim spends alpha(t), so c1 = z_{1-alpha/2} / sqrt(t) in this two-sided form
    assert c1 == pytest.approx(stats.norm.ppf(1 - alpha / 2) / math.sqrt(t), rel=1e-9)
    assert 2 * stats.norm.sf(c1) == pytest.approx(obrien_fleming_spending(t, alpha), rel=1e-9)
    # the whole design's type I error is alpha: Monte Carlo with corr(Z1, Z2) = sqrt(t)
    rng = np.random.default_rng(11)
    n = 2_000_000
    z1 = rng.standard_normal(n)
    z2 = math.sqrt(t) * z1 + math.sqrt(1 - t) * rng.standard_normal(n)
    reject = (np.abs(z1) >= c1) | (np.abs(z2) >= c2)
    se = math.sqrt(alpha * (1 - alpha) / n)
    assert abs(reject.mean() - alpha) < 4 * se
    assert c1 > c2 > stats.norm.ppf(1 - alpha / 2)  # the final look pays a little


def test_the_interim_is_validated() -> None:
    for bad in ({"information_fraction": 0.0}, {"information_fraction": 1.0},
                {"alpha": 1.5}, {"futility_z": math.inf}):  # fmt: skip
        with pytest.raises(PydanticValidationError, match=next(iter(bad))):
            Interim(**bad)  # type: ignore[arg-type]
        data = TrialConfig().to_dict()
        data["trial"]["interim"] = bad
        with pytest.raises(ValidationError, match=rf"interim\.{next(iter(bad))}"):
            TrialConfig.from_dict(data)
    one_arm = TrialDesign.default().to_dict()
    one_arm.update(arms=one_arm["arms"][:1], open_label_days=0, interim={})
    one_arm.pop("open_label_arm", None)
    with pytest.raises(ValidationError, match="interim"):
        TrialDesign.from_dict(one_arm)


def test_the_design_reads_and_writes_its_interim(tmp_path: Path) -> None:
    data = TrialConfig().to_dict()
    data["trial"]["interim"] = {"information_fraction": 0.4, "futility_z": 0.0}
    cfg = TrialConfig.from_dict(data)
    assert cfg.design.interim == Interim(information_fraction=0.4, futility_z=0.0)
    assert TrialConfig.from_dict(cfg.to_dict()).design.interim == cfg.design.interim
    data["trial"]["interim"] = {"fraction": 0.4}
    with pytest.raises(ValidationError, match=r"interim\.fraction"):
        TrialConfig.from_dict(data)


def _design(**interim: float) -> TrialDesign:
    base = TrialDesign.default().to_dict()
    base.update(open_label_days=0, interim=interim)
    return TrialDesign.from_dict(base)


def test_a_large_effect_stops_early_and_a_null_does_not() -> None:
    # the default trial at 2000 per arm: the model's effect is found at the interim
    strong = run_trial(_design(information_fraction=0.5), n_per_arm=2000, root_seed=3)
    out = interim_outcome(strong, strong.design.interim)  # type: ignore[arg-type]
    assert out.decision == "stopped for efficacy"
    assert out.final is None
    assert out.interim.z <= -out.interim.boundary
    # sham against sham: nothing to find; with a futility rule at z = 10 it always stops there
    sham = TrialDesign.default().arms[1]
    null = _design(information_fraction=0.5, futility_z=10.0).model_copy(
        update={"arms": (sham.model_copy(update={"name": "a"}), sham), "open_label_arm": None}
    )
    r = run_trial(null, n_per_arm=60, root_seed=4)
    assert interim_outcome(r, Interim(futility_z=10.0)).decision == "stopped for futility"
    looked = interim_outcome(r, Interim())
    assert looked.final is not None
    assert looked.interim.patients < looked.final.patients
