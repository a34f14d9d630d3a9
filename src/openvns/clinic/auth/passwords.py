"""The password policy: what a new password must be (user creation, password change, the CLI).

A password must have at least :data:`PASSWORD_MIN` characters, not be all white space, not be
one character repeated, and not be a common password, nor a common password with digits or
symbols added before or after it (``Password1234!``), nor digits and symbols alone. The common
passwords are the top thousand of Mark Burnett's ten million (SecLists, MIT licence), shipped in
``common-passwords.txt`` beside this module with its source and licence.

Each rule failed is described by :func:`password_problem` in words a user can act on; the
schemas turn it into a 422 naming the field, and the CLI into an error message.
"""

from __future__ import annotations

import functools
from importlib import resources

from openvns.errors import ValidationError

#: Fewest characters of a password (NIST SP 800-63B asks for at least 8; the clinic holds
#: patient data and asks for 12).
PASSWORD_MIN = 12
#: Most characters of a password (argon2 hashes any length; this only bounds the work).
PASSWORD_MAX = 1024
#: The package data file of common passwords.
COMMON_PASSWORDS_FILE = "common-passwords.txt"
#: Where the list comes from (the file's header has the full notice).
COMMON_PASSWORDS_SOURCE = (
    "Source: SecLists, Passwords/Common-Credentials/10-million-password-list-top-1000.txt "
    "(github.com/danielmiessler/SecLists, MIT licence), lower-cased, obscene entries left out"
)
#: What a password must be, as a user is told.
PASSWORD_RULES = (
    f"at least {PASSWORD_MIN} characters, not all white space, not one repeated character, "
    "and not a common password"
)

#: Look-alike characters read as the letters they stand for (``p@ssw0rd``).
_LEET = str.maketrans({"@": "a", "4": "a", "0": "o", "3": "e", "$": "s", "5": "s", "7": "t"})
#: What a common password gets padded with.
_PADDING = "0123456789!@#$%^&*()-_=+.,;:?/~`'\"[]{}<>|\\ "


@functools.cache
def common_passwords() -> frozenset[str]:
    """The shipped common passwords (lower case)."""
    text = resources.files(__package__).joinpath(COMMON_PASSWORDS_FILE).read_text("utf-8")
    lines = (line.strip() for line in text.splitlines())
    return frozenset(line for line in lines if line and not line.startswith("#"))


def _is_common(password: str) -> bool:
    lowered = password.strip().lower()
    core = lowered.strip(_PADDING)
    if not core:  # digits and symbols only: 123456789012, 1234-5678-9012
        return True
    common = common_passwords()
    candidates = {lowered, core, lowered.translate(_LEET), core.translate(_LEET)}
    candidates |= {c.strip(_PADDING) for c in list(candidates)}
    return any(c in common for c in candidates)


def password_problem(password: str) -> str | None:
    """Which rule ``password`` breaks, in words; ``None`` when it follows them all."""
    if len(password) < PASSWORD_MIN:
        return f"must have at least {PASSWORD_MIN} characters (has {len(password)})"
    if len(password) > PASSWORD_MAX:
        return f"must have at most {PASSWORD_MAX} characters (has {len(password)})"
    if not password.strip():
        return "must not be all white space"
    if len(set(password)) == 1:
        return "must not be one repeated character"
    if _is_common(password):
        return "must not be a common password (or one with digits or symbols added to it)"
    return None


def check_password(password: str, field: str = "password") -> str:
    """``password`` if it follows the policy.

    Raises
    ------
    openvns.errors.ValidationError
        Naming ``field`` and the rule broken (the value itself is never echoed).
    """
    problem = password_problem(password)
    if problem is not None:
        raise ValidationError(field, "(hidden)", f"{PASSWORD_RULES}; this one {problem}")
    return password


def policy_validator(password: str) -> str:
    """Pydantic ``AfterValidator``: the policy, failing with a message naming the rule."""
    problem = password_problem(password)
    if problem is not None:
        raise ValueError(f"the password {problem}; allowed: {PASSWORD_RULES}")
    return password
