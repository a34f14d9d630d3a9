"""Population-level validation targets of reference §5.8 (run alone with ``pytest -m validation``).

The simulations are those of :func:`openvns.trials.validation.run_validation`, which also prints
the table of ``docs/validation.md`` (``tools/validation_table.py``). They run once per session.
"""

from __future__ import annotations

import pytest

from openvns.trials.validation import TargetResult, clopper_pearson, run_validation

pytestmark = pytest.mark.validation


@pytest.fixture(scope="module")
def results() -> dict[str, TargetResult]:
    return {t.key: t for t in run_validation()}


def _inside(t: TargetResult) -> None:
    lo, hi = t.interval
    assert lo <= t.simulated <= hi, (
        f"{t.target}: simulated {t.simulated:.2f} {t.unit} outside {lo:.2f}–{hi:.2f} ({t.source})"
    )
    assert t.passed


def test_clopper_pearson_of_lange() -> None:
    lo, hi = clopper_pearson(5, 12)
    assert lo == pytest.approx(0.1517, abs=1e-4)
    assert hi == pytest.approx(0.7233, abs=1e-4)
    assert clopper_pearson(0, 10)[0] == 0.0
    assert clopper_pearson(10, 10)[1] == 1.0


@pytest.mark.parametrize("key", ["placebo_30", "placebo_50"])
def test_fm_placebo_arm_responders_hauser_2011(results: dict[str, TargetResult], key: str) -> None:
    t = results[key]
    _inside(t)
    assert t.n > 20_000  # tight simulated interval: half-width well below the reference's


@pytest.mark.parametrize("key", ["voice_3mo", "voice_12mo", "voice_5yr"])
def test_voice_alteration_time_course_ben_menachem_2015(
    results: dict[str, TargetResult], key: str
) -> None:
    _inside(results[key])


def test_voice_alteration_falls_over_time(results: dict[str, TargetResult]) -> None:
    v = [results[k].simulated for k in ("voice_3mo", "voice_12mo", "voice_5yr")]
    assert v[0] > v[1] > v[2]


@pytest.mark.parametrize("key", ["hr_clinical", "hr10"])
def test_heart_rate(results: dict[str, TargetResult], key: str) -> None:
    _inside(results[key])


def test_open_label_fm_like_lange_2011(results: dict[str, TargetResult]) -> None:
    _inside(results["lange_3mo"])
    later = results["lange_11mo"]  # 11-month minus 3-month responder rate, points
    assert later.simulated > 0.0
    assert later.passed


@pytest.mark.parametrize("key", ["dropout_sham_12wk", "dropout_ae_11mo", "dropout_11mo"])
def test_discontinuation(results: dict[str, TargetResult], key: str) -> None:
    _inside(results[key])


def test_active_vs_sham_is_modest(results: dict[str, TargetResult]) -> None:
    t = results["active_vs_sham"]
    _inside(t)
    assert t.simulated_ci[1] < 12.0  # below the drug–placebo separation of FM drug trials
