"""The JSON API against its own OpenAPI schema: schemathesis, in-process, every operation.

The schema is read from the app (``/api/v1/openapi.json``) when the test runs, so every
operation present then is exercised, new endpoints included. Requests go through schemathesis'
ASGI transport (no network) into the app of ``conftest.py``, whose requests run in the test's
rolled-back session, on SQLite and on PostgreSQL; each operation's runs start from the seeded
records (a savepoint rolled back after each). Each role is a separate test (clinician, patient,
admin; see :data:`EXAMPLES`): a fresh bearer token is sent with every request, so a generated
``POST /auth/logout`` does not sign the rest of the run out. Driven through schemathesis' Python
API (``operation.as_strategy`` under hypothesis), not its pytest plugin, which does not run
under pytest 9; failures are reported per operation and run as subtests.

Checks on every response: no server error, a status code the operation declares, a declared
content type, a body that matches the declared schema; positive data (what the schema allows)
is never rejected with a request-validation error; negative data (what it forbids) is rejected.
A 422 from the clinic's own rules (its body names ``field`` and ``allowed``: rules no JSON
Schema keyword can state, such as a date not in the future or an id that must exist) is accepted
for positive data only for the fields listed in :data:`RULES_BEYOND_THE_SCHEMA`.

Examples are bounded (:data:`EXAMPLES` per operation and run, deterministic, no shrinking), so
the run takes seconds per role and backend; ``OPENVNS_FUZZ_SCALE=10`` runs ten times as many.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date
from typing import Any

import hypothesis
import pytest
import schemathesis
from fastapi import FastAPI
from fastapi.testclient import TestClient
from schemathesis import Case, GenerationMode
from schemathesis.checks import CheckContext
from schemathesis.core.transport import Response
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    positive_data_acceptance,
    response_schema_conformance,
    status_code_conformance,
)
from sqlalchemy import Connection
from sqlalchemy.orm import Session

from openvns.clinic.app import API_PREFIX
from openvns.clinic.auth.models import Role, User
from openvns.clinic.db.session import transaction
from openvns.clinic.patients import service as patient_service

#: Examples per operation of each role's runs: data the schema allows, data it forbids, and
#: allowed data aimed at records that exist. The clinician's runs go deepest; the others check
#: what differs by role (own records, 403s, admin operations). ``OPENVNS_FUZZ_SCALE`` multiplies
#: them for a deeper run by hand (the default keeps the test near a minute per backend).
EXAMPLES: dict[Role, tuple[int, int, int]] = {
    Role.CLINICIAN: (12, 6, 12),
    Role.PATIENT: (5, 0, 8),
    Role.ADMIN: (3, 0, 3),
}
SCALE = float(os.environ.get("OPENVNS_FUZZ_SCALE", "1"))

#: Fields whose rules JSON Schema cannot state, so a value the schema allows may still answer
#: 422 from the clinic's own checks (body ``{"detail": [{"field", "value", "allowed", ...}]}``).
RULES_BEYOND_THE_SCHEMA = {
    "date_of_birth": "not in the future (JSON Schema has no bound relative to today)",
    "entry_date": "not in the future (JSON Schema has no bound relative to today)",
    "date_to": "not before date_from (a rule between two parameters)",
    "user_id": "the id of an existing user with role 'patient' (a lookup)",
    # implants and programming: times relative to now, and a protocol's own grammar
    "implanted_at": "not in the future, nor more than 20 years back",
    "explanted_at": "between implantation and now",
    "replaced_at": "between implantation and now",
    "start_at": "not in the past",
    "protocol": "a titration protocol text that Protocol.parse reads",
    # outcomes: the baseline window lies within the last years (a bound relative to today)
    "start_date": "within the last 10 years and not after end_date",
    "end_date": "not before start_date and not in the future",
}

#: Known failures of other domains' operations, (method path, run) -> why; reported as xfail
#: until fixed (a run listed here that passes simply passes).
KNOWN_FAILURES: dict[tuple[str, str], str] = {}

CONFIG = schemathesis.Config.from_dict(
    {
        "generation": {
            "mode": "all",
            "deterministic": True,
            "database": "none",
            "with-security-parameters": False,
        },
    }
)


def _domain_rule_fields(response: Response) -> set[str] | None:
    """The fields a 422 from the clinic's own rules names; ``None`` for any other answer."""
    if response.status_code != 422:
        return None
    try:
        body = response.json()
    except ValueError:
        return None
    detail = body.get("detail") if isinstance(body, dict) else None
    if not isinstance(detail, list) or not detail:
        return None
    fields = set()
    for item in detail:
        if not (isinstance(item, dict) and "field" in item and "allowed" in item):
            return None
        fields.add(str(item["field"]))
    return fields


def positive_data_acceptance_beyond_the_schema(
    ctx: CheckContext, response: Response, case: Case
) -> bool | None:
    """``positive_data_acceptance``, except a 422 from a rule listed in
    :data:`RULES_BEYOND_THE_SCHEMA`."""
    fields = _domain_rule_fields(response)
    if fields is not None and fields <= RULES_BEYOND_THE_SCHEMA.keys():
        return None
    return positive_data_acceptance(ctx, response, case)


CHECKS = [
    schemathesis.checks.not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    positive_data_acceptance_beyond_the_schema,
    negative_data_rejection,
]


def _settings(examples: int) -> hypothesis.settings:
    """Hypothesis settings of one run: bounded, repeatable, no shrinking (a failure is reported
    with the example that found it and a curl command to repeat it)."""
    return hypothesis.settings(
        max_examples=max(1, round(examples * SCALE)),
        deadline=None,
        derandomize=True,
        database=None,
        phases=[hypothesis.Phase.explicit, hypothesis.Phase.generate],
        suppress_health_check=list(hypothesis.HealthCheck),
    )


@dataclass
class SignedIn:
    """A signed-in user of one role and the ids of records that exist for it."""

    role: Role
    headers: Callable[[], dict[str, str]]
    known_ids: dict[str, int]


@pytest.fixture(params=list(EXAMPLES), ids=str)
def signed_in(
    request: pytest.FixtureRequest,
    make_user: Callable[..., User],
    headers_for: Callable[[User], dict[str, str]],
    db: Session,
) -> SignedIn:
    """A user of the role; a patient record (the patient's own, for a patient) exists."""
    role: Role = request.param
    user = make_user(role)
    nurse = make_user(Role.NURSE)
    owner = user if role is Role.PATIENT else make_user(Role.PATIENT)
    values = {"mrn": "FUZZ-1", "full_name": "Fuzz Patient", "date_of_birth": date(1970, 1, 1)}
    with transaction(db):
        patient = patient_service.create_patient(
            db, nurse, {**values, "sex": "female", "user_id": owner.id}
        )
    known = {"patient_id": patient.id, "user_id": owner.id}
    return SignedIn(role=role, headers=lambda: headers_for(user), known_ids=known)


@pytest.fixture
def api_schema(app: FastAPI, client: TestClient) -> Any:
    """The app's schema; its requests run in the test's session (``client`` overrides it)."""
    return schemathesis.openapi.from_asgi(f"{API_PREFIX}/openapi.json", app, config=CONFIG)


def _runs(operation: Any, signed_in: SignedIn) -> Iterator[tuple[str, Any, int]]:
    """Runs of one operation: positive and negative data, and positive data aimed at the
    records that exist (the generated ids mostly name none), with their example counts."""
    positive, negative, existing = EXAMPLES[signed_in.role]
    yield "positive", operation.as_strategy(generation_mode=GenerationMode.POSITIVE), positive
    if negative and _has_inputs(operation):
        strategy = operation.as_strategy(generation_mode=GenerationMode.NEGATIVE)
        yield "negative", strategy, negative
    names = {parameter.name for parameter in operation.path_parameters}
    fixed = {name: signed_in.known_ids[name] for name in names & signed_in.known_ids.keys()}
    if fixed and existing:
        strategy = operation.as_strategy(
            generation_mode=GenerationMode.POSITIVE, path_parameters=fixed
        )
        yield f"positive, existing {', '.join(sorted(fixed))}", strategy, existing


def _has_inputs(operation: Any) -> bool:
    return any(True for _ in operation.iter_parameters()) or bool(list(operation.body))


def test_api_conforms_to_its_schema(
    api_schema: Any, signed_in: SignedIn, connection: Connection, subtests: pytest.Subtests
) -> None:
    operations = list(api_schema.get_all_operations())
    assert len(operations) >= 10
    for result in operations:
        operation = result.ok()  # an operation the schema cannot describe fails here
        for label, strategy, examples in _runs(operation, signed_in):
            known = KNOWN_FAILURES.get((operation.label, label))
            with subtests.test(msg=f"{operation.label} ({label})"):

                @_settings(examples)
                @hypothesis.given(case=strategy)
                def run(case: Case) -> None:
                    case.call_and_validate(headers=signed_in.headers(), checks=CHECKS)

                # Each run starts from the seeded records: what it wrote is rolled back.
                savepoint = connection.begin_nested()
                try:
                    run()
                except Exception:
                    if known is None:
                        raise
                    pytest.xfail(known)
                finally:
                    savepoint.rollback()


def test_every_operation_is_fuzzed(app: FastAPI, client: TestClient) -> None:
    """The schema the fuzzing reads lists the API's operations (a guard against an empty run)."""
    paths = client.get(f"{API_PREFIX}/openapi.json").json()["paths"]
    operations = {(method.upper(), path) for path, item in paths.items() for method in item}
    assert ("POST", f"{API_PREFIX}/patients") in operations
    assert ("GET", f"{API_PREFIX}/audit") in operations
    assert all(path.startswith(API_PREFIX) for _, path in operations)


def test_domain_rule_fields_reads_only_the_clinics_own_422() -> None:
    class _Response:
        def __init__(self, status_code: int, body: Any) -> None:
            self.status_code = status_code
            self._body = body

        def json(self) -> Any:
            return self._body

    rule = {"detail": [{"field": "date_of_birth", "value": "2999-01-01", "allowed": "past"}]}
    pydantic = {"detail": [{"loc": ["body", "mrn"], "msg": "too long", "type": "string_too_long"}]}
    assert _domain_rule_fields(_Response(422, rule)) == {"date_of_birth"}  # type: ignore[arg-type]
    assert _domain_rule_fields(_Response(422, pydantic)) is None  # type: ignore[arg-type]
    assert _domain_rule_fields(_Response(409, rule)) is None  # type: ignore[arg-type]
