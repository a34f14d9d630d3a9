"""Schemas shared by every domain: text inputs, pagination and error bodies."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Annotated, Any, Generic, TypeVar

from fastapi import FastAPI, Path, Query
from pydantic import BaseModel, Field, GetCoreSchemaHandler, GetJsonSchemaHandler, ValidationInfo
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import CoreSchema, PydanticCustomError, core_schema

#: Largest page the list endpoints return.
MAX_PAGE = 500
#: Largest record id (and offset): PostgreSQL's ``integer``. Larger numbers name no record, and
#: SQLite's driver cannot even send those beyond 64 bits (a server error), so the API refuses them.
MAX_ID = 2**31 - 1

#: The ``type`` of the 422 that refuses a boolean where a number is expected.
BOOLEAN_ERROR = "number_not_boolean"


def _refuse_boolean(value: Any, info: ValidationInfo) -> Any:
    if not isinstance(value, bool):
        return value
    field = info.field_name or "the number"
    raise PydanticCustomError(
        BOOLEAN_ERROR,
        "{field} is {value}, a boolean, which is not allowed; allowed: {allowed}",
        {"field": field, "value": "true" if value else "false", "allowed": "a number"},
    )


@dataclass(frozen=True)
class NotBoolean:
    """Marks a number as one a boolean may not stand for.

    pydantic reads JSON ``true`` as 1 and ``false`` as 0 for an ``int`` or ``float`` field
    (``"output_current_mA": true`` was programmed as 1 mA). ``Annotated[float, NotBoolean()]``
    refuses a boolean with a 422 (type ``number_not_boolean``) whose ``loc`` names the field and
    whose ``input`` is the value. Numeric text (``"1.5"``) stays accepted: the pages' forms post
    every number as text and are validated by the same schemas.

    Put it last in the ``Annotated``, after the bounds: ``Annotated[float, Field(ge=0),
    NotBoolean()]`` (or use :data:`Number` / :data:`WholeNumber`).
    """

    def __get_pydantic_core_schema__(
        self, source: type[Any], handler: GetCoreSchemaHandler
    ) -> CoreSchema:
        return core_schema.with_info_before_validator_function(_refuse_boolean, handler(source))


#: A number a client sends: an integer or a finite float, never a boolean (nor ``NaN`` or
#: ``Infinity``, which Python's JSON reader accepts).
Number = Annotated[float, Field(allow_inf_nan=False), NotBoolean()]
#: A whole number a client sends, never a boolean.
WholeNumber = Annotated[int, NotBoolean()]
#: The version of a record the client read (optimistic locking): 1 to :data:`MAX_ID`.
Version = Annotated[
    int,
    Field(ge=1, le=MAX_ID, description="The version read; a stale version gives 409."),
    NotBoolean(),
]


Limit = Annotated[int, Query(ge=1, le=MAX_PAGE, description="Page size.")]
Offset = Annotated[int, Query(ge=0, le=MAX_ID, description="Rows to skip.")]
#: A record id in a path (``/patients/{patient_id}``): 1 to :data:`MAX_ID`.
PathId = Annotated[int, Path(ge=1, le=MAX_ID)]
#: A record id in a query string.
QueryId = Annotated[int, Query(ge=1, le=MAX_ID)]
#: A record id in a request body.
BodyId = Annotated[int, Field(ge=1, le=MAX_ID), NotBoolean()]


#: The characters no text input may hold: the control characters (C0, DEL and C1) except tab,
#: line feed and carriage return. PostgreSQL's ``text`` cannot store NUL at all (a server error),
#: and the others have no place in a name, a note or a search either.
_CONTROL = r"\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f"
#: The JSON Schema ``pattern`` of every text input (ECMA-262 and Python ``re`` read it alike).
TEXT_PATTERN = rf"^[^{_CONTROL}]*$"
#: A lone UTF-16 surrogate (``"\\ud800"`` in JSON) is no character: no UTF-8 text (the database's
#: encoding) can hold one. Refused with the control characters, but left out of the pattern: an
#: ECMA-262 pattern without the ``u`` flag matches UTF-16 code units, so a surrogate range there
#: would also refuse every character beyond U+FFFF (emoji, CJK extension B).
_REFUSED = re.compile(rf"[{_CONTROL}\ud800-\udfff]")
#: What a text input allows, in words (the ``allowed`` of the 422).
TEXT_ALLOWED = (
    "text without control characters other than tab, line feed and carriage return "
    "(no NUL, no lone surrogates)"
)
TEXT_ERROR = "text_control_character"


def _refuse_control_characters(value: str, info: ValidationInfo) -> str:
    match = _REFUSED.search(value)
    if match is None:
        return value
    character = match.group()
    if character == "\x00":
        what = "NUL"
    elif "\ud800" <= character <= "\udfff":
        what = "a lone surrogate"
    else:
        what = "a control character"
    name = f"U+{ord(character):04X} ({what})"
    field = info.field_name or "the text"
    raise PydanticCustomError(
        TEXT_ERROR,
        "{field} contains {character} at position {position}, which is not allowed; "
        "allowed: {allowed}",
        {
            "field": field,
            "character": name,
            "position": match.start(),
            "allowed": TEXT_ALLOWED,
        },
    )


@dataclass(frozen=True)
class PlainText:
    """Marks a ``str`` as text a person typed: control characters are refused.

    ``Annotated[str, PlainText()]`` (see :data:`Text`) refuses any character of ``_REFUSED``
    with a 422 (type ``text_control_character``) whose ``loc`` names the field, whose ``input``
    is the value, and whose message and ``ctx`` say which character, where, and what is allowed;
    its JSON Schema carries :data:`TEXT_PATTERN`, so clients (and the fuzz tests) know.

    Length limits go before it, in the same ``Annotated``:
    ``Annotated[str, Field(max_length=...), PlainText()]``. (``Annotated[Text, Field(...)]``
    would check the length after this validator, with pydantic's generic "items" messages.)
    A query parameter takes such a type inside ``Query()``: ``Annotated[Search | None, Query()]``.
    """

    def __get_pydantic_core_schema__(
        self, source: type[Any], handler: GetCoreSchemaHandler
    ) -> CoreSchema:
        return core_schema.with_info_after_validator_function(
            _refuse_control_characters, handler(source)
        )

    def __get_pydantic_json_schema__(
        self, schema: CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        json_schema = handler(schema)
        json_schema.setdefault("pattern", TEXT_PATTERN)
        return json_schema


#: Every free-text input of the clinic (bodies, query strings, forms): a ``str`` without control
#: characters other than tab, line feed and carriage return.
Text = Annotated[str, PlainText()]


#: The escape character of the clinic's ``LIKE`` patterns (``column.like(p, escape=...)``).
LIKE_ESCAPE = "\\"


def escape_like(text: str) -> str:
    r"""``text`` for a ``LIKE`` pattern in which it matches only itself.

    ``%`` and ``_`` are wildcards of ``LIKE`` (a search for ``%`` matched every patient): each,
    and the escape character itself, is preceded by :data:`LIKE_ESCAPE`; use the pattern with
    ``escape=LIKE_ESCAPE``.

    >>> print(escape_like("50%_off"))
    50\%\_off
    """
    for character in (LIKE_ESCAPE, "%", "_"):
        text = text.replace(character, LIKE_ESCAPE + character)
    return text


def in_id_range(value: int) -> bool:
    """Whether ``value`` can be a record id (1 to :data:`MAX_ID`).

    The services look up no record outside the range (the database driver cannot send an id
    beyond 64 bits): an id the API's :data:`PathId` would refuse is simply not found.
    """
    return 1 <= value <= MAX_ID


T = TypeVar("T")


class Page(BaseModel, Generic[T]):
    """One page of a list: the items, how many match in all, and the window."""

    items: list[T]
    total: int
    limit: int
    offset: int


class ErrorDetail(BaseModel):
    """A value that is not allowed, named as every OpenVNS validation error names it.

    ``loc``, ``msg`` and ``type`` make it also an item of FastAPI's own 422 body (the schema
    every operation declares for 422), so both kinds of 422 match the same schema.
    """

    loc: list[str | int]
    msg: str
    type: str
    field: str
    value: Any
    allowed: str


class ErrorBody(BaseModel):
    """Body of a 4xx answer from the clinic's own checks."""

    detail: str | list[ErrorDetail]


_DESCRIPTIONS = {
    401: "Not authenticated (no valid token or session).",
    403: "The role may not do this, or the CSRF token is missing or wrong.",
    404: "No such record visible to the caller.",
    409: "Conflicts with the stored state: a duplicate, or a stale version.",
}


#: Description of the 400 that every operation with a request body may answer.
MALFORMED_BODY = "The body could not be read (not UTF-8, or not the declared media type)."
BODY_TOO_LARGE = "The body is larger than the server accepts (the limit is in the message)."
BODY_TIMED_OUT = "The body did not arrive in time; the connection is closed."
_ERROR_BODY_REF = "#/components/schemas/ErrorBody"


def complete_openapi(app: FastAPI) -> None:
    """Make ``app``'s OpenAPI schema say what the clinic answers on every route.

    * The 400 that FastAPI answers, before any validation, to a request body it cannot parse is
      declared on every operation that takes a body, with the transport's 413 (a body over
      ``Settings.max_body_bytes``) and 408 (a body that did not arrive in time) of
      :mod:`openvns.clinic.limits`.
    * The clinic's error answers (:func:`error_responses`) are JSON even on a route whose own
      response is HTML: FastAPI would file them under the route's media type.
    """
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = build()
            body: dict[str, Any] = {"$ref": _ERROR_BODY_REF}
            if "ErrorBody" not in schema.get("components", {}).get("schemas", {}):
                body = {"type": "object", "properties": {"detail": {"type": "string"}}}
            answers = {
                str(code): {
                    "description": description,
                    "content": {"application/json": {"schema": body}},
                }
                for code, description in (
                    (400, MALFORMED_BODY),
                    (408, BODY_TIMED_OUT),
                    (413, BODY_TOO_LARGE),
                )
            }
            for item in schema.get("paths", {}).values():
                for operation in item.values():
                    if not isinstance(operation, dict):
                        continue
                    responses = operation.setdefault("responses", {})
                    if "requestBody" in operation:
                        for code, answer in answers.items():
                            responses.setdefault(code, answer)
                    for response in responses.values():
                        _errors_as_json(response)
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def _errors_as_json(response: dict[str, Any]) -> None:
    content = response.get("content", {})
    for media_type, entry in list(content.items()):
        schema = entry.get("schema", {}) if isinstance(entry, dict) else {}
        if media_type != "application/json" and schema.get("$ref") == _ERROR_BODY_REF:
            content.setdefault("application/json", content.pop(media_type))


def error_responses(*codes: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses`` entries for the clinic's own error answers."""
    return {code: {"model": ErrorBody, "description": _DESCRIPTIONS[code]} for code in codes}
