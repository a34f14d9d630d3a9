"""Request bodies: refused with 413 above the limit, and read whole before the app runs.

:class:`BodyLimitMiddleware` is a pure ASGI middleware:

* a declared ``Content-Length`` above the limit is answered 413 at once, without reading one
  byte of the body; a ``Content-Length`` that is not a number is answered 400;
* otherwise the body is read **in full before the app is called** (at most the limit is held:
  a chunked body, or a declared length that lies, is counted as it arrives and answered 413 the
  moment it passes the limit), within ``body_timeout_s`` (408 after it). A handler therefore
  never waits on a slow client while it holds a database session, an admission slot or the
  write lock: a client that sent ``Content-Length: 100`` and then two bytes could otherwise keep
  SQLite's write lock for as long as it liked (the request's session is opened, with the write
  lock for a writing route, before its form is parsed).

The 413, 400 and 408 answers close the connection (``Connection: close``), so the server stops
reading the rest of the body.
"""

from __future__ import annotations

import asyncio
import json
import logging

from starlette.types import ASGIApp, Message, Receive, Scope, Send

log = logging.getLogger(__name__)


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
    """Answer 413 to any HTTP request whose body exceeds ``max_body_bytes``, and hand the app
    only requests whose body has arrived in full.

    Parameters
    ----------
    app
        The ASGI app to protect.
    max_body_bytes
        The largest body accepted, in bytes (0 or more); a body of exactly this size passes.
    body_timeout_s
        Seconds the whole body may take to arrive (408 after that).
    """

    def __init__(self, app: ASGIApp, max_body_bytes: int, body_timeout_s: float = 30.0) -> None:
        if max_body_bytes < 0:
            raise ValueError(f"max_body_bytes = {max_body_bytes} is not allowed; allowed: >= 0")
        if not body_timeout_s > 0:
            raise ValueError(f"body_timeout_s = {body_timeout_s} is not allowed; allowed: > 0")
        self.app = app
        self.max_body_bytes = max_body_bytes
        self.body_timeout_s = body_timeout_s

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.max_body_bytes
        declared = _content_length(scope)
        if declared is not None:
            text = declared.decode("latin-1").strip()
            if not (text.isascii() and text.isdigit()):
                detail = f"Content-Length = {text!r} is not allowed; allowed: a byte count"
                await _send_answer(send, 400, detail)
                return
            if int(text) > limit:
                log.info("refused a declared body of %s bytes (limit %d)", text, limit)
                await _send_answer(send, 413, too_large_message(limit, int(text)))
                return

        messages: list[Message] = []
        received = 0
        try:
            async with asyncio.timeout(self.body_timeout_s):
                while True:
                    message = await receive()
                    if message["type"] != "http.request":  # the client went away
                        return
                    messages.append(message)
                    received += len(message.get("body", b""))
                    if received > limit:
                        log.info("refused a streamed body past %d bytes", limit)
                        await _send_answer(send, 413, too_large_message(limit))
                        return
                    if not message.get("more_body", False):
                        break
        except TimeoutError:
            log.info("request body not complete after %.0f s (%d bytes)", self.body_timeout_s,
                     received)  # fmt: skip
            detail = (
                f"request body not received within {self.body_timeout_s:g} s; a body must "
                "arrive in full within that time"
            )
            await _send_answer(send, 408, detail)
            return

        async def replay() -> Message:
            if messages:
                return messages.pop(0)
            return await receive()  # after the body: the disconnect, as the server gives it

        await self.app(scope, replay, send)
