"""Errors raised by the clinic services; the app turns each into an HTTP status.

Services raise these (never ``HTTPException``) so that pages, the API and the CLI can share
them. :class:`openvns.errors.ValidationError` (a value that is not allowed) becomes a 422.
"""

from __future__ import annotations

from openvns.errors import OpenVNSError


class ClinicError(OpenVNSError):
    """Base class of the clinic's own errors."""


class NotFoundError(ClinicError):
    """The record does not exist, or the caller may not know that it exists (HTTP 404)."""

    def __init__(self, entity: str, entity_id: object) -> None:
        self.entity = entity
        self.entity_id = entity_id
        super().__init__(f"{entity} {entity_id} not found")


class ConflictError(ClinicError):
    """The change conflicts with the stored state: a duplicate or a stale version (HTTP 409)."""


class AuthenticationError(ClinicError):
    """No valid credentials (HTTP 401). The message never says which part was wrong."""

    def __init__(self, message: str = "invalid credentials") -> None:
        super().__init__(message)


class PermissionDeniedError(ClinicError):
    """Authenticated, but the role may not do this (HTTP 403)."""


class CSRFError(PermissionDeniedError):
    """An unsafe request authenticated by a session cookie lacks a valid CSRF token (HTTP 403)."""
