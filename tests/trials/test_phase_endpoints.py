"""Pain endpoints at the end of each phase (blinded, open label, 12 months)."""

from __future__ import annotations

import numpy as np
import pytest

from openvns.trials import TrialDesign, run_trial
from openvns.trials.phase_endpoints import phase_endpoints, phase_endpoints_document
from openvns.trials.runner import TrialResult


@pytest.fixture(scope="module")
def result() -> TrialResult:
    return run_trial(TrialDesign.default(), n_per_arm=80, root_seed=4)


def test_the_blinded_endpoint_is_the_summarys(result: TrialResult) -> None:
    first = phase_endpoints(result)[0]
    assert first.name == "end_of_blinded"
    summary = result.summary()
    for arm, a in first.arms.items():
        b = summary.arms[arm]
        assert a.n == b.n
        np.testing.assert_array_equal(a.change_NRS.estimate, b.change_NRS.estimate)
        assert int(a.responders_30.responder.sum()) == int(b.responders_30.responder.sum())


def test_default_trial_reports_the_extension_at_12_months_once(result: TrialResult) -> None:
    d = result.design
    ends = phase_endpoints(result)
    assert [e.name for e in ends] == ["end_of_blinded", "end_of_open_label"]
    assert "12 months" in ends[1].label
    assert ends[1].end_day == d.baseline_days + 365 == result.n_days
    assert ends[1].end_day - ends[1].start_day == 28
    # the sham arm crossed over to active: it improves from the blinded to the open-label end
    sham_blinded = float(ends[0].arms["sham"].change_NRS.estimate)
    sham_open = float(ends[1].arms["sham"].change_NRS.estimate)
    assert sham_open < sham_blinded


def test_a_long_extension_adds_the_12_month_endpoint() -> None:
    design = TrialDesign.default().model_copy(update={"open_label_days": 500})
    r = run_trial(design, n_per_arm=10, root_seed=1)
    ends = phase_endpoints(r)
    assert [e.name for e in ends] == ["end_of_blinded", "month_12", "end_of_open_label"]
    assert ends[1].end_day == design.baseline_days + 365
    doc = phase_endpoints_document(r)
    assert doc["month_12"]["window_days"] == [ends[1].start_day, ends[1].end_day]
    assert set(doc["month_12"]["arms"]) == set(r.arm_names)


def test_report_and_summary_show_the_later_endpoints(result: TrialResult) -> None:
    from openvns.cli.trial import summary_document
    from openvns.trials.report import render_report

    page = render_report(result)
    assert "Pain at the end of each phase" in page
    assert "end of the open-label extension (12 months)" in page
    doc = summary_document(result)["phase_endpoints"]
    assert list(doc) == ["end_of_blinded", "end_of_open_label"]
    assert set(doc["end_of_open_label"]["arms"]) == {"active", "sham"}
