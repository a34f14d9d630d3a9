"""Form handling for the pages: read the posted fields, validate them with the API's schemas,
and call a service so that its errors land next to the field they name.

Pages never re-implement a rule: a form is validated by the same pydantic schema the JSON API
uses, and then passed to the same service function; :class:`openvns.errors.ValidationError`
(field, value, what is allowed) and :class:`~openvns.clinic.errors.ConflictError` become
messages in :data:`FieldErrors`.

Messages name a field by its label, the text of the form's ``<label>``: pages register their
labels with :func:`register_labels`, and :func:`label_of` gives a field's label (for a field no
page registered, its name in words). :func:`labelled` gives a form's errors with their labels,
for the summary at the top of a form.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping
from typing import Annotated, Any, TypeVar

import pydantic
from fastapi import Depends, Request
from sqlalchemy.orm import Session

from openvns.clinic.auth.dependencies import CSRF_FIELD
from openvns.clinic.errors import ConflictError
from openvns.clinic.schemas import TEXT_ALLOWED, TEXT_ERROR
from openvns.errors import ValidationError

log = logging.getLogger(__name__)

#: Messages by form field; ``FORM`` holds those that belong to no single field.
FieldErrors = dict[str, str]
FORM = "__form__"

M = TypeVar("M", bound=pydantic.BaseModel)
T = TypeVar("T")

_MESSAGES = {
    "missing": "Required.",
    "date_from_datetime_parsing": "Enter a date as YYYY-MM-DD.",
    "date_parsing": "Enter a date as YYYY-MM-DD.",
    "date_type": "Enter a date as YYYY-MM-DD.",
    "datetime_parsing": "Enter a date and time.",
    "int_parsing": "Enter a whole number.",
    "int_from_float": "Enter a whole number.",
    "float_parsing": "Enter a number.",
    "bool_parsing": "Choose yes or no.",
}


#: Field labels by field name, as the forms show them (:func:`register_labels`).
LABELS: dict[str, str] = {}


def register_labels(labels: Mapping[str, str]) -> None:
    """Record the labels of a page's form fields (``{"baseline_nrs": "Baseline pain …"}``)."""
    for name, label in labels.items():
        known = LABELS.setdefault(name, label)
        if known != label:
            log.debug("field %s is labelled %r and %r; keeping the first", name, known, label)


def label_of(name: str) -> str:
    """The label of field ``name``: the registered one, else the name in words, capitalised."""
    return LABELS.get(name) or name.replace("_", " ").strip().capitalize()


def labelled(errors: FieldErrors) -> list[tuple[str, str, str]]:
    """``(field, label, message)`` of each error; the form's own errors (``FORM``) have no
    label."""
    return [(name, "" if name == FORM else label_of(name), msg) for name, msg in errors.items()]


_BOUNDS = {
    "greater_than": "more than {gt}",
    "greater_than_equal": "at least {ge}",
    "less_than": "less than {lt}",
    "less_than_equal": "at most {le}",
    "string_too_long": "at most {max_length} characters",
    "too_long": "at most {max_length} items",
}


async def _posted(request: Request) -> dict[str, str]:
    form = await request.form()
    values: dict[str, str] = {}
    for key, value in form.multi_items():
        if key == CSRF_FIELD or not isinstance(value, str):
            continue
        values[key] = value.strip()
    return values


#: The posted form's text fields (stripped; without the CSRF token), as a dependency.
PostedForm = Annotated[dict[str, str], Depends(_posted)]


async def _posted_lists(request: Request) -> dict[str, list[str]]:
    form = await request.form()
    values: dict[str, list[str]] = {}
    for key, value in form.multi_items():
        if key != CSRF_FIELD and isinstance(value, str):
            values.setdefault(key, []).append(value.strip())
    return values


#: Every value of each posted field (checkbox groups), as a dependency.
PostedLists = Annotated[dict[str, list[str]], Depends(_posted_lists)]


def _message(error: Any) -> str:
    kind = str(error.get("type", ""))
    if error.get("input", "") is None and kind.endswith("_type"):
        return "Required."
    if kind == "string_too_short" and error.get("ctx", {}).get("min_length") == 1:
        return "Required."
    if kind == "string_pattern_mismatch":
        return "Not in the expected format."
    if kind in _BOUNDS:
        ctx = error.get("ctx", {})
        try:
            allowed = _BOUNDS[kind].format(**ctx)
        except KeyError:
            allowed = str(error.get("msg", "")).lower()
        value = error.get("input", "")
        shown = f"{value!s:.40}" if not isinstance(value, (list, dict)) else "this"
        return f"{shown} is not allowed; allowed: {allowed}."
    if kind == "enum" or kind == "literal_error":
        expected = error.get("ctx", {}).get("expected", "")
        return f"{error.get('input', '')!s:.40} is not allowed; allowed: {expected}."
    if kind == TEXT_ERROR:
        ctx = error.get("ctx", {})
        return f"Contains {ctx.get('character')}, which is not allowed; allowed: {TEXT_ALLOWED}."
    return _MESSAGES.get(kind, str(error.get("msg", "Not allowed.")))


def pydantic_errors(exc: pydantic.ValidationError) -> FieldErrors:
    """One message per field (the first), keyed by the field's name."""
    errors: FieldErrors = {}
    for error in exc.errors():
        loc = error.get("loc", ())
        field = str(loc[0]) if loc else FORM
        errors.setdefault(field, _message(error))
    return errors


def without_blanks(values: dict[str, str], keep: Iterable[str] = ()) -> dict[str, Any]:
    """The fields that were filled in (an empty field is left out, so it is 'not given')."""
    kept = set(keep)
    return {k: v for k, v in values.items() if v != "" or k in kept}


def blanks_as_none(values: dict[str, str], fields: Iterable[str]) -> dict[str, Any]:
    """``fields`` with an empty value as ``None`` (for optional fields a form can clear)."""
    return {f: (values.get(f) or None) for f in fields}


def validate(model: type[M], data: dict[str, Any]) -> tuple[M | None, FieldErrors]:
    """``model`` from ``data``, or the errors by field."""
    try:
        return model.model_validate(data), {}
    except pydantic.ValidationError as exc:
        return None, pydantic_errors(exc)


def service_error(exc: ValidationError) -> FieldErrors:
    """A service's :class:`ValidationError` as a message on its field."""
    return {exc.field: f"{exc.value} is not allowed; allowed: {exc.allowed}."}


def attempt(session: Session, call: Callable[[], T]) -> tuple[T | None, FieldErrors]:
    """Run a service ``call`` in a savepoint; its validation or conflict error as messages.

    On error the savepoint is rolled back, so nothing the call wrote survives, and the page
    can show the form again with the messages.
    """
    try:
        with session.begin_nested():
            return call(), {}
    except ValidationError as exc:
        log.info("form rejected by the service: %s", exc)
        return None, service_error(exc)
    except ConflictError as exc:
        log.info("form conflicts with stored data: %s", exc)
        return None, {FORM: str(exc)}
