"""The attack model's parameters: derived rates against closed forms, and every assumption
shown to matter (the rule tests/simulation/test_parameters.py applies to the engine's sets)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from openvns.parameters import load_set
from openvns.patients import sample_cohort
from openvns.patients.attack_parameters import (
    DAY_MIN,
    derived_rates,
    gamma_nodes,
    headache_conditions,
    load_attack_parameters,
    truncated_lognormal_mean,
)
from openvns.patients.attacks import simulate_attacks

NONE = {"rate_multiplier": 1.0, "expectation": 0.0, "missing_rate": 0.0}


def test_truncated_lognormal_mean_matches_sampling() -> None:
    rng = np.random.default_rng(0)
    d = np.exp(3.8 + 0.5 * rng.standard_normal(2_000_000))
    d = d[(d >= 15.0) & (d <= 180.0)]
    assert truncated_lognormal_mean(3.8, 0.5, 15.0, 180.0) == pytest.approx(d.mean(), rel=2e-3)


@pytest.mark.parametrize("cv", [0.2, 0.5, 1.0, 2.0])
def test_gamma_nodes_reproduce_the_gamma_moments(cv: float) -> None:
    g, w = gamma_nodes(cv)
    assert np.sum(w) == pytest.approx(1.0)
    assert np.sum(w * g) == pytest.approx(1.0, rel=1e-9)
    assert np.sum(w * g**2) - 1.0 == pytest.approx(cv**2, rel=1e-9)


@pytest.mark.parametrize("name", headache_conditions())
def test_derived_duration_has_the_sourced_mean(name: str) -> None:
    p = load_attack_parameters(name)
    r = derived_rates(p)
    mean = truncated_lognormal_mean(r.log_duration_median_min, p.duration_omega,
                                    p.duration_lower_min, p.duration_upper_min)  # fmt: skip
    assert mean == pytest.approx(p.duration_mean_min, rel=1e-9)
    assert r.days_per_attack == pytest.approx(1.0 + p.duration_mean_min / DAY_MIN, rel=1e-9)


def test_migraine_days_of_a_homogeneous_population_follow_the_thinning_formula() -> None:
    """Every patient at the same rate λ: P(migraine day) = 1 − exp(−λ c), c = 1 + E[D] / 1 d."""
    p = load_attack_parameters("episodic_migraine").with_(
        between_patient_cv=0.0, fluctuation_sd=0.0, frequency_per_28d=10.0
    )
    r = derived_rates(p)
    expected = -np.expm1(-r.mean_rate_per_d * r.days_per_attack)
    assert expected == pytest.approx(10.0 / 28.0, rel=1e-9)
    diary, _ = simulate_attacks(sample_cohort("episodic_migraine", 4000, root_seed=1), 60, 1,
                                params=p, **NONE)  # fmt: skip
    assert diary.migraine_day.mean() == pytest.approx(expected, abs=0.006)


# ------------------------------------------------------------------ every assumption matters
def _perturbed(value: Any) -> Any:
    if isinstance(value, tuple):  # shares: move mass from the first to the last
        v = list(value)
        shift = min(0.1, v[0])
        return tuple([v[0] - shift, *v[1:-1], v[-1] + shift])
    if isinstance(value, bool):
        raise AssertionError("no flags in the attack model")
    if isinstance(value, int):
        return value + 1 if value < 3 else value - 1
    if 0.0 < value < 1.0:
        return value * 0.6
    return value * 1.5


def _assumptions() -> list[tuple[str, str]]:
    return [(name, q.name) for name in headache_conditions()
            for q in load_set(f"headache/{name}") if q.status == "A"]  # fmt: skip


def _run(p: Any, name: str) -> tuple[Any, Any]:
    cohort = sample_cohort(name, 300, root_seed=2)
    mult = np.zeros((300, 120))
    mult[:, 30:] = 1.75
    return simulate_attacks(cohort, 120, 3, params=p, rate_multiplier=1.0, expectation=mult,
                            acute_relief=0.3, treat_from_day=30, missing_rate=0.1)  # fmt: skip


@pytest.mark.parametrize(("name", "parameter"), _assumptions())
def test_every_assumption_changes_the_diary(name: str, parameter: str) -> None:
    p = load_attack_parameters(name)
    value = getattr(p, parameter)
    if parameter == "in_bout_at_start":
        changed = p.with_(in_bout_at_start=0.5)
    elif parameter == "decline_fraction":  # a migraine (≥ 4 h) falls within 2 h only above 0.5
        changed = p.with_(decline_fraction=min(1.0, 2.5 * value))
    else:
        changed = p.with_(**{parameter: _perturbed(value)})
    (d0, t0), (d1, t1) = _run(p, name), _run(changed, name)
    fields = ("attacks", "headache_day", "peak_severity", "duration_min", "rescue")
    differs = any(not np.array_equal(getattr(d0, f), getattr(d1, f), equal_nan=True)
                  for f in fields) or not np.array_equal(t0.pain, t1.pain)  # fmt: skip
    assert differs, f"{name}: changing {parameter} changed nothing"
