"""Rendering pages: the Jinja2 environment, flash messages, redirects that htmx understands.

* :func:`render` renders a template with the request, the signed-in user, the session's CSRF
  token and any flash messages (which it then clears).
* :func:`flash` stores a one-shot message in a short-lived signed cookie, shown by the next
  rendered page; no server-side state is needed.
* :func:`redirect` answers a normal request with ``303 See Other`` and an htmx request with
  ``HX-Redirect`` (htmx follows it with a full page load).
"""

from __future__ import annotations

import json
import logging
import re
from typing import Any, Literal

import jinja2
from fastapi import Request, Response, status
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.templating import Jinja2Templates
from itsdangerous import BadSignature, URLSafeTimedSerializer

from openvns import __version__
from openvns.clinic.auth.models import User
from openvns.clinic.auth.security import csrf_token_for
from openvns.clinic.config import Settings
from openvns.clinic.ui.forms import label_of, register_labels

log = logging.getLogger(__name__)

#: Cookie carrying flash messages to the next page.
FLASH_COOKIE = "openvns_flash"
#: How long a flash message may wait for the next page, in seconds.
FLASH_MAX_AGE_S = 120

FlashKind = Literal["info", "success", "warning", "error"]

_env = jinja2.Environment(
    loader=jinja2.PackageLoader("openvns.clinic.ui", "templates"),
    autoescape=jinja2.select_autoescape(default=True, default_for_string=True),
    undefined=jinja2.StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)
#: A form field's label in the templates' field macros: ``m.input('pain_nrs', 'Your pain …'``.
_MACRO_LABEL = re.compile(r"m\.(?:input|textarea|select|scale)\('([a-z0-9_]+)',\s*'([^']+)'")


def _template_labels(env: jinja2.Environment) -> dict[str, str]:
    """Every field label written literally in a template's field macro, by field name: the
    labels the pages show, so an error summary names a field as its form does."""
    assert env.loader is not None
    labels: dict[str, str] = {}
    for name in env.list_templates(extensions=["html"]):
        source = env.loader.get_source(env, name)[0]
        for field, label in _MACRO_LABEL.findall(source):
            labels.setdefault(field, label)
    return labels


register_labels(_template_labels(_env))
#: A form field's human label in templates (``label_of('baseline_nrs')``), as the forms name it.
_env.globals["label_of"] = label_of
templates = Jinja2Templates(env=_env)


#: Navigation per role: (label, path). Pages of a domain add their entries when they exist.
NAV: dict[str, list[tuple[str, str]]] = {
    "clinician": [("Home", "/"), ("Patients", "/patients")],
    "nurse": [("Home", "/"), ("Patients", "/patients")],
    "patient": [("My record", "/"), ("My diary", "/me/diary"), ("My outcomes", "/me/outcomes")],
    "admin": [("Home", "/")],
}


def nav_for(user: User | None) -> list[tuple[str, str]]:
    """The navigation links for ``user``'s role (none when signed out)."""
    return list(NAV.get(user.role, [])) if user is not None else []


def _settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def _flash_serializer(settings: Settings) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(settings.secret_key, salt="openvns-flash")


def is_htmx(request: Request) -> bool:
    """Whether htmx sent the request (it then wants a fragment, not a whole page)."""
    return request.headers.get("HX-Request") == "true"


def wants_html(request: Request) -> bool:
    """Whether the client is a browser asking for a page (not a JSON client)."""
    return is_htmx(request) or "text/html" in request.headers.get("accept", "")


def session_csrf(request: Request) -> str:
    """The CSRF token of the request's page session ('' when it has none)."""
    token = getattr(request.state, "auth_token", None)
    return csrf_token_for(_settings(request).secret_key, token) if token else ""


def flash(request: Request, response: Response, message: str, kind: FlashKind = "info") -> None:
    """Show ``message`` on the next page that is rendered for this browser."""
    messages = [*_read_flashes(request), {"kind": kind, "message": message}]
    value = _flash_serializer(_settings(request)).dumps(messages)
    response.set_cookie(
        FLASH_COOKIE,
        value,
        max_age=FLASH_MAX_AGE_S,
        path="/",
        httponly=True,
        secure=_settings(request).cookie_secure,
        samesite="lax",
    )


def _read_flashes(request: Request) -> list[dict[str, str]]:
    raw = request.cookies.get(FLASH_COOKIE)
    if not raw:
        return []
    try:
        value = _flash_serializer(_settings(request)).loads(raw, max_age=FLASH_MAX_AGE_S)
    except BadSignature:
        log.info("ignored a flash cookie with a bad or expired signature")
        return []
    if not isinstance(value, list):
        return []
    return [m for m in value if isinstance(m, dict)]


def render(
    request: Request,
    name: str,
    context: dict[str, Any] | None = None,
    *,
    user: User | None = None,
    status_code: int = status.HTTP_200_OK,
    headers: dict[str, str] | None = None,
) -> HTMLResponse:
    """Render template ``name``; the base context has ``user``, ``csrf_token`` and ``flashes``.

    A full page consumes the pending flash messages; an htmx fragment leaves them for the next
    full page.
    """
    csrf = session_csrf(request)
    flashes = [] if is_htmx(request) else _read_flashes(request)
    base: dict[str, Any] = {
        "user": user,
        "nav": nav_for(user),
        "csrf_token": csrf,
        "hx_headers": json.dumps({"X-CSRF-Token": csrf}) if csrf else "",
        "flashes": flashes,
        "app_version": __version__,
        "path": request.url.path,
    }
    response = templates.TemplateResponse(
        request, name, {**base, **(context or {})}, status_code=status_code, headers=headers
    )
    if flashes:
        response.delete_cookie(FLASH_COOKIE, path="/")
    return response


def redirect(request: Request, url: str) -> Response:
    """Go to ``url``: ``303`` for a plain form post, ``HX-Redirect`` for htmx."""
    if is_htmx(request):
        return Response(status_code=status.HTTP_204_NO_CONTENT, headers={"HX-Redirect": url})
    return RedirectResponse(url, status_code=status.HTTP_303_SEE_OTHER)
