"""Password hashing (argon2), random tokens stored as hashes, and CSRF tokens.

* Passwords: argon2id via argon2-cffi, with its default parameters unless settings lower them.
  A sign-in for an unknown e-mail verifies against a dummy hash made once per set of
  parameters (:func:`dummy_hash`), so it costs exactly what a wrong password costs: one verify.
* Session and bearer tokens: 32 random bytes (URL-safe text) given to the client once; the
  database keeps only their SHA-256, so a copy of the database cannot be used to sign in.
* CSRF, signed in: the token is an HMAC of the session token under the secret key. It is
  bound to the session, needs no storage and dies with the session.
* CSRF, before sign-in (login form): a double-submit token, a signed timestamped nonce that must
  arrive both in a cookie and in the form.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading

import argon2
from itsdangerous import BadSignature, URLSafeTimedSerializer

from openvns.clinic.auth.hashing import BackgroundPasswordHasher

#: Bytes of randomness in a session or bearer token.
TOKEN_BYTES = 32
#: How long a login-form CSRF token stays valid, in seconds.
LOGIN_CSRF_MAX_AGE_S = 3600


def make_password_hasher(parameters: argon2.Parameters | None = None) -> argon2.PasswordHasher:
    """An argon2id hasher: argon2-cffi's defaults, or ``parameters`` when given, hashing at
    lower CPU priority (:class:`~openvns.clinic.auth.hashing.BackgroundPasswordHasher`). Its
    dummy hash is made now, so that no sign-in ever pays for it."""
    if parameters is None:
        hasher: argon2.PasswordHasher = BackgroundPasswordHasher()
    else:
        hasher = BackgroundPasswordHasher.from_parameters(parameters)
    dummy_hash(hasher)
    return hasher


_DUMMY_PASSWORD = "not the password of any account"
_dummy_hashes: dict[tuple[object, ...], str] = {}
_dummy_lock = threading.Lock()


def dummy_hash(hasher: argon2.PasswordHasher) -> str:
    """A hash made with ``hasher``'s parameters, to verify against when the e-mail is unknown.

    Made once per set of parameters (under a lock, so concurrent first sign-ins make it once)
    and cached for the life of the process.
    """
    key = (
        hasher.time_cost,
        hasher.memory_cost,
        hasher.parallelism,
        hasher.hash_len,
        hasher.salt_len,
        hasher.type,
    )
    with _dummy_lock:
        cached = _dummy_hashes.get(key)
        if cached is None:
            cached = _dummy_hashes[key] = hasher.hash(_DUMMY_PASSWORD)
    return cached


def new_token() -> str:
    """A fresh random token for a session cookie or a bearer token."""
    return secrets.token_urlsafe(TOKEN_BYTES)


def hash_token(token: str) -> str:
    """The SHA-256 (hex) under which a token is stored and looked up."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def csrf_token_for(secret_key: str, session_token: str) -> str:
    """The CSRF token of a page session: HMAC-SHA256 of its token under the secret key."""
    return hmac.new(
        secret_key.encode("utf-8"), b"csrf:" + session_token.encode("utf-8"), hashlib.sha256
    ).hexdigest()


def csrf_token_valid(secret_key: str, session_token: str, given: str | None) -> bool:
    """Whether ``given`` is the CSRF token of ``session_token`` (constant-time compare)."""
    if not given:
        return False
    return hmac.compare_digest(csrf_token_for(secret_key, session_token), given)


def _login_serializer(secret_key: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(secret_key, salt="openvns-login-csrf")


def new_login_csrf(secret_key: str) -> str:
    """A signed, timestamped nonce for the login form (and its cookie)."""
    return _login_serializer(secret_key).dumps(secrets.token_urlsafe(16))


def login_csrf_valid(secret_key: str, cookie: str | None, given: str | None) -> bool:
    """Double-submit check: cookie and form agree, and the token is signed and fresh."""
    if not cookie or not given or not hmac.compare_digest(cookie, given):
        return False
    try:
        _login_serializer(secret_key).loads(given, max_age=LOGIN_CSRF_MAX_AGE_S)
    except BadSignature:
        return False
    return True
