"""The baseline-characteristics table: each arm's eligible patients before treatment."""

from __future__ import annotations

import numpy as np
import pytest

from openvns.trials import TrialDesign, run_trial
from openvns.trials.baseline_table import baseline_table
from openvns.trials.export import per_patient_columns
from openvns.trials.runner import TrialResult


@pytest.fixture(scope="module")
def result() -> TrialResult:
    return run_trial(TrialDesign.default(), n_per_arm=90, root_seed=12)


def test_rows_are_the_eligible_patients_statistics(result: TrialResult) -> None:
    table = baseline_table(result)
    cols = per_patient_columns(result)
    keys = [r.key for r in table.rows]
    assert keys[:2] == ["baseline_NRS", "bpi_interference_baseline"]
    assert "fiqr_baseline" in keys  # fibromyalgia
    assert "attacks_baseline" not in keys  # not a headache condition
    for i, arm in enumerate(result.arm_names):
        sel = (result.arm == i) & result.eligible
        assert table.randomised[arm] == int((result.arm == i).sum())
        assert table.eligible[arm] == int(sel.sum())
        pain = np.asarray(cols["baseline_NRS"], dtype=np.float64)[sel]
        n, mean, (sd,) = table.rows[0].values[arm]
        assert n == int(np.isfinite(pain).sum())
        assert mean == pytest.approx(float(np.nanmean(pain)))
        assert sd == pytest.approx(float(np.nanstd(pain, ddof=1)))
        theta = next(r for r in table.rows if r.key == "coupling").values[arm]
        assert theta[1] == pytest.approx(float(np.median(result.coupling[sel])))


def test_randomised_arms_are_alike_at_baseline(result: TrialResult) -> None:
    """Randomisation: the arms' baseline pain differs by sampling error only."""
    row = baseline_table(result).rows[0]
    (n_a, m_a, (s_a,)), (n_b, m_b, (s_b,)) = row.values["active"], row.values["sham"]
    se = np.sqrt(s_a**2 / n_a + s_b**2 / n_b)
    assert abs(m_a - m_b) < 4 * se


def test_text_json_and_report(result: TrialResult) -> None:
    from openvns.cli.trial import summary_document
    from openvns.trials.report import render_report

    table = baseline_table(result)
    assert "(" in table.rows[0].text("active")
    assert "[" in next(r for r in table.rows if r.key == "coupling").text("sham")
    doc = summary_document(result)["baseline"]
    assert doc["eligible"] == table.eligible
    assert doc["rows"]["baseline_NRS"]["arms"]["active"]["n"] == table.rows[0].values["active"][0]
    page = render_report(result)
    assert "Baseline characteristics" in page
    assert f"active (n = {table.eligible['active']} of {table.randomised['active']})" in page


def test_a_headache_trial_has_its_attack_rates() -> None:
    from openvns.trials import load_config

    cfg = load_config("examples/trials/premium_episodic_migraine.toml")
    r = run_trial(cfg.design, n_per_arm=12, root_seed=2, parameters=cfg.model_parameters())
    keys = [row.key for row in baseline_table(r).rows]
    assert "migraine_days_baseline" in keys
    assert "fiqr_baseline" not in keys
