"""Schemas shared by every domain: pagination and error bodies."""

from __future__ import annotations

from typing import Annotated, Any, Generic, TypeVar

from fastapi import Query
from pydantic import BaseModel

#: Largest page the list endpoints return.
MAX_PAGE = 500

Limit = Annotated[int, Query(ge=1, le=MAX_PAGE, description="Page size.")]
Offset = Annotated[int, Query(ge=0, description="Rows to skip.")]


T = TypeVar("T")


class Page(BaseModel, Generic[T]):
    """One page of a list: the items, how many match in all, and the window."""

    items: list[T]
    total: int
    limit: int
    offset: int


class ErrorDetail(BaseModel):
    """A value that is not allowed, named as every OpenVNS validation error names it."""

    field: str
    value: Any
    allowed: str
    msg: str


class ErrorBody(BaseModel):
    """Body of a 4xx answer from the clinic's own checks."""

    detail: str | list[ErrorDetail]


_DESCRIPTIONS = {
    401: "Not authenticated (no valid token or session).",
    403: "The role may not do this, or the CSRF token is missing or wrong.",
    404: "No such record visible to the caller.",
    409: "Conflicts with the stored state: a duplicate, or a stale version.",
}


def error_responses(*codes: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses`` entries for the clinic's own error answers."""
    return {code: {"model": ErrorBody, "description": _DESCRIPTIONS[code]} for code in codes}
