"""Candidate evaluation: the rules of the assessment, the API, audit and roles."""
# ruff: noqa: F811 (the team and clock fixtures are imported from implant_helpers)

from __future__ import annotations

from datetime import date
from typing import Any

import hypothesis
import pytest
from fastapi.testclient import TestClient
from hypothesis import strategies as st
from sqlalchemy import select
from sqlalchemy.orm import Session

from openvns.clinic.audit.models import AuditEntry
from openvns.clinic.evaluation.models import FLAGS, Diagnosis, Treatment
from openvns.clinic.evaluation.rules import (
    EvaluationFacts,
    Outcome,
    assess,
    default_rules,
    load_rules,
)
from openvns.clinic.evaluation.service import age_on
from tests.clinic.implant_helpers import API, Team, new_patient, team  # noqa: F401

CONTRAINDICATIONS = {
    "prior_left_or_bilateral_cervical_vagotomy": "prior_cervical_vagotomy",
    "planned_diathermy": "planned_diathermy",
}
PRECAUTIONS = {
    "obstructive_sleep_apnoea": "obstructive_sleep_apnoea",
    "chronic_pulmonary_disease": "chronic_pulmonary_disease",
    "swallowing_difficulty": "swallowing_difficulty",
    "cardiac_arrhythmia_or_conduction_disorder": "cardiac_arrhythmia",
    "heart_rate_altering_treatment": "heart_rate_altering_treatment",
    "anticipated_mri": "anticipated_mri",
    "pregnancy": "pregnancy",
    "other_active_implanted_device": "other_active_implanted_device",
}


def facts(**overrides: Any) -> EvaluationFacts:
    """An eligible candidate: fibromyalgia for 4 years, refractory, NRS 7, no findings."""
    values: dict[str, Any] = {
        "diagnosis": "fibromyalgia",
        "age_years": 45,
        "pain_duration_months": 48,
        "treatments_tried": ("nsaids", "tricyclics", "anticonvulsants"),
        "baseline_nrs": 7.0,
    }
    return EvaluationFacts(**{**values, **overrides})


def test_every_flag_has_a_rule_and_every_rule_a_source() -> None:
    assert set(FLAGS) == CONTRAINDICATIONS.keys() | PRECAUTIONS.keys()
    rules = default_rules()
    assert rules.version
    assert {r.field for r in rules.rules} >= set(FLAGS)
    assert all("§" in r.source and r.message for r in rules.rules)


def test_an_eligible_candidate() -> None:
    result = assess(facts())
    assert result.outcome is Outcome.ELIGIBLE
    assert result.reasons == ()


@pytest.mark.parametrize(("flag", "code"), CONTRAINDICATIONS.items())
def test_each_contraindication_makes_not_eligible(flag: str, code: str) -> None:
    result = assess(facts(**{flag: True}))
    assert result.outcome is Outcome.NOT_ELIGIBLE
    [reason] = result.reasons
    assert (reason.code, reason.kind) == (code, "contraindication")
    assert "§3.2" in reason.source
    assert "S9" in reason.source


@pytest.mark.parametrize(("flag", "code"), PRECAUTIONS.items())
def test_each_precaution_makes_eligible_with_precautions(flag: str, code: str) -> None:
    result = assess(facts(**{flag: True}))
    assert result.outcome is Outcome.ELIGIBLE_WITH_PRECAUTIONS
    assert [(r.code, r.kind) for r in result.reasons] == [(code, "precaution")]


@pytest.mark.parametrize(
    ("overrides", "code"),
    [
        ({"age_years": 17}, "adult"),
        ({"pain_duration_months": 12}, "chronic_pain_duration"),
        ({"treatments_tried": ("nsaids",)}, "refractory"),
        ({"baseline_nrs": 4.5}, "pain_severity"),
        ({"diagnosis": "headache_migraine"}, "headache_frequency"),  # days not recorded
        ({"diagnosis": "headache_migraine", "headache_days_per_month": 10}, "headache_frequency"),
    ],
)
def test_unmet_selection_criteria_make_not_eligible(overrides: dict[str, Any], code: str) -> None:
    result = assess(facts(**overrides))
    assert result.outcome is Outcome.NOT_ELIGIBLE
    assert [(r.code, r.kind) for r in result.reasons] == [(code, "criterion")]
    assert "§3.3" in result.reasons[0].source


def test_criteria_met() -> None:
    chronic_migraine = facts(diagnosis="headache_migraine", headache_days_per_month=20)
    assert assess(chronic_migraine).outcome is Outcome.ELIGIBLE
    assert assess(facts(baseline_nrs=5.0, pain_duration_months=24, age_years=18)).reasons == ()


@pytest.mark.parametrize("diagnosis", ["crps", "other"])
def test_limited_evidence_is_a_precaution(diagnosis: str) -> None:
    result = assess(facts(diagnosis=diagnosis))
    assert result.outcome is Outcome.ELIGIBLE_WITH_PRECAUTIONS
    assert [r.code for r in result.reasons] == ["limited_evidence_diagnosis"]


def test_rules_are_data() -> None:
    text = """
version: test-1
rules:
  - {code: x, kind: contraindication, field: pregnancy, test: "true", message: m,
     source: "§3.2", status: R}
"""
    rules = load_rules(text)
    assert assess(facts(pregnancy=True), rules).outcome is Outcome.NOT_ELIGIBLE
    assert assess(facts(pregnancy=True), rules).rules_version == "test-1"
    with pytest.raises(ValueError, match="unknown field"):
        load_rules(text.replace("pregnancy", "nope"))


_FACTS = st.builds(
    EvaluationFacts,
    diagnosis=st.sampled_from(list(Diagnosis)),
    age_years=st.integers(0, 100),
    pain_duration_months=st.integers(0, 240),
    treatments_tried=st.lists(st.sampled_from([t.value for t in Treatment]), max_size=5).map(tuple),
    baseline_nrs=st.floats(0, 10),
    headache_days_per_month=st.none() | st.integers(0, 31),
    **{flag: st.booleans() for flag in FLAGS},
)


@hypothesis.given(case=_FACTS, added=st.sampled_from(FLAGS))
def test_adding_a_finding_never_improves_the_outcome(case: EvaluationFacts, added: str) -> None:
    before = assess(case)
    after = assess(case.model_copy(update={added: True}))
    assert after.outcome.rank >= before.outcome.rank
    if added in CONTRAINDICATIONS:
        assert after.outcome is Outcome.NOT_ELIGIBLE
    assert {r.code for r in before.reasons} <= {r.code for r in after.reasons}


def test_age_on() -> None:
    assert age_on(date(2000, 6, 15), date(2018, 6, 14)) == 17
    assert age_on(date(2000, 6, 15), date(2018, 6, 15)) == 18


# --- the API -------------------------------------------------------------------------------------


def body(**overrides: Any) -> dict[str, Any]:
    values: dict[str, Any] = {
        "diagnosis": "fibromyalgia",
        "pain_duration_months": 48,
        "treatments_tried": ["nsaids", "tricyclics", "anticonvulsants"],
        "baseline_nrs": 7,
    }
    return {**values, **overrides}


def test_create_read_update_assess(client: TestClient, team: Team, db: Session) -> None:
    nurse = team.headers(team.nurse)
    r = client.post(f"{API}/patients/{team.patient.id}/evaluations", json=body(), headers=nurse)
    assert r.status_code == 201, r.text
    created = r.json()
    assert created["version"] == 1
    assert created["planned_diathermy"] is False
    url = f"{API}/evaluations/{created['id']}"
    assert client.get(url, headers=team.as_clinician).json() == created
    listed = client.get(f"{API}/patients/{team.patient.id}/evaluations", headers=nurse).json()
    assert [e["id"] for e in listed["items"]] == [created["id"]]

    assessed = client.get(f"{url}/assessment", headers=team.as_clinician).json()
    assert assessed["outcome"] == "eligible"
    assert assessed["reasons"] == []
    assert assessed["age_years"] >= 50
    assert assessed["rules_version"] == default_rules().version

    patch = {
        "version": 1,
        "prior_left_or_bilateral_cervical_vagotomy": True,
        "anticipated_mri": True,
    }
    updated = client.patch(url, json=patch, headers=team.as_clinician)
    assert updated.status_code == 200
    assert updated.json()["version"] == 2
    assessed = client.get(f"{url}/assessment", headers=team.as_clinician).json()
    assert assessed["outcome"] == "not_eligible"
    assert [r["code"] for r in assessed["reasons"]] == [
        "prior_cervical_vagotomy",
        "anticipated_mri",
    ]
    assert client.patch(url, json=patch, headers=team.as_clinician).status_code == 409

    entries = db.scalars(
        select(AuditEntry).where(AuditEntry.entity == "evaluation").order_by(AuditEntry.id)
    ).all()
    assert [e.action for e in entries] == ["create", "update"]
    assert entries[1].before is not None
    assert entries[1].after is not None
    assert entries[1].before["anticipated_mri"] is False
    assert entries[1].after["anticipated_mri"] is True


def test_a_minor_is_not_eligible(client: TestClient, team: Team, db: Session) -> None:
    minor = new_patient(
        db, team.nurse, "MINOR-1", born=date.today().replace(year=date.today().year - 15)
    )
    r = client.post(
        f"{API}/patients/{minor.id}/evaluations", json=body(), headers=team.as_clinician
    )
    assessed = client.get(
        f"{API}/evaluations/{r.json()['id']}/assessment", headers=team.as_clinician
    )
    assert assessed.json()["outcome"] == "not_eligible"
    assert [x["code"] for x in assessed.json()["reasons"]] == ["adult"]


@pytest.mark.parametrize(
    ("overrides", "loc"),
    [
        ({"baseline_nrs": 11}, "baseline_nrs"),
        ({"diagnosis": "back pain"}, "diagnosis"),
        ({"treatments_tried": ["nsaids", "nsaids"]}, "treatments_tried"),
        ({"treatments_tried": ["homeopathy"]}, "treatments_tried"),
        ({"pain_duration_months": -1}, "pain_duration_months"),
        ({"headache_days_per_month": 32}, "headache_days_per_month"),
        ({"planned_diathermy": "maybe"}, "planned_diathermy"),
        ({"notes": "a\x00b"}, "notes"),  # PostgreSQL text cannot hold NUL
        ({"unknown": 1}, "unknown"),
    ],
)
def test_bad_bodies_are_rejected(
    client: TestClient, team: Team, overrides: dict[str, Any], loc: str
) -> None:
    r = client.post(
        f"{API}/patients/{team.patient.id}/evaluations",
        json=body(**overrides),
        headers=team.as_clinician,
    )
    assert r.status_code == 422
    assert loc in str(r.json()["detail"][0]["loc"])


def test_evaluations_are_for_the_care_team(client: TestClient, team: Team, as_role: Any) -> None:
    r = client.post(
        f"{API}/patients/{team.patient.id}/evaluations", json=body(), headers=team.as_clinician
    )
    url = f"{API}/evaluations/{r.json()['id']}"
    for headers in (team.headers(team.patient_user), as_role("admin")):
        assert client.get(url, headers=headers).status_code == 403
        assert client.get(f"{url}/assessment", headers=headers).status_code == 403
    assert client.get(f"{API}/evaluations/999999", headers=team.as_clinician).status_code == 404
    missing = client.post(
        f"{API}/patients/999999/evaluations", json=body(), headers=team.as_clinician
    )
    assert missing.status_code == 404
    nulled = client.patch(url, json={"version": 1, "diagnosis": None}, headers=team.as_clinician)
    assert nulled.status_code == 422
