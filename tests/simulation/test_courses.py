"""Courses and controllers for the non-invasive protocols, and which devices can be simulated."""

from __future__ import annotations

import numpy as np
import pytest

from openvns.errors import UnknownModelError, ValidationError
from openvns.protocol import Protocol
from openvns.simulation.courses import (
    MODELLED_SITES,
    Controller,
    Course,
    check_implanted,
    check_modelled,
)


def _no_recruitment(current_mA: np.ndarray, pulse_width_us: float) -> np.ndarray:
    return np.zeros((np.size(current_mA), 1))


def _course(text: str, n: int = 4, **kw: object) -> Course:
    mask = np.ones(n, dtype=bool)
    return Course(Protocol.parse(text), mask, 0, 10, _no_recruitment, **kw)  # type: ignore[arg-type]


# ---------------------------------------------------------------------- modelled devices
@pytest.mark.parametrize(
    ("generator", "lead"),
    [
        ("1000", None),
        ("106", "3mm"),
        ("gammacore-sapphire-cv", None),
        ("gammacore-sham", "gammacore-contacts"),
        ("tavns-auricular", "ear-cymba-conchae"),
        ("tavns-auricular", "ear-clip"),
        ("tavns-auricular", "ear-lobe"),
        ("nemos", None),
        ("parasym", "ear-tragus"),
        ("ravans", "ear-lobe"),
    ],
)
def test_devices_whose_lead_has_a_recruitment_model_are_accepted(
    generator: str, lead: str | None
) -> None:
    assert check_modelled(generator, lead).id in (generator, "1000", "106")


def test_a_device_without_a_recruitment_model_is_refused_naming_the_field() -> None:
    with pytest.raises(ValidationError) as err:
        check_modelled("ib-stim")
    assert (err.value.field, err.value.value) == ("generator", "ib-stim")
    assert "recruitment model" in err.value.allowed
    assert "percutaneous" in err.value.allowed
    with pytest.raises(ValidationError) as err:
        check_modelled("ib-stim", "ear-percutaneous")
    assert (err.value.field, err.value.value) == ("lead", "ear-percutaneous")
    with pytest.raises(UnknownModelError):
        check_modelled("9999")
    with pytest.raises(UnknownModelError):
        check_modelled("1000", "ear-helix")


def test_modelled_sites_are_the_cuff_and_the_four_skin_sites() -> None:
    expected = {"cervical_vagus", "neck", "cymba_conchae", "tragus", "earlobe"}
    assert expected == MODELLED_SITES
    assert check_implanted("gammacore-sapphire-cv").id == "gammacore-sapphire-cv"  # former name


# ---------------------------------------------------------------------- exposure per course
def test_controller_exposure_of_each_schedule() -> None:
    doses = Controller(_course("25.0 mA; 25 Hz; 1000 us; 2 x 120 s doses, 3 times a day"))
    assert (doses.duty, doses.hours_per_day) == (1.0, pytest.approx(0.2))
    assert doses.acute_stimulations_per_attack == 0
    acute = Controller(_course("25.0 mA; 25 Hz; 1000 us; at attack onset: 3 x 120 s"))
    assert (acute.duty, acute.hours_per_day) == (0.0, 0.0)
    assert (acute.acute_stimulations_per_attack, acute.acute_dose_s) == (3, 120.0)
    gated = Controller(_course("2.0 mA; 25 Hz; 450 us; exhalation-gated; 0.5 h per day"))
    assert (gated.duty, gated.hours_per_day) == (pytest.approx(0.25), 0.5)
    cycled = Controller(_course("1.0 mA; 20 Hz; 250 us; 30 s on / 5 min off", ramp_s=2.0))
    assert (cycled.duty, cycled.hours_per_day) == (pytest.approx(34 / 330), 24.0)


# ---------------------------------------------------------------------- relative currents
RELATIVE = "1.5 x sensory threshold, max 10.0 mA; 25 Hz; 250 us; 30 s on / 0.5 min off"


def test_relative_course_needs_each_patients_threshold() -> None:
    # without thresholds the course is built (the engine gives them from the electrode), but
    # its titration cannot run
    with pytest.raises(ValidationError, match="threshold"):
        Controller(_course(RELATIVE))
    with pytest.raises(ValidationError, match="threshold_mA"):
        _course(RELATIVE, threshold_mA=np.ones(3))
    with pytest.raises(ValidationError, match="threshold_mA"):
        _course(RELATIVE, threshold_mA=np.array([1.0, -1.0, 1.0, 1.0]))


def test_controller_gives_each_patient_a_multiple_of_their_threshold() -> None:
    thr = np.array([0.4, 1.0, 3.0, 8.0, 2.0])
    mask = np.array([True, True, True, True, False])
    course = Course(Protocol.parse(RELATIVE), mask, 0, 5, _no_recruitment, threshold_mA=thr)
    c = Controller(course)
    np.testing.assert_allclose(c.current(0), [0.6, 1.5, 4.5, 10.0])
    np.testing.assert_allclose(c.current(4), c.current(0))
    protocol = Protocol.parse(RELATIVE)
    course = Course(protocol, mask, 0, 5, _no_recruitment, threshold_mA=thr, current_step_mA=0.25)
    stepped = Controller(course)
    np.testing.assert_allclose(stepped.current(0), [0.5, 1.5, 4.5, 10.0])


def test_controller_of_the_sensation_matched_sham() -> None:
    thr = np.array([0.4, 1.2])
    sham = "sensation-matched sham, 20 s ramp; 25 Hz; 250 us; 30 s on / 0.5 min off"
    c = Controller(_course(sham, n=2, threshold_mA=thr))
    assert not c.current(0).any()
    assert c.sham_ramp_peak_mA is not None
    np.testing.assert_array_equal(c.sham_ramp_peak_mA, thr)
    assert c.sham_ramp_s == 20.0
    plain = Controller(_course("0.0 mA; 25 Hz; 250 us; continuous", n=2))
    assert plain.sham_ramp_peak_mA is None
