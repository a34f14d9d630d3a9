"""Adverse events and discontinuations by arm and phase: counts of patients, checked patient by
patient against the result's arrays, and their consistency."""

from __future__ import annotations

import numpy as np
import pytest

from openvns.errors import ValidationError
from openvns.trials import TrialDesign, run_trial
from openvns.trials.adverse_events import adverse_events, phase_days, safety_document
from openvns.trials.runner import TrialResult


@pytest.fixture(scope="module")
def result() -> TrialResult:
    return run_trial(TrialDesign.default(), n_per_arm=120, root_seed=3)


@pytest.mark.parametrize("phase", ["blinded", "open_label"])
def test_counts_match_a_patient_by_patient_count(result: TrialResult, phase: str) -> None:
    days = phase_days(result, phase)
    tables = adverse_events(result, phase)
    assert list(tables) == list(result.arm_names)
    for i, name in enumerate(result.arm_names):
        t = tables[name]
        n = events = severe = leaving = for_ae = 0
        effect0 = 0
        for p in range(result.n_patients):
            if result.arm[p] != i or not result.eligible[p]:
                continue
            drop = int(result.dropout_day[p])
            if 0 <= drop < days.start:
                continue  # gone before the phase
            n += 1
            rep = result.ae_reported[p, days, :]
            if rep.any():
                events += 1
                severe += int(result.ae_severity[p, days, :].max() == 3)
            effect0 += int(rep[:, 0].any())
            if days.start <= drop < days.stop:
                leaving += 1
                assert result.dropout_reason is not None
                for_ae += int(result.dropout_reason[p] == 1)
        assert (t.n, t.any_event, t.worst_severity["severe"]) == (n, events, severe)
        assert t.by_effect[result.side_effects[0]] == effect0
        assert (t.discontinued_total, t.leading_to_discontinuation) == (leaving, for_ae)


def test_tables_are_consistent(result: TrialResult) -> None:
    for phase in ("blinded", "open_label"):
        for t in adverse_events(result, phase).values():
            assert sum(t.worst_severity.values()) == t.any_event
            assert t.discontinued is not None
            assert sum(t.discontinued.values()) == t.discontinued_total
            assert max(t.by_effect.values()) <= t.any_event <= t.n
            assert 0.0 <= t.share(t.any_event) <= 1.0


def test_the_stimulated_arm_reports_more_in_the_blinded_phase(result: TrialResult) -> None:
    tables = adverse_events(result, "blinded")
    active, sham = tables["active"], tables["sham"]
    assert active.share(active.any_event) > sham.share(sham.any_event)
    assert sham.any_event > 0  # the sham arm has its background and nocebo reports


def test_document_and_bad_phase(result: TrialResult) -> None:
    doc = safety_document(result)
    assert set(doc) == {"blinded", "open_label"}
    assert doc["blinded"]["active"]["n"] == adverse_events(result)["active"].n
    with pytest.raises(ValidationError, match="phase"):
        adverse_events(result, "baseline")
    no_reasons = TrialResult(**{**result.__dict__, "dropout_reason": None})
    t = adverse_events(no_reasons)["active"]
    assert t.discontinued is None
    assert t.leading_to_discontinuation is None
    assert np.isnan(t.share(None))


def test_the_report_and_the_cli_show_the_tables(result: TrialResult, tmp_path: object) -> None:
    from openvns.cli.trial import summary_document
    from openvns.trials.report import render_report

    page = render_report(result)
    assert "Adverse events and discontinuations" in page
    blinded = adverse_events(result, "blinded")
    active = blinded["active"]
    assert f"active (n = {active.n})" in page
    assert f"<td>{active.any_event} (" in page
    assert "leading to discontinuation" in page
    doc = summary_document(result)
    assert doc["adverse_events"]["blinded"]["sham"]["n"] == blinded["sham"].n
    assert doc["adverse_events"]["blinded"]["active"]["discontinued"] == active.discontinued
