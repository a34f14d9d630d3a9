"""Inputs at and beyond their limits: a 422 naming the field (or a 404), never a 500 or a
silent coercion (issue 12).

* JSON ``NaN`` / ``Infinity`` / ``-Infinity`` (Python's reader accepts them) in any field of any
  request body: the 422 that echoes the value was itself a 500 (its JSON encoder writes standard
  JSON only); number fields refuse them as not finite.
* Booleans in number fields (``"output_current_mA": true`` was programmed as 1 mA).
* Record ids beyond the database's range in the pages' paths and the page number of the patient
  list (the driver cannot send an integer beyond 64 bits: a 500).
* Titration plans that overflow the calendar or expand to millions of steps.
* ``%`` and ``_`` in a patient search (they matched every patient).

The body cases are found in the OpenAPI schema, so a new operation or field is covered when it
appears.
"""
# ruff: noqa: F811 (the team and clock fixtures are imported from implant_helpers)

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from openvns.clinic.app import API_PREFIX
from openvns.clinic.auth.models import Role
from openvns.clinic.json_safety import has_non_finite, json_safe, spelling
from openvns.clinic.programming import limits
from openvns.clinic.programming.limits import (
    MAX_PLAN_STEPS,
    MAX_START_AHEAD_DAYS,
    MAX_STEP_INTERVAL_DAYS,
    plan_step_count,
)
from openvns.clinic.schemas import BOOLEAN_ERROR, MAX_ID, escape_like
from openvns.protocol.text import Protocol
from tests.clinic.conftest import HeadersFactory
from tests.clinic.implant_helpers import (  # noqa: F401
    API,
    T0,
    Team,
    clock,
    new_patient,
    register,
    start,
    stored,
    team,
)
from tests.clinic.test_pages import HTML, _login
from tests.clinic.test_patients import create
from tests.clinic.test_text_inputs import ROLES, SCHEMA, _names, _resolve, _variants

Json = dict[str, Any]

#: The non-standard JSON literals of the non-finite floats, as Python's reader reads them.
NON_FINITE = {"NaN": math.nan, "Infinity": math.inf, "-Infinity": -math.inf}


# --- the request bodies of the API, read from its schema -----------------------------------------
Leaf = tuple[tuple[str, ...], Json, Json]


def _leaves(schema: Json, value: Any) -> Iterator[Leaf]:
    """``(path, body, schema)`` for each property that is not an object: a body holding only
    the constants of its object (a union's discriminator) and ``value`` at the property."""
    schema = _resolve(schema)
    for key in ("anyOf", "oneOf", "allOf"):
        for alternative in schema.get(key, []):
            yield from _leaves(alternative, value)
    properties: dict[str, Any] = schema.get("properties", {})
    constants = {
        name: _resolve(sub)["const"] for name, sub in properties.items() if "const" in _resolve(sub)
    }
    for name, sub in properties.items():
        if name in constants:
            continue
        variants = _variants(sub)
        objects = [v for v in variants if v.get("type") == "object" or "properties" in v]
        for variant in objects:
            for path, inner, leaf in _leaves(variant, value):
                yield (name, *path), {**constants, name: inner}, leaf
        if len(objects) < len(variants):
            leaf = next(v for v in variants if v not in objects)
            yield (name,), {**constants, name: value}, leaf


def _is_number(schema: Json) -> bool:
    return schema.get("type") in ("number", "integer")


def _url(path: str) -> str:
    url = re.sub(r"\{[^}]+\}", "1", path)
    return re.sub(r"/diary/([a-z-]+)/1$", r"/diary/\1/2026-01-01", url)


def _operations() -> Iterator[tuple[str, str, Json]]:
    """``(method, path, body schema)`` of every operation with a JSON body."""
    for path, item in SCHEMA["paths"].items():
        for method, operation in item.items():
            body = operation.get("requestBody", {}).get("content", {}).get("application/json")
            if body:
                yield method, path, body["schema"]


def _cases(kind: str) -> Iterator[Any]:
    for method, path, schema in _operations():
        for field, body, leaf in _leaves(schema, "__value__"):
            if kind == "number" and not _is_number(leaf):
                continue
            case_id = f"{method} {path} {'.'.join(field)}"
            yield pytest.param(method, _url(path), field, body, id=case_id)


#: Every property of every request body (non-finite numbers are refused in any of them).
ANY_FIELD = list(_cases("any"))
#: Every number property of every request body (booleans are refused there).
NUMBER_FIELDS = list(_cases("number"))
OPERATIONS = [pytest.param(m, _url(p), id=f"{m} {p}") for m, p, _ in _operations()]


def test_the_cases_cover_every_body_and_the_known_number_fields() -> None:
    """A guard against an empty or partial walk of the schema."""
    assert len(OPERATIONS) >= 18
    ids = {case.id for case in NUMBER_FIELDS}
    for expected in [
        "post /api/v1/patients pain_duration_months",
        "post /api/v1/patients user_id",
        "patch /api/v1/patients/{patient_id} version",
        "post /api/v1/patients/{patient_id}/diary/pain pain_nrs",
        "post /api/v1/patients/{patient_id}/diary/pgic score",
        "post /api/v1/patients/{patient_id}/diary/bpi worst",
        "post /api/v1/patients/{patient_id}/evaluations baseline_nrs",
        "post /api/v1/patients/{patient_id}/evaluations headache_days_per_month",
        "put /api/v1/patients/{patient_id}/outcomes/baseline length_days",
        "post /api/v1/implants/{implant_id}/explant version",
        "post /api/v1/programming-sessions/{session_id}/proposals settings.output_current_mA",
        "post /api/v1/programming-sessions/{session_id}/proposals settings.magnet.on_time_s",
        "post /api/v1/programming-sessions/{session_id}/proposals "
        "settings.autostim.heartbeat_sensitivity",
        "post /api/v1/programming-sessions/{session_id}/program implant_version",
        "post /api/v1/programming-sessions/{session_id}/titration-plans implant_version",
    ]:
        assert expected in ids
    assert "post /api/v1/auth/token email" in {case.id for case in ANY_FIELD}


def _send(client: TestClient, as_role: HeadersFactory, method: str, url: str, content: str) -> Any:
    """The request as the first role that may make it (its role check comes first)."""
    for role in ROLES:
        headers = {**as_role(role), "Content-Type": "application/json"}
        r = client.request(method, url, content=content, headers=headers)
        if r.status_code not in (401, 403):
            break
    return r


def _at(response: Any, field: tuple[str, ...]) -> list[Json]:
    assert response.status_code == 422, response.text
    return [item for item in response.json()["detail"] if _names(item["loc"], "body", field)]


# --- NaN and Infinity ----------------------------------------------------------------------------
@pytest.mark.parametrize(("method", "url", "field", "body"), ANY_FIELD)
def test_nan_in_any_field_is_a_422_at_the_field(
    client: TestClient,
    as_role: HeadersFactory,
    method: str,
    url: str,
    field: tuple[str, ...],
    body: Json,
) -> None:
    content = json.dumps(body).replace('"__value__"', "NaN")
    r = _send(client, as_role, method, url, content)
    items = _at(r, field)
    assert items, f"no error at body {'.'.join(field)}: {r.text}"
    # the value, in the JSON spelling it was sent in; a password's never (app._hide_secrets)
    assert items[0]["input"] == ("(hidden)" if "password" in field[-1] else "NaN")


@pytest.mark.parametrize(("method", "url"), OPERATIONS)
@pytest.mark.parametrize("literal", list(NON_FINITE))
def test_non_finite_numbers_are_a_422_on_every_operation_signed_in_or_not(
    client: TestClient, as_role: HeadersFactory, method: str, url: str, literal: str
) -> None:
    content = '{"__first__": ' + literal + "}"  # an unknown or a missing field, and the value
    r = client.request(method, url, content=content, headers={"Content-Type": "application/json"})
    assert r.status_code in (401, 422), r.text  # before sign-in: refused, never a 500
    assert literal in r.text or r.status_code == 401
    r = _send(client, as_role, method, url, content)
    assert r.status_code == 422, r.text
    json.loads(r.text, parse_constant=_refuse_constant)  # standard JSON: no NaN literal


def _refuse_constant(name: str) -> None:
    raise AssertionError(f"the answer holds the non-standard JSON literal {name}")


@pytest.mark.parametrize(("method", "url", "field", "body"), NUMBER_FIELDS)
@pytest.mark.parametrize("literal", ["Infinity", "-Infinity"])
def test_number_fields_refuse_infinity(
    client: TestClient,
    as_role: HeadersFactory,
    method: str,
    url: str,
    field: tuple[str, ...],
    body: Json,
    literal: str,
) -> None:
    content = json.dumps(body).replace('"__value__"', literal)
    items = _at(_send(client, as_role, method, url, content), field)
    assert items, f"no error at body {'.'.join(field)}"
    assert items[0]["input"] == literal


def test_a_valid_looking_setting_refuses_nan(client: TestClient, team: Team) -> None:
    implant = register(client, team.as_clinician, team.patient.id)
    sid = start(client, team.as_clinician, implant["id"])["session"]["id"]
    settings = '{"output_current_mA": NaN, "frequency_Hz": 20, "pulse_width_us": 250, '
    settings += '"on_time_s": 30, "off_time_min": 5}'
    r = client.post(
        f"{API}/programming-sessions/{sid}/proposals",
        content='{"settings": ' + settings + "}",
        headers={**team.as_clinician, "Content-Type": "application/json"},
    )
    (item,) = _at(r, ("settings", "output_current_mA"))
    assert item["type"] == "finite_number"
    assert item["input"] == "NaN"


def test_json_safe_spells_non_finite_floats() -> None:
    body = {"detail": [{"input": math.nan, "n": [1, 2.5, math.inf, (-math.inf,)], "b": True}]}
    assert has_non_finite(body)
    safe = json_safe(body)
    assert safe == {
        "detail": [{"input": "NaN", "n": [1, 2.5, "Infinity", ["-Infinity"]], "b": True}]
    }
    assert not has_non_finite(safe)
    json.dumps(safe, allow_nan=False)
    assert [spelling(v) for v in NON_FINITE.values()] == list(NON_FINITE)


# --- booleans are not numbers --------------------------------------------------------------------
@pytest.mark.parametrize(("method", "url", "field", "body"), NUMBER_FIELDS)
def test_number_fields_refuse_booleans(
    client: TestClient,
    as_role: HeadersFactory,
    method: str,
    url: str,
    field: tuple[str, ...],
    body: Json,
) -> None:
    content = json.dumps(body).replace('"__value__"', "true")
    items = _at(_send(client, as_role, method, url, content), field)
    assert items, f"true accepted as a number at body {'.'.join(field)}"
    assert items[0]["type"] == BOOLEAN_ERROR
    assert items[0]["input"] is True
    assert field[-1] in items[0]["msg"]
    assert "allowed: a number" in items[0]["msg"]


def test_true_is_not_programmed_as_1_ma(client: TestClient, team: Team, db: Session) -> None:
    implant = register(client, team.as_clinician, team.patient.id)
    sid = start(client, team.as_clinician, implant["id"])["session"]["id"]
    settings = {"output_current_mA": True, "frequency_Hz": 20, "pulse_width_us": 250,
                "on_time_s": 30, "off_time_min": 5}  # fmt: skip
    r = client.post(
        f"{API}/programming-sessions/{sid}/proposals",
        json={"settings": settings},
        headers=team.as_clinician,
    )
    (item,) = _at(r, ("settings", "output_current_mA"))
    assert item["type"] == BOOLEAN_ERROR
    # a number written as text (what the pages' forms post) is still read
    settings["output_current_mA"] = "1.5"
    r = client.post(
        f"{API}/programming-sessions/{sid}/proposals",
        json={"settings": settings},
        headers=team.as_clinician,
    )
    assert r.status_code == 201, r.text
    assert r.json()["settings"]["output_current_mA"] == 1.5


# --- ids beyond the database's range -------------------------------------------------------------
BEYOND = [2**63, 2**64, MAX_ID + 1]

#: Pages with a record id in their path (GET).
ID_PAGES = [
    "/patients/{}",
    "/patients/{}/edit",
    "/patients/{}/diary",
    "/patients/{}/evaluations",
    "/patients/{}/evaluations/new",
    "/patients/{}/implants",
    "/patients/{}/outcomes",
    "/evaluations/{}",
    "/implants/{}",
    "/programming/{}",
]


@pytest.mark.parametrize("page", ID_PAGES)
def test_pages_answer_404_for_ids_beyond_the_database(
    client: TestClient, team: Team, page: str
) -> None:
    _login(client, team.clinician)
    for value in [*BEYOND, MAX_ID]:
        r = client.get(page.format(value), headers=HTML)
        assert r.status_code in (404, 422), f"{page.format(value)}: {r.status_code}"


def test_page_posts_answer_404_for_ids_beyond_the_database(client: TestClient, team: Team) -> None:
    csrf = _login(client, team.clinician)
    for url in ["/implants/{}/sessions", "/programming/{}/close", "/programming/{}/diagnostics"]:
        r = client.post(url.format(2**63), data={"csrf_token": csrf}, headers=HTML)
        assert r.status_code in (404, 422), f"{url}: {r.status_code}"


def test_patient_list_page_number_beyond_the_database(client: TestClient, team: Team) -> None:
    _login(client, team.clinician)
    for page in (2**63, 2**62, MAX_ID):
        r = client.get(f"/patients?page={page}", headers=HTML)
        assert r.status_code in (200, 422), f"page {page}: {r.status_code}"


def _id_paths() -> Iterator[Any]:
    for path, item in SCHEMA["paths"].items():
        for method, operation in item.items():
            for parameter in operation.get("parameters", []):
                if parameter["in"] in ("path", "query") and _is_number(parameter["schema"]):
                    yield pytest.param(
                        method, path, parameter, id=f"{method} {path} {parameter['name']}"
                    )


@pytest.mark.parametrize(("method", "path", "parameter"), list(_id_paths()))
def test_api_integer_parameters_are_bounded(
    client: TestClient, as_role: HeadersFactory, method: str, path: str, parameter: Json
) -> None:
    schema = parameter["schema"]
    assert schema.get("maximum", math.inf) <= 2**63 - 1, "unbounded: the driver fails beyond"
    assert "minimum" in schema
    name = parameter["name"]
    for value in (2**63, schema["maximum"] + 1):
        url = _url(path)
        params = None
        if parameter["in"] == "path":
            url = _url(path.replace("{" + name + "}", str(value)))
        else:
            params = {name: str(value)}
        for role in ROLES:
            r = client.request(method, url, params=params, headers=as_role(role))
            if r.status_code not in (401, 403):
                break
        assert r.status_code == 422, r.text
        assert any(item["loc"][-1] == name for item in r.json()["detail"])


def test_api_id_in_range_that_does_not_exist_is_404(
    client: TestClient, as_role: HeadersFactory
) -> None:
    headers = as_role(Role.CLINICIAN)
    for url in ["/patients/{}", "/evaluations/{}", "/implants/{}"]:
        r = client.get(API_PREFIX + url.format(MAX_ID), headers=headers)
        assert r.status_code == 404, r.text


# --- titration plans -----------------------------------------------------------------------------
STIMULATION = "20 Hz; 250 us; 30 s on / 5 min off"


def _plan(client: TestClient, team: Team, protocol: str, start_at: str | None = None) -> Any:
    implant = register(client, team.as_clinician, team.patient.id)
    started = start(client, team.as_clinician, implant["id"])
    sid, version = started["session"]["id"], started["interrogation"]["implant_version"]
    body: Json = {"protocol": protocol, "implant_version": version}
    if start_at is not None:
        body["start_at"] = start_at
    url = f"{API}/programming-sessions/{sid}/titration-plans"
    return client.post(url, json=body, headers=team.as_clinician)


def _refusal(response: Any, field: str) -> Json:
    assert response.status_code == 422, response.text
    (item,) = response.json()["detail"]
    assert item["field"] == field
    return dict(item)


def test_plan_stepping_every_100000000_days_is_refused(
    client: TestClient, team: Team, clock: dict[str, datetime]
) -> None:
    protocol = f"titrate from 0.25 mA by 0.25 mA every 100000000 days to 1.5 mA; {STIMULATION}"
    item = _refusal(_plan(client, team, protocol), "protocol")
    assert item["value"] == protocol
    assert f"every 1 to {MAX_STEP_INTERVAL_DAYS} days" in item["allowed"]


def test_plan_over_more_than_five_years_is_refused(
    client: TestClient, team: Team, clock: dict[str, datetime]
) -> None:
    protocol = f"titrate from 0.25 mA by 0.25 mA every 365 days to 2.0 mA; {STIMULATION}"
    item = _refusal(_plan(client, team, protocol), "protocol")
    assert "2555 days" in item["allowed"]  # 7 steps of a year


@pytest.mark.parametrize("start_at", ["9999-12-31T00:00:00Z", "9999-01-01T00:00:00Z"])
def test_plan_starting_in_year_9999_is_refused(
    client: TestClient, team: Team, clock: dict[str, datetime], start_at: str
) -> None:
    protocol = f"titrate from 0.25 mA by 0.25 mA every 14 days to 1.5 mA; {STIMULATION}"
    item = _refusal(_plan(client, team, protocol, start_at), "start_at")
    assert item["value"].startswith("9999-")
    assert f"{MAX_START_AHEAD_DAYS} days ahead" in item["allowed"]


def test_plan_starting_within_a_year_is_accepted(
    client: TestClient, team: Team, clock: dict[str, datetime]
) -> None:
    protocol = f"titrate from 0.25 mA by 0.25 mA every 14 days to 1.0 mA; {STIMULATION}"
    start_at = (T0 + timedelta(days=MAX_START_AHEAD_DAYS)).isoformat()
    r = _plan(client, team, protocol, start_at)
    assert r.status_code == 201, r.text
    assert len(r.json()["steps"]) == 4


def test_plan_steps_are_capped_before_they_are_listed(
    client: TestClient, team: Team, clock: dict[str, datetime], monkeypatch: pytest.MonkeyPatch
) -> None:
    def never(*_: Any) -> Any:
        raise AssertionError("the plan's steps were listed before its size was checked")

    monkeypatch.setattr(Protocol, "step_currents_mA", never)
    monkeypatch.setattr("openvns.protocol.titration.titration_steps", never)
    protocol = f"titrate from 0.25 mA by 0.0000001 mA every 1 day to 1.5 mA; {STIMULATION}"
    item = _refusal(_plan(client, team, protocol), "protocol")
    assert f"at most {MAX_PLAN_STEPS} steps" in item["allowed"]
    assert "12500001" in item["allowed"]  # how many it asked for


def test_plan_step_count_matches_the_listed_steps() -> None:
    for text, expected in [
        (f"titrate from 0.25 mA by 0.25 mA every 14 days to 2.0 mA; {STIMULATION}", 8),
        (f"titrate from 0.5 mA by 0.5 mA every 14 days to 1.75 mA; {STIMULATION}", 4),
        (f"1.0 mA; {STIMULATION}", 1),
    ]:
        protocol = Protocol.parse(text)
        assert plan_step_count(protocol) == expected == len(protocol.step_currents_mA())
    assert limits.MAX_PLAN_STEPS == 500


# --- LIKE wildcards ------------------------------------------------------------------------------
def test_search_wildcards_match_only_themselves(
    client: TestClient, team: Team, as_role: HeadersFactory
) -> None:
    headers = as_role(Role.NURSE)
    for mrn, name in [("W-1", "Ann 100% Smith"), ("W-2", "Bo_b Jones"), ("W-3", "Cy \\ Lee")]:
        create(client, headers, mrn=mrn, full_name=name)
    for search, expected in [("%", ["W-1"]), ("_", ["W-2"]), ("\\", ["W-3"]), ("0%", ["W-1"])]:
        r = client.get(f"{API}/patients", params={"search": search}, headers=headers)
        assert r.status_code == 200, r.text
        assert [p["mrn"] for p in r.json()["items"]] == expected, search
    r = client.get(f"{API}/patients", params={"search": "bo_b"}, headers=headers)
    assert [p["mrn"] for p in r.json()["items"]] == ["W-2"]


def test_escape_like() -> None:
    assert escape_like("50%_a\\b") == "50\\%\\_a\\\\b"
    assert escape_like("plain") == "plain"
