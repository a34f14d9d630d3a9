"""Request-body limit: refuse an oversize body with 413 before anything parses it.

:class:`BodyLimitMiddleware` is a pure ASGI middleware (it never buffers the body itself):

* a declared ``Content-Length`` above the limit is answered 413 at once, without reading one
  byte of the body; a ``Content-Length`` that is not a number is answered 400;
* a body without ``Content-Length`` (``Transfer-Encoding: chunked``, or a declared length that
  lies) is counted as it arrives: the chunk that passes the limit is never handed to the app,
  which therefore holds at most the limit; the request is answered 413 instead of whatever the
  app would have answered (its handler sees :class:`RequestBodyTooLarge` from ``receive``).

Both answers close the connection (``Connection: close``), so the server stops reading the rest
of the body.
"""

from __future__ import annotations

import json
import logging

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

log = logging.getLogger(__name__)


class RequestBodyTooLarge(HTTPException):
    """Raised by ``receive`` once a streamed body passes the limit (FastAPI passes an
    ``HTTPException`` from body reading through unchanged)."""

    def __init__(self, limit: int) -> None:
        super().__init__(status_code=413, detail=too_large_message(limit))


def too_large_message(limit: int, declared: int | None = None) -> str:
    """The 413 message: the limit, and the declared size when there was one."""
    size = f"{declared} bytes" if declared is not None else "more than that"
    return f"request body too large: {size}; the largest body accepted is {limit} bytes"


def _answer(status: int, detail: str) -> tuple[Message, Message]:
    body = json.dumps({"detail": detail}).encode("utf-8")
    start: Message = {
        "type": "http.response.start",
        "status": status,
        "headers": [
            (b"content-type", b"application/json"),
            (b"content-length", str(len(body)).encode("ascii")),
            (b"connection", b"close"),
        ],
    }
    return start, {"type": "http.response.body", "body": body}


async def _send_answer(send: Send, status: int, detail: str) -> None:
    for message in _answer(status, detail):
        await send(message)


def _content_length(scope: Scope) -> bytes | None:
    for name, value in scope.get("headers", ()):
        if name.lower() == b"content-length":
            return bytes(value)
    return None


class BodyLimitMiddleware:
    """Answer 413 to any HTTP request whose body exceeds ``max_body_bytes``.

    Parameters
    ----------
    app
        The ASGI app to protect.
    max_body_bytes
        The largest body accepted, in bytes (0 or more); a body of exactly this size passes.
    """

    def __init__(self, app: ASGIApp, max_body_bytes: int) -> None:
        if max_body_bytes < 0:
            raise ValueError(f"max_body_bytes = {max_body_bytes} is not allowed; allowed: >= 0")
        self.app = app
        self.max_body_bytes = max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.max_body_bytes
        declared = _content_length(scope)
        if declared is not None:
            text = declared.decode("latin-1").strip()
            if not text.isdigit():
                detail = f"Content-Length = {text!r} is not allowed; allowed: a byte count"
                await _send_answer(send, 400, detail)
                return
            if int(text) > limit:
                log.info("refused a declared body of %s bytes (limit %d)", text, limit)
                await _send_answer(send, 413, too_large_message(limit, int(text)))
                return

        received = 0
        exceeded = False  # the body passed the limit
        started = False  # a response has started
        replaced = False  # ... and it is our 413, not the app's answer

        async def limited_receive() -> Message:
            nonlocal received, exceeded
            if exceeded:
                raise RequestBodyTooLarge(limit)
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    exceeded = True
                    log.info("refused a streamed body past %d bytes", limit)
                    raise RequestBodyTooLarge(limit)
            return message

        async def guarded_send(message: Message) -> None:
            nonlocal started, replaced
            if message["type"] == "http.response.start" and not started:
                started = True
                if exceeded:  # whatever the app answers to the cut body, the client gets 413
                    replaced = True
                    await _send_answer(send, 413, too_large_message(limit))
                    return
            if not replaced:
                await send(message)

        try:
            await self.app(scope, limited_receive, guarded_send)
        except RequestBodyTooLarge:
            if replaced:
                return
            if started:
                raise
            started = replaced = True
            await _send_answer(send, 413, too_large_message(limit))
