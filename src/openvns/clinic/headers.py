"""Security headers on every response of the clinic.

:class:`SecurityHeadersMiddleware` (pure ASGI) adds to every HTTP response, error pages and the
server's own 500 included:

* ``Content-Security-Policy`` (:func:`content_security_policy`): scripts, styles, fonts and
  connections from the clinic itself only, no inline script, no ``eval``, no plugins, no
  ``<base>`` elsewhere, forms post only to the clinic, and no framing by anyone
  (``frame-ancestors 'none'``); images also from ``data:`` URLs (the printable report embeds
  its figures). Inline ``<style>`` is allowed only by the SHA-256 of an exact stylesheet the app
  registers (the report's). A response that sets its own policy keeps it.
* ``X-Frame-Options: DENY`` (browsers without CSP level 2), ``X-Content-Type-Options: nosniff``
  and ``Referrer-Policy: no-referrer``;
* ``Cache-Control: no-store`` on everything that may carry patient data: every response except
  the static assets (``/static/``) and ``/healthz``.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Iterable

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

#: Paths whose responses carry no patient data and may be cached: the static assets and the
#: liveness probe.
CACHEABLE_PREFIXES = ("/static/",)
CACHEABLE_PATHS = frozenset({"/healthz"})

#: Headers every response gets, whatever the app set.
FIXED_HEADERS = {
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}


def style_hash(css: str) -> str:
    """The CSP source (``'sha256-…'``) that allows the inline ``<style>`` holding ``css``."""
    digest = hashlib.sha256(css.encode("utf-8")).digest()
    return f"'sha256-{base64.b64encode(digest).decode('ascii')}'"


def content_security_policy(inline_styles: Iterable[str] = ()) -> str:
    """The clinic's Content-Security-Policy.

    Parameters
    ----------
    inline_styles
        Exact contents of ``<style>`` elements the app sends (allowed by their hash).
    """
    style = " ".join(["'self'", *(style_hash(css) for css in inline_styles)])
    directives = [
        "default-src 'self'",
        "script-src 'self'",
        f"style-src {style}",
        "img-src 'self' data:",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
    return "; ".join(directives)


def may_be_cached(path: str) -> bool:
    """Whether the response to ``path`` carries no patient data (static assets, ``/healthz``)."""
    return path in CACHEABLE_PATHS or path.startswith(CACHEABLE_PREFIXES)


class SecurityHeadersMiddleware:
    """Add the security headers to every HTTP response of ``app``.

    Parameters
    ----------
    app
        The ASGI app.
    csp
        The Content-Security-Policy (see :func:`content_security_policy`); set on responses
        that have none of their own.
    """

    def __init__(self, app: ASGIApp, csp: str | None = None) -> None:
        self.app = app
        self.csp = csp if csp is not None else content_security_policy()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        no_store = not may_be_cached(scope.get("path", ""))

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = list(message.get("headers", ()))
                headers = MutableHeaders(scope=message)
                headers.setdefault("Content-Security-Policy", self.csp)
                for name, value in FIXED_HEADERS.items():
                    headers[name] = value
                if no_store:
                    headers["Cache-Control"] = "no-store"
            await send(message)

        await self.app(scope, receive, send_with_headers)
