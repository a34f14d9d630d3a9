"""Request and response bodies of the auth API. Limits match the table columns."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from openvns.clinic.auth.models import EMAIL_MAX, NAME_MAX, Role
from openvns.clinic.auth.passwords import PASSWORD_MAX as PASSWORD_MAX
from openvns.clinic.auth.passwords import PASSWORD_MIN as PASSWORD_MIN
from openvns.clinic.auth.passwords import policy_validator
from openvns.clinic.schemas import PlainText

#: A character of an e-mail address: not ``@``, a control character or white space. Spelled
#: out, not ``\s``, which means different characters in Python, in pydantic's Rust regex and
#: in the ECMA-262 regex of the JSON Schema (``\x85``, ``\ufeff``, ``\x1c``-``\x1f``).
_EMAIL_CHAR = r"[^@\x00-\x20\x7f-\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\ufeff]"
#: A deliberately simple e-mail shape (one ``@``, a dot in the domain, no spaces).
EMAIL_PATTERN = rf"^{_EMAIL_CHAR}+@{_EMAIL_CHAR}+\.{_EMAIL_CHAR}+$"
Email = Annotated[
    str,
    Field(max_length=EMAIL_MAX, pattern=EMAIL_PATTERN, examples=["a.clinician@example.org"]),
    AfterValidator(str.lower),
]
FullName = Annotated[str, Field(min_length=1, max_length=NAME_MAX), PlainText()]
#: What a sign-in accepts (any text: a wrong e-mail address is simply not found).
SignInEmail = Annotated[str, Field(min_length=1, max_length=EMAIL_MAX), PlainText()]
SignInPassword = Annotated[str, Field(min_length=1, max_length=PASSWORD_MAX), PlainText()]
#: A new password: the length in the schema, the rest of the policy
#: (:mod:`openvns.clinic.auth.passwords`) after it, each broken rule a 422 naming the field.
NewPassword = Annotated[
    str,
    Field(min_length=PASSWORD_MIN, max_length=PASSWORD_MAX),
    PlainText(),
    AfterValidator(policy_validator),
]


class UserCreate(BaseModel):
    """A new user (admin only)."""

    model_config = ConfigDict(extra="forbid")

    email: Email
    full_name: FullName
    role: Role
    password: NewPassword


class UserRead(BaseModel):
    """A user as the API shows it (never the password hash)."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    email: str
    full_name: str
    role: Role
    active: bool
    created_at: datetime


class PasswordChange(BaseModel):
    """The signed-in user's current password and the new one."""

    model_config = ConfigDict(extra="forbid")

    current_password: SignInPassword
    new_password: NewPassword


class TokensRevoked(BaseModel):
    """How many sessions and bearer tokens were revoked."""

    revoked: int


class TokenRequest(BaseModel):
    """E-mail and password exchanged for a bearer token."""

    model_config = ConfigDict(extra="forbid")

    email: SignInEmail
    password: SignInPassword


class TokenResponse(BaseModel):
    """An opaque bearer token: send it as ``Authorization: Bearer <access_token>``."""

    access_token: str
    token_type: Literal["bearer"] = "bearer"
    expires_at: datetime


class SessionInfo(BaseModel):
    """The signed-in page user and the CSRF token to send with unsafe requests."""

    user: UserRead
    csrf_token: str


class LoginForm(BaseModel):
    """Fields of the page login form."""

    email: SignInEmail
    password: SignInPassword
    csrf_token: Annotated[str, Field(max_length=512), PlainText()] = ""
