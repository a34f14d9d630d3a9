"""Headache and crossover trials in the report, the figures and the exports: the numbers shown
are the endpoints' own, the per-period values and window rates equal hand computations."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pytest

from openvns.analysis.headache import compare_prevention
from openvns.errors import ValidationError
from openvns.physiology.drive import GROUPS
from openvns.protocol import Protocol
from openvns.trials import Arm, TrialDesign
from openvns.trials.crossover import crossover_periods, crossover_summary
from openvns.trials.design import Crossover
from openvns.trials.export import (
    ATTACK_COLUMNS,
    export_tidy,
    per_patient_columns,
    read_tidy,
    tidy_columns,
)
from openvns.trials.figures import build_figures, recruitment_at_final_settings
from openvns.trials.headache import (
    acute_outcome,
    headache_measures,
    prevention_change,
    prevention_course,
)
from openvns.trials.report import render_report
from openvns.trials.report_headache import (
    crossover_document,
    headache_document,
    headache_summaries,
)
from openvns.trials.runner import TrialResult, run_trial
from tests.trials.test_report import _parse
from tests.trials.test_runner import analytic_recruitment

DOSES = "25.0 mA; 25 Hz; 1000 us; 3 x 120 s doses, twice a day; at attack onset: 3 x 120 s"
SHAM = "25.0 mA; 0.1 Hz; 1000 us; 3 x 120 s doses, twice a day; at attack onset: 3 x 120 s"
PREVENTION = "25.0 mA; 25 Hz; 1000 us; 2 x 120 s doses, 3 times a day"
PREVENTION_SHAM = "25.0 mA; 0.1 Hz; 1000 us; 2 x 120 s doses, 3 times a day"


def _headache_design(active: str, sham: str, base: int, blind: int) -> TrialDesign:
    return TrialDesign(
        generator="gammacore-sapphire-cv",
        arms=(
            Arm(name="nvns", kind="active", protocol=Protocol.parse(active)),
            Arm(
                name="sham", kind="sham", protocol=Protocol.parse(sham), generator="gammacore-sham"
            ),
        ),
        baseline_days=base,
        blinded_days=blind,
        open_label_days=0,
    )


@pytest.fixture(scope="module")
def cluster() -> TrialResult:
    return run_trial(
        _headache_design(DOSES, SHAM, 14, 28), n_per_arm=8, root_seed=3,
        recruitment=analytic_recruitment, condition="chronic_cluster",
    )  # fmt: skip


@pytest.fixture(scope="module")
def cluster_report(cluster: TrialResult) -> str:
    return render_report(cluster, recruitment=analytic_recruitment)


@pytest.fixture(scope="module")
def migraine() -> TrialResult:
    return run_trial(
        _headache_design(PREVENTION, PREVENTION_SHAM, 28, 56), n_per_arm=6, root_seed=4,
        recruitment=analytic_recruitment, condition="episodic_migraine",
    )  # fmt: skip


@pytest.fixture(scope="module")
def crossover() -> TrialResult:
    design = TrialDesign(
        arms=(
            Arm(
                name="active",
                kind="active",
                protocol=Protocol.parse("1.5 mA; 20 Hz; 250 us; 30 s on / 5 min off"),
            ),
            Arm(
                name="sham",
                kind="sham",
                protocol=Protocol.parse("0.0 mA; 20 Hz; 130 us; 30 s on / 5 min off"),
            ),
        ),
        baseline_days=14,
        blinded_days=35,
        open_label_days=0,
        crossover=Crossover(period_days=14, washout_days=7),
    )
    return run_trial(design, n_per_arm=10, root_seed=6, recruitment=analytic_recruitment)


def _numbers(text: str, marker: str) -> list[dict[str, str | None]]:
    """The ``<td>`` attributes inside the table(s) whose opening tag contains ``marker``."""
    out: list[dict[str, str | None]] = []
    start = 0
    while (i := text.find(marker, start)) >= 0:
        j = text.find("</table>", i)
        page = _parse("<table " + text[i:j] + "</table>")
        out += [attrs for _, attrs in page.cells]
        start = j
    return out


def _same(a: str | None, b: float) -> bool:
    x = float(a) if a is not None else math.nan
    return (math.isnan(x) and math.isnan(b)) or x == pytest.approx(b, rel=1e-12, abs=1e-12)


# ----------------------------------------------------------------------------- headache report
def test_prevention_tables_show_the_summary_numbers(
    cluster: TrialResult, cluster_report: str
) -> None:
    text = cluster_report
    page = _parse(text)
    assert page.errors == []
    s = headache_summaries(cluster)
    assert list(s) == ["attacks"]
    cells = _numbers(text, "class='headache-prevention' data-measure='attacks'")
    for arm in cluster.arm_names:
        p = s["attacks"].prevention[arm]
        for field, iv in (("baseline_rate", p.baseline_rate), ("endpoint_rate", p.endpoint_rate),
                          ("change", p.change)):  # fmt: skip
            got = [c for c in cells if c.get("data-field") == field]
            assert any(_same(c["data-estimate"], float(iv.estimate)) for c in got), field
        r50 = p.responders[50.0]
        assert any(
            c.get("data-field") == "responders_50" and c["data-count"] == str(r50.count)
            and c["data-n"] == str(r50.n) for c in cells
        )  # fmt: skip
    rr = s["attacks"].comparisons["sham"].rate_ratio
    assert rr is not None
    ratio = _numbers(text, "class='headache-comparisons' data-measure='attacks'")
    assert any(_same(c.get("data-estimate"), rr.rate_ratio.estimate)
               and c.get("data-unit") == "ratio" for c in ratio)  # fmt: skip
    # the comparison is the analysis layer's, arm for arm
    direct = compare_prevention(prevention_change(cluster, "nvns"),
                                prevention_change(cluster, "sham"))  # fmt: skip
    assert direct.change.estimate == pytest.approx(s["attacks"].comparisons["sham"].change.estimate)


def test_acute_table_counts_the_first_treated_attacks(
    cluster: TrialResult, cluster_report: str
) -> None:
    text = cluster_report
    cells = _numbers(text, "class='headache-acute' data-endpoint='response'")
    firsts = [c for c in cells if c.get("data-field") == "first_attack"]
    assert len(firsts) == 2
    for arm, cell in zip(cluster.arm_names, firsts, strict=True):
        first = acute_outcome(cluster, arm).first_attack()
        assert cell["data-count"] == str(first.count)
        assert cell["data-n"] == str(first.n)
        assert first.n > 0  # every arm treated attacks (acute use in both)


def test_migraine_reports_migraine_and_headache_days(migraine: TrialResult) -> None:
    assert headache_measures("episodic_migraine") == ("migraine_days", "headache_days")
    text = render_report(migraine)
    for m in ("migraine_days", "headache_days"):
        assert f"class='headache-prevention' data-measure='{m}'" in text
    assert "headache-acute-none" in text  # no acute use: said so
    doc = headache_document(migraine)
    assert doc is not None
    assert list(doc["measures"]) == ["migraine_days", "headache_days"]  # type: ignore[call-overload]
    assert doc["acute"] is None
    json.dumps(doc, allow_nan=False)  # JSON-able: NaN is null


def test_headache_document_is_the_summary(cluster: TrialResult) -> None:
    doc = headache_document(cluster)
    assert doc is not None
    json.dumps(doc, allow_nan=False)
    s = cluster.summary().headache
    assert s is not None
    m = doc["measures"]["attacks"]  # type: ignore[index]
    for arm, p in s.prevention.items():
        assert m["arms"][arm]["change"][0] == pytest.approx(float(p.change.estimate))
        assert m["arms"][arm]["responders"]["50"]["count"] == p.responders[50.0].count
    acute = doc["acute"]
    assert acute["endpoint"] == "response"  # type: ignore[index]
    for arm, a in s.acute.items():
        assert acute["arms"][arm]["attacks"] == a.n_attacks  # type: ignore[index]
    assert headache_document(_pain_result()) is None


def _pain_result() -> TrialResult:
    from tests.trials.test_runner import small_design

    return run_trial(small_design(), n_per_arm=2, root_seed=1, recruitment=analytic_recruitment)


def test_prevention_course_equals_a_hand_computed_window_rate(cluster: TrialResult) -> None:
    a = cluster.attacks
    assert a is not None
    course = prevention_course(cluster, "nvns")
    assert course.measure == "attacks"
    np.testing.assert_array_equal(course.start_day, np.arange(0, cluster.n_days, 7))
    sel = (cluster.arm == 0) & cluster.eligible
    for w, (s, e) in enumerate(zip(course.start_day, course.end_day, strict=True)):
        rates = []
        for i in np.flatnonzero(sel):
            obs = a.observed[i, s:e]
            if obs.sum() >= math.ceil(0.5 * (e - s)):
                rates.append(a.attacks[i, s:e][obs].sum() / obs.sum() * 7.0)
        assert float(course.rate.estimate[w]) == pytest.approx(np.mean(rates))
    monthly = prevention_course(cluster, "sham", measure="headache_days")
    assert np.all(np.diff(monthly.start_day) == 28)
    with pytest.raises(ValidationError, match="window_days"):
        prevention_course(cluster, "sham", window_days=0)


def test_headache_figures_come_before_recruitment(cluster: TrialResult) -> None:
    names = tuple(build_figures(cluster, analytic_recruitment))
    assert names[-2:] == ("headache_rate", "recruitment")
    assert "crossover" not in names


# ----------------------------------------------------------------------------- exports
def test_attack_columns_are_the_diary(cluster: TrialResult, tmp_path: Path) -> None:
    a, t = cluster.attacks, cluster.treated
    assert a is not None and t is not None  # noqa: PT018
    cols = tidy_columns(cluster)
    assert tuple(cols)[-len(ATTACK_COLUMNS) :] == ATTACK_COLUMNS
    shape = (cluster.n_patients, cluster.n_days)
    np.testing.assert_array_equal(cols["attacks"].reshape(shape), a.attacks)
    np.testing.assert_array_equal(cols["headache_observed"].reshape(shape), a.observed)
    sev = cols["peak_severity"].reshape(shape)
    np.testing.assert_array_equal(np.isnan(sev), a.peak_severity < 0)
    treated = cols["treated_attacks"].reshape(shape)
    np.testing.assert_array_equal(treated.sum(axis=1), (t.day >= 0).sum(axis=1))
    assert treated[:, : cluster.design.baseline_days].sum() == 0  # nothing treated at baseline
    for suffix in (".csv", ".parquet"):
        back = read_tidy(export_tidy(cluster, tmp_path / f"days{suffix}"))
        for k in ATTACK_COLUMNS:
            np.testing.assert_array_equal(back[k], cols[k], err_msg=k)
            assert back[k].dtype == cols[k].dtype, k
    assert "attacks" not in tidy_columns(_pain_result())


def test_per_patient_headache_columns(cluster: TrialResult) -> None:
    cols = per_patient_columns(cluster)
    for arm in cluster.arm_names:
        sel = cluster.arm == cluster.arm_names.index(arm)
        fc = prevention_change(cluster, arm, eligible_only=False)
        np.testing.assert_array_equal(cols["attacks_change"][sel], fc.change)
        np.testing.assert_array_equal(cols["attacks_baseline"][sel], fc.baseline.rate)


# ----------------------------------------------------------------------------- crossover
def test_period_values_are_the_mean_pain_of_each_periods_window(crossover: TrialResult) -> None:
    p = crossover_periods(crossover)
    d = crossover.design
    assert p.endpoint == "pain"
    assert p.treatments == ("active", "sham")
    base = d.baseline_days
    assert (p.windows[0].start, p.windows[0].stop) == (base, base + 14)
    assert (p.windows[1].start, p.windows[1].stop) == (base + 21, base + 35)
    rows = np.flatnonzero(crossover.eligible)
    for k, i in enumerate(rows):
        for values, w in ((p.period1, p.windows[0]), (p.period2, p.windows[1])):
            obs = crossover.observed[i, w]
            expected = crossover.nrs[i, w][obs].mean() if obs.sum() >= 7 else np.nan
            assert _same(str(values[k]), float(expected))
    np.testing.assert_array_equal(p.sequence_ab, crossover.arm[rows] == 0)
    on_a, on_b = p.treatment_values()
    np.testing.assert_array_equal(on_a[p.sequence_ab], p.period1[p.sequence_ab])
    np.testing.assert_array_equal(on_a[~p.sequence_ab], p.period2[~p.sequence_ab])
    np.testing.assert_array_equal(on_b[~p.sequence_ab], p.period1[~p.sequence_ab])
    short = crossover_periods(crossover, window_days=7)
    assert short.windows[0].start == base + 7


def test_hills_armitage_by_hand(crossover: TrialResult) -> None:
    s = crossover_summary(crossover)
    p = s.periods
    ok = ~np.isnan(p.period1) & ~np.isnan(p.period2)
    d = p.period1 - p.period2
    ab, ba = d[ok & p.sequence_ab], d[ok & ~p.sequence_ab]
    assert s.analysis.treatment.estimate == pytest.approx((ab.mean() - ba.mean()) / 2)
    assert s.analysis.period.estimate == pytest.approx((ab.mean() + ba.mean()) / 2)
    assert (s.analysis.n_ab, s.analysis.n_ba) == (ab.size, ba.size)
    cells = p.cell_means()
    assert float(cells[(p.sequences[0], 1)].estimate) == pytest.approx(
        p.period1[ok & p.sequence_ab].mean()
    )


def test_crossover_in_the_report_and_summary(crossover: TrialResult) -> None:
    text = render_report(crossover)
    page = _parse(text)
    assert page.errors == []
    s = crossover_summary(crossover)
    cells = _numbers(text, "class='crossover'>")
    assert any(_same(c.get("data-estimate"), s.analysis.treatment.estimate) for c in cells)
    assert page.by_id["crossover-counts"].startswith(f"Analysed: {s.analysis.n_ab} ")
    doc = crossover_document(crossover)
    assert doc is not None
    json.dumps(doc, allow_nan=False)
    assert doc["treatment"]["estimate"] == pytest.approx(s.analysis.treatment.estimate)  # type: ignore[index]
    assert crossover_document(_pain_result()) is None
    assert tuple(build_figures(crossover))[-1] == "crossover"


def test_crossover_errors_name_what_is_wrong(crossover: TrialResult) -> None:
    with pytest.raises(ValidationError, match=r"trial\.crossover"):
        crossover_periods(_pain_result())
    with pytest.raises(ValidationError, match="attack diary"):
        crossover_periods(crossover, endpoint="attacks")
    with pytest.raises(ValidationError, match="window_days"):
        crossover_periods(crossover, window_days=15)
    with pytest.raises(ValidationError, match="endpoint"):
        crossover_periods(crossover, endpoint="bogus")  # type: ignore[arg-type]


def test_recruitment_per_arm_follows_the_device_in_use(crossover: TrialResult) -> None:
    calls: list[tuple[str, int]] = []

    def scaled(name: str, k: float):  # type: ignore[no-untyped-def]
        def rec(current_mA: npt.NDArray[np.float64], pw: float) -> npt.NDArray[np.float64]:
            calls.append((name, len(current_mA)))
            return k * analytic_recruitment(current_mA, pw)

        return rec

    fractions, _ = recruitment_at_final_settings(crossover, (scaled("a", 1.0), scaled("b", 0.5)))
    assert fractions.shape == (crossover.n_patients, len(GROUPS))
    last = np.where(crossover.dropout_day >= 0, crossover.dropout_day, crossover.n_days - 1)
    after_period_1 = last >= crossover.design.baseline_days + 14
    device = np.where(after_period_1, 1 - crossover.arm, crossover.arm)
    pw = np.where(device == 0, 250.0, 130.0)
    final = crossover.current_mA[np.arange(crossover.n_patients), last] / crossover.coupling
    for i in range(crossover.n_patients):
        k = 1.0 if device[i] == 0 else 0.5
        expected = k * analytic_recruitment(final[i : i + 1], float(pw[i]))[0]
        np.testing.assert_array_equal(fractions[i], expected)
    assert sum(n for _, n in calls) == crossover.n_patients
    with pytest.raises(ValidationError, match="one per arm"):
        recruitment_at_final_settings(crossover, (analytic_recruitment,))
