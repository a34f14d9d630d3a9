"""Messages on pages name fields by their label, drug classes readably and rules' sources with
links (issue 12: no ``baseline nrs: Input should be…``, ``nsaids`` or ``§3.2 [S9]``)."""

from __future__ import annotations

import re

from fastapi.exceptions import RequestValidationError
from fastapi.testclient import TestClient

from openvns.clinic.auth.models import Role
from openvns.clinic.evaluation.rules import citation, default_rules
from openvns.clinic.ui.errors import validation_detail
from openvns.clinic.ui.forms import label_of
from tests.clinic.conftest import UserFactory
from tests.clinic.test_pages import HTML, HTMX, PatientFactory, _login, make_patient

__all__ = ["make_patient"]  # the fixture, re-used


def _summary(text: str) -> str:
    match = re.search(
        r'<div class="alert error" role="alert" id="form-errors">(.*?)</div>', text, re.S
    )
    assert match, text
    return match.group(1)


def test_a_form_error_names_the_field_by_its_label(
    client: TestClient, make_user: UserFactory, make_patient: PatientFactory
) -> None:
    patient = make_patient("Lena Label")
    csrf = _login(client, make_user(Role.NURSE))
    url = f"/patients/{patient.id}/evaluations/new"
    r = client.post(url, data={"csrf_token": csrf, "baseline_nrs": "12"}, headers=HTMX)
    assert r.status_code == 422
    summary = _summary(r.text)
    assert "Baseline pain" in summary
    assert "baseline nrs" not in r.text.lower().replace("baseline pain (nrs", "")
    assert "Diagnosis" in summary
    assert "12" in r.text  # the value, and what is allowed
    assert "10" in re.sub(r"<[^>]+>", "", r.text.split('id="e-baseline_nrs"')[1][:300])


def test_a_validation_error_page_uses_labels() -> None:
    exc = RequestValidationError(
        [{"type": "less_than_equal", "loc": ("body", "baseline_nrs"), "msg":
          "Input should be less than or equal to 10", "input": 12, "ctx": {"le": 10}}]
    )  # fmt: skip
    detail = validation_detail(exc)
    assert detail.startswith("Baseline pain")
    assert "baseline_nrs" not in detail
    assert "body" not in detail
    assert label_of("pain_duration_months") == "Pain duration (months)"
    assert label_of("some_unknown_field") == "Some unknown field"


def test_the_assessment_shows_drug_classes_and_sources_readably(
    client: TestClient, make_user: UserFactory, make_patient: PatientFactory
) -> None:
    patient = make_patient("Rita Readable")
    csrf = _login(client, make_user(Role.CLINICIAN))
    data = {
        "csrf_token": csrf,
        "diagnosis": "fibromyalgia",
        "pain_duration_months": "48",
        "baseline_nrs": "7",
        "treatments_tried": ["nsaids", "snris", "cgrp_antibodies"],
        "planned_diathermy": "true",
    }
    r = client.post(f"/patients/{patient.id}/evaluations/new", data=data, headers=HTML)
    assert r.status_code == 200
    text = re.sub(r"\s+", " ", r.text)
    for readable in ("NSAIDs", "SNRIs", "CGRP antibodies"):
        assert readable in text
    assert "nsaids" not in text
    assert "§3.2 [S9]" not in text
    assert "LivaNova important safety information" in text
    assert 'href="https://www.livanova.cyberonics.com/node/82"' in text
    assert "Contraindications, warnings, precautions" in text


def test_every_rule_source_is_readable() -> None:
    for rule in default_rules().rules:
        cited = citation(rule.source)
        assert cited.sections or cited.references, rule.code
        for ref in cited.references:
            assert not re.fullmatch(r"S\d+", ref.title), (rule.code, ref)
        for section in cited.sections:
            assert section.title, (rule.code, section)


def test_every_form_summary_names_fields_as_the_form_does(
    client: TestClient, make_user: UserFactory
) -> None:
    """The shared error summary (macros.html) names a field by the label its form shows (read
    from the templates' field macros), not by its name in words: the admin's user form."""
    csrf = _login(client, make_user(Role.ADMIN))
    data = {"full_name": "", "email": "not-an-email", "role": "nurse", "password": "x"}
    r = client.post("/admin/users", data={**data, "csrf_token": csrf}, headers=HTMX)
    assert r.status_code == 422
    summary = _summary(r.text)
    assert "E-mail" in summary
    assert "Full name" in summary
    assert ">email<" not in summary
    assert ">full name<" not in summary
