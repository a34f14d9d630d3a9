"""Text inputs refuse control characters: a 422 at the field, never a server error.

PostgreSQL's ``text`` cannot hold NUL (``\\x00``): before the shared text type
(:class:`openvns.clinic.schemas.PlainText`) a NUL in a patient's name was a 500 there. Every free
text input of the API (body properties and query parameters, found in the OpenAPI schema, so a
new one is covered when it appears) refuses NUL with a 422 whose item names the field (``loc``),
the value (``input``) and what is allowed; the pages' forms, validated by the same schemas, show
the message next to the field. Tab, line feed and carriage return stay allowed.
"""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from pydantic import BaseModel, ValidationError

from openvns.clinic.app import API_PREFIX, create_app
from openvns.clinic.auth.models import Role
from openvns.clinic.config import Settings
from openvns.clinic.schemas import TEXT_ALLOWED, TEXT_ERROR, TEXT_PATTERN, Text
from tests.clinic.conftest import SECRET, HeadersFactory, UserFactory
from tests.clinic.test_pages import HTML, HTMX, _csrf, _login
from tests.clinic.test_patients import patient_body

NUL = "a\x00b"


def _nul_for(schema: dict[str, Any]) -> str:
    """:data:`NUL`, padded to the field's least length (a password's), so NUL is all it lacks."""
    return NUL + "c" * max(0, int(schema.get("minLength", 0)) - len(NUL))


#: Roles tried in turn until one may call the operation (its role check comes before validation).
ROLES = (Role.CLINICIAN, Role.ADMIN, Role.PATIENT)


class _Model(BaseModel):
    text: Text


def _openapi() -> dict[str, Any]:
    """The API's schema, read without a database (the app only builds it)."""
    app = create_app(Settings(database_url="sqlite://", secret_key=SECRET))
    schema: dict[str, Any] = TestClient(app).get(f"{API_PREFIX}/openapi.json").json()
    return schema


SCHEMA = _openapi()
COMPONENTS: dict[str, Any] = SCHEMA["components"]["schemas"]


def _resolve(schema: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        schema = COMPONENTS[schema["$ref"].rsplit("/", 1)[1]]
    return schema


def _is_free_text(schema: dict[str, Any]) -> bool:
    """A string the client types: not an enum, a constant or a date."""
    return (
        schema.get("type") == "string"
        and "enum" not in schema
        and "const" not in schema
        and "format" not in schema
    )


Field = tuple[tuple[str, ...], dict[str, Any], dict[str, Any]]


def _body_fields(schema: dict[str, Any]) -> Iterator[Field]:
    """``(path, body, schema)`` for each free-text property: a body holding only the constants
    of its object (a union's discriminator) and :data:`NUL` at the property."""
    schema = _resolve(schema)
    for key in ("anyOf", "oneOf", "allOf"):
        for alternative in schema.get(key, []):
            yield from _body_fields(alternative)
    properties: dict[str, Any] = schema.get("properties", {})
    constants = {
        name: _resolve(sub)["const"] for name, sub in properties.items() if "const" in _resolve(sub)
    }
    for name, sub in properties.items():
        for variant in _variants(sub):
            if _is_free_text(variant):
                yield (name,), {**constants, name: _nul_for(variant)}, variant
            elif variant.get("type") == "object" or "properties" in variant:
                for path, inner, text in _body_fields(variant):
                    yield (name, *path), {**constants, name: inner}, text


def _variants(schema: dict[str, Any]) -> list[dict[str, Any]]:
    schema = _resolve(schema)
    alternatives = schema.get("anyOf", []) + schema.get("oneOf", [])
    return [_resolve(s) for s in alternatives] or [schema]


#: The schema of each free-text input, by test id.
DECLARED: dict[str, dict[str, Any]] = {}


def _cases() -> Iterator[Any]:
    for path, item in SCHEMA["paths"].items():
        for method, operation in item.items():
            url = re.sub(r"\{[^}]+\}", "1", path)
            url = url.replace("/1/diary/pain/1", "/1/diary/pain/2026-01-01")
            url = re.sub(r"/diary/([a-z-]+)/1$", r"/diary/\1/2026-01-01", url)
            for parameter in operation.get("parameters", []):
                texts = [v for v in _variants(parameter["schema"]) if _is_free_text(v)]
                if parameter["in"] == "query" and texts:
                    name = parameter["name"]
                    case_id = f"{method} {path} ?{name}"
                    DECLARED[case_id] = texts[0]
                    value = {name: _nul_for(texts[0])}
                    yield pytest.param(method, url, "query", (name,), value, id=case_id)
            body = operation.get("requestBody", {}).get("content", {}).get("application/json")
            if body:
                for field, value, text in _body_fields(body["schema"]):
                    case_id = f"{method} {path} {'.'.join(field)}"
                    DECLARED[case_id] = text
                    yield pytest.param(method, url, "body", field, value, id=case_id)


CASES = list(_cases())


def test_the_cases_cover_the_known_free_text_inputs() -> None:
    """A guard against an empty or partial walk of the schema."""
    ids = {case.id for case in CASES}
    for expected in [
        "post /api/v1/patients full_name",
        "post /api/v1/patients diagnosis",
        "patch /api/v1/patients/{patient_id} full_name",
        "get /api/v1/patients ?search",
        "get /api/v1/audit ?entity",
        "post /api/v1/auth/token email",
        "post /api/v1/auth/token password",
        "post /api/v1/users full_name",
        "post /api/v1/patients/{patient_id}/diary/side-effects description",
        "put /api/v1/patients/{patient_id}/diary/side-effects/{entry_date} description",
        "post /api/v1/patients/{patient_id}/evaluations notes",
        "patch /api/v1/evaluations/{evaluation_id} diagnosis_detail",
        "post /api/v1/implants/{implant_id}/explant reason",
        "post /api/v1/implants/{implant_id}/replace reason",
        "post /api/v1/programming-sessions/{session_id}/titration-plans protocol",
    ]:
        assert expected in ids


def _names(loc: list[str | int], where: str, field: tuple[str, ...]) -> bool:
    """``loc`` is at ``field`` of ``where``: the field's names in order (pydantic puts a
    union's branch between or after them, as in ``["body", "full_name", "function-after…"]``)."""
    if not loc or loc[0] != where:
        return False
    rest = iter(loc[1:])
    return all(name in rest for name in field)


@pytest.mark.parametrize(("method", "url", "where", "field", "value"), CASES)
def test_every_text_input_refuses_nul_at_its_field(
    client: TestClient,
    as_role: HeadersFactory,
    method: str,
    url: str,
    where: str,
    field: tuple[str, ...],
    value: dict[str, Any],
) -> None:
    for role in ROLES:
        headers = as_role(role)
        if where == "query":
            r = client.request(method, url, params=value, headers=headers)
        else:
            r = client.request(method, url, json=value, headers=headers)
        if r.status_code not in (401, 403):
            break
    assert r.status_code == 422, r.text
    items = [item for item in r.json()["detail"] if _names(item["loc"], where, field)]
    assert items, f"no error at {where} {'.'.join(field)}: {r.text}"
    item = items[0]
    sent: Any = value
    for name in field:
        sent = sent[name]
    # the value; a password's never (app._hide_secrets)
    assert item["input"] == ("(hidden)" if "password" in field[-1] else sent)
    if item["type"] == TEXT_ERROR:  # free text: what was wrong and what is allowed
        assert item["ctx"]["character"] == "U+0000 (NUL)"
        assert item["ctx"]["allowed"] == TEXT_ALLOWED
        assert "U+0000 (NUL)" in item["msg"]
        assert TEXT_ALLOWED in item["msg"]
    else:  # a field with a stricter shape (an e-mail address): its pattern says what is allowed
        assert item["type"] == "string_pattern_mismatch", item
        assert item["ctx"]["pattern"]


def test_every_free_text_input_declares_the_pattern() -> None:
    """The schema tells clients (and the fuzz tests) what the server refuses: the text pattern,
    or a stricter one (an MRN, a serial number, an e-mail address) that allows no control
    character either."""
    pattern = re.compile(TEXT_PATTERN)
    for case_id, schema in DECLARED.items():
        declared = schema.get("pattern")
        assert declared, f"{case_id}: no pattern"
        if declared != TEXT_PATTERN:
            stricter = re.compile(declared)
            for code in [*range(0x20), *range(0x7F, 0xA0)]:
                if stricter.search(chr(code)):
                    assert pattern.fullmatch(chr(code)), f"{case_id}: {declared} allows {code:#x}"


def test_a_lone_surrogate_is_refused_not_a_server_error(
    client: TestClient, as_role: HeadersFactory
) -> None:
    # A JSON string may spell a lone UTF-16 surrogate; no UTF-8 text can hold it.
    body = json.dumps(patient_body(full_name="a\\ud800b")).replace("\\\\ud800", "\\ud800")
    headers = {**as_role(Role.NURSE), "Content-Type": "application/json"}
    r = client.post(f"{API_PREFIX}/patients", content=body, headers=headers)
    assert r.status_code == 422, r.text
    (item,) = r.json()["detail"]
    assert item["loc"] == ["body", "full_name"]
    assert item["input"] == "a\ud800b"  # echoed, escaped (UTF-8 cannot encode it)
    # pydantic's own check of a constrained string comes first; the text type's catches the rest
    assert item["type"] in ("string_unicode", TEXT_ERROR)
    with pytest.raises(ValidationError, match="U\\+D800 \\(a lone surrogate\\)"):
        _Model(text="a\ud800b")


def test_tab_newline_and_any_printable_text_are_kept(
    client: TestClient, as_role: HeadersFactory
) -> None:
    nurse = as_role(Role.NURSE)
    name = "Zoë\tŁukasz 王 🙂\r\nO'Brien"
    r = client.post(f"{API_PREFIX}/patients", json=patient_body(full_name=name), headers=nurse)
    assert r.status_code == 201, r.text
    assert r.json()["full_name"] == name
    r = client.get(f"{API_PREFIX}/patients", params={"search": "王 🙂"}, headers=nurse)
    assert r.status_code == 200
    assert r.json()["total"] == 1


def test_other_control_characters_are_refused_too(
    client: TestClient, as_role: HeadersFactory
) -> None:
    nurse = as_role(Role.NURSE)
    for character in ("\x01", "\x1b", "\x7f", "\x85"):
        body = patient_body(full_name=f"Ann{character}")
        r = client.post(f"{API_PREFIX}/patients", json=body, headers=nurse)
        assert r.status_code == 422, r.text
        (item,) = r.json()["detail"]
        assert item["loc"] == ["body", "full_name"]
        assert item["ctx"]["position"] == 3


def _refused(character: str) -> bool:
    try:
        _Model(text=character)
    except ValidationError:
        return True
    return False


def test_the_pattern_states_exactly_what_the_validator_refuses() -> None:
    """Every code point outside the surrogates: the pattern (what the schema says) and the
    validator (what the server does) agree. Surrogates are refused but left out of the pattern
    (an ECMA-262 pattern would read them as halves of every character beyond U+FFFF)."""
    pattern = re.compile(TEXT_PATTERN)
    disagree = [
        hex(code)
        for code in [*range(0x3000), *range(0xE000, 0x10000), 0x1F642, sys.maxunicode]
        if (pattern.fullmatch(chr(code)) is None) != _refused(chr(code))
    ]
    assert disagree == []
    assert _refused("\ud800")
    assert _refused("\udfff")
    assert not any(_refused(c) for c in "\t\n\r ")


# The pages: their forms go through the same schemas; the login form and the list's search too.


def test_patient_form_shows_the_refusal_at_the_field(
    client: TestClient, make_user: UserFactory
) -> None:
    csrf = _login(client, make_user(Role.NURSE))
    data = {"mrn": "P-1", "full_name": NUL, "date_of_birth": "1980-01-01", "sex": "female"}
    r = client.post("/patients/new", data={**data, "csrf_token": csrf}, headers=HTMX)
    assert r.status_code == 422
    assert 'id="e-full_name"' in r.text
    assert "U+0000 (NUL)" in r.text


def test_page_search_and_login_refuse_nul(client: TestClient, make_user: UserFactory) -> None:
    user = make_user(Role.NURSE)
    token = _csrf(client.get("/auth/login", headers=HTML))
    r = client.post(
        "/auth/login", data={"email": NUL, "password": "x", "csrf_token": token}, headers=HTML
    )
    assert r.status_code == 422
    _login(client, user)
    r = client.get("/patients", params={"q": NUL}, headers=HTML)
    assert r.status_code == 422
    assert client.get("/patients", params={"q": "Ada"}, headers=HTML).status_code == 200
