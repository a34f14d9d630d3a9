"""The sign-in flow shared by the API (``POST /api/v1/auth/token``) and the page form.

1. The throttle admits the attempt or refuses it (429) before any password work.
2. The password is verified in the request's read transaction: argon2 takes a quarter of a
   second and must never hold SQLite's write lock (every other writer would wait on it).
3. Only then a short write transaction stores the token (and a rehashed password).

Routes that call :func:`sign_in` are marked :func:`~openvns.clinic.db.session.reads_first`.
"""

from __future__ import annotations

import ipaddress
from datetime import timedelta

import argon2
from fastapi import Request
from fastapi.responses import JSONResponse
from sqlalchemy.orm import Session

from openvns.clinic.auth import service
from openvns.clinic.auth.models import AuthToken, TokenKind
from openvns.clinic.auth.throttle import LoginThrottledError, Throttle
from openvns.clinic.db.session import write_transaction
from openvns.clinic.errors import AuthenticationError

#: Prefix length under which IPv6 addresses count as one client: a host usually holds a whole
#: /64 (RFC 6177: end sites get a /48 to /64), so per-address counting would let one machine
#: rotate through 2^64 addresses.
IPV6_CLIENT_PREFIX = 64


def client_address(request: Request) -> str:
    """The client as the per-address limit counts it: the address the server sees (behind a
    proxy, the proxy's, unless the server trusts its forwarded headers: ``uvicorn
    --proxy-headers --forwarded-allow-ips``), an IPv6 address as its /64 network and an
    IPv4-mapped one as the IPv4 address."""
    host = request.client.host if request.client is not None else "unknown"
    return address_key(host)


def address_key(host: str) -> str:
    """``host`` as the throttle counts it (see :func:`client_address`); a name that is not an
    IP address (a test client's) is kept as it is."""
    try:
        ip = ipaddress.ip_address(host)
    except ValueError:
        return host
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ipaddress.IPv6Network(f"{ip}/{IPV6_CLIENT_PREFIX}", strict=False))
    return str(ip)


def sign_in(
    session: Session,
    throttle: Throttle,
    address: str,
    *,
    email: str,
    password: str,
    hasher: argon2.PasswordHasher,
    kind: TokenKind,
    ttl: timedelta,
    revoke: str | None = None,
) -> tuple[str, AuthToken]:
    """Check the credentials and store a new token; returns the raw token (shown once).

    Parameters
    ----------
    session
        The request's session, in a read transaction (no write lock).
    throttle, address
        The lockout and rate limit, and the client's address.
    email, password, hasher
        The credentials and the password hasher.
    kind, ttl
        What token to issue, and for how long.
    revoke
        A token to revoke in the same write transaction (the page's old session cookie).

    Raises
    ------
    LoginThrottledError
        Too many attempts from this address, or the e-mail is locked (429).
    AuthenticationError
        The credentials are not valid (401).
    """
    throttle.admit(address, email)
    try:
        verified = service.verify_credentials(session, email, password, hasher)
        with write_transaction(session):
            if revoke:
                service.revoke_token(session, revoke)
            raw, token = service.start_session(session, verified, kind, ttl)
    except AuthenticationError:
        throttle.failed(address, email)
        raise
    throttle.succeeded(address, email)
    return raw, token


def throttled_response(exc: LoginThrottledError) -> JSONResponse:
    """The API's 429: ``{"detail": ...}`` and ``Retry-After``."""
    return JSONResponse(
        {"detail": str(exc)},
        status_code=429,
        headers={"Retry-After": str(exc.retry_after_s)},
    )
