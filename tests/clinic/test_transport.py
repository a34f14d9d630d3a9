"""Transport hardening: request-body limit (413 before parsing), security headers, Secure cookies
from the CLI, and Swagger UI served by the app itself (issue 12)."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import re
import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session
from starlette.types import Message, Receive, Scope, Send
from typer.testing import CliRunner

from openvns.cli.main import app as cli_app
from openvns.clinic.app import create_app
from openvns.clinic.auth.models import Role
from openvns.clinic.config import Settings
from openvns.clinic.db.session import get_session, transaction
from openvns.clinic.limits import BodyLimitMiddleware
from tests.clinic.conftest import UserFactory
from tests.clinic.test_pages import HTML, HTMX, PatientFactory, _login, make_patient
from tests.clinic.test_pages_care import SAFE, _hidden

__all__ = ["make_patient"]  # a fixture, used by name

#: A small body limit, so that the tests can go one byte over it cheaply.
LIMIT = 256
TEMPLATES = Path(__file__).parents[2] / "src" / "openvns" / "clinic" / "ui" / "templates"


def _client(app: FastAPI, db: Session) -> TestClient:
    def test_session() -> Iterator[Session]:
        db.expire_all()
        with transaction(db):
            yield db

    app.dependency_overrides[get_session] = test_session
    return TestClient(app, raise_server_exceptions=False)


@pytest.fixture
def own_client(settings: Settings, db: Session) -> Iterator[TestClient]:
    """A client of an app of its own (its sign-in throttle fresh, whatever ran before)."""
    app = create_app(settings)
    yield _client(app, db)
    app.state.engine.dispose()


@pytest.fixture
def small(settings: Settings, db: Session) -> Iterator[TestClient]:
    """A client of an app whose body limit is :data:`LIMIT` bytes."""
    app = create_app(replace(settings, max_body_bytes=LIMIT))
    yield _client(app, db)
    app.state.engine.dispose()


def _login_json(size: int) -> bytes:
    """A sign-in body of exactly ``size`` bytes (JSON padded with spaces)."""
    body = json.dumps({"email": "nobody@example.org", "password": "wrong password!"}).encode()
    assert len(body) <= size
    return body + b" " * (size - len(body))


# --- request-body limit -----------------------------------------------------------------------


def test_body_one_byte_over_the_limit_is_refused_with_413(small: TestClient) -> None:
    r = small.post(
        "/api/v1/auth/token",
        content=_login_json(LIMIT + 1),
        headers={"Content-Type": "application/json"},
    )
    assert r.status_code == 413
    assert f"{LIMIT} bytes" in r.json()["detail"]
    assert str(LIMIT + 1) in r.json()["detail"]


def test_body_at_the_limit_is_accepted(small: TestClient) -> None:
    r = small.post(
        "/api/v1/auth/token",
        content=_login_json(LIMIT),
        headers={"Content-Type": "application/json"},
    )
    assert r.status_code == 401, r.text  # parsed and answered: wrong e-mail or password


def test_chunked_body_over_the_limit_is_refused_with_413(small: TestClient) -> None:
    body = _login_json(LIMIT + 1)

    def chunks() -> Iterator[bytes]:
        for i in range(0, len(body), 50):
            yield body[i : i + 50]

    r = small.post(
        "/api/v1/auth/token", content=chunks(), headers={"Content-Type": "application/json"}
    )
    assert "content-length" not in {k.lower() for k in r.request.headers}
    assert r.status_code == 413
    assert f"{LIMIT} bytes" in r.json()["detail"]


def test_page_form_over_the_limit_is_refused_with_413(small: TestClient) -> None:
    r = small.post("/auth/login", data={"email": "x@example.org", "password": "p" * LIMIT})
    assert r.status_code == 413


def test_a_body_within_the_limit_cannot_fan_out_into_a_huge_422(own_client: TestClient) -> None:
    """Within the limit, a JSON object with thousands of unknown keys got one echoed error per
    key (a 1 MB body: 89 000 errors, a 9 MB answer, a second of encoding on the event loop):
    the 422 lists the first errors and says how many more there were."""
    from openvns.clinic.app import MAX_VALIDATION_ERRORS

    body = {"email": "a@example.org", "password": "x" * 12}
    body |= {f"k{i}": 0 for i in range(2000)}
    r = own_client.post("/api/v1/auth/token", json=body)
    assert r.status_code == 422
    detail = r.json()["detail"]
    assert len(detail) == MAX_VALIDATION_ERRORS + 1
    assert detail[-1]["type"] == "too_many_errors"
    assert f"{2000 - MAX_VALIDATION_ERRORS} more" in detail[-1]["msg"]
    few = own_client.post("/api/v1/auth/token", json={"email": "a@example.org", "k": 1})
    assert all(item["type"] != "too_many_errors" for item in few.json()["detail"])


def test_a_get_without_body_is_untouched(small: TestClient) -> None:
    assert small.get("/healthz").status_code == 200


def _run(
    middleware: BodyLimitMiddleware, scope: Scope, chunks: list[bytes]
) -> tuple[list[Message], list[str]]:
    """Run ``middleware`` over a request whose body arrives in ``chunks``; the messages sent
    and a log of the ``receive`` calls."""
    sent: list[Message] = []
    events: list[str] = []
    pending = list(chunks)

    async def receive() -> Message:
        events.append("receive")
        chunk = pending.pop(0)
        return {"type": "http.request", "body": chunk, "more_body": bool(pending)}

    async def send(message: Message) -> None:
        sent.append(message)

    asyncio.run(middleware(scope, receive, send))
    return sent, events


def _scope(headers: list[tuple[bytes, bytes]]) -> Scope:
    return {"type": "http", "method": "POST", "path": "/x", "headers": headers}


class _ReadsAll:
    """An ASGI app that reads the whole body (as a JSON parser would), then answers 200."""

    def __init__(self) -> None:
        self.received = 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        more = True
        while more:
            message = await receive()
            self.received += len(message.get("body", b""))
            more = message.get("more_body", False)
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"ok"})


def test_declared_length_over_the_limit_is_refused_before_reading() -> None:
    inner = _ReadsAll()
    headers = [(b"content-length", str(10**9).encode())]
    sent, events = _run(BodyLimitMiddleware(inner, max_body_bytes=100), _scope(headers), [])
    assert events == []  # not one byte read
    assert sent[0]["status"] == 413
    assert (b"connection", b"close") in sent[0]["headers"]
    assert b"100 bytes" in sent[1]["body"]


def test_streamed_body_is_cut_at_the_limit() -> None:
    inner = _ReadsAll()
    chunks = [b"x" * 40] * 100  # 4000 bytes, no Content-Length
    sent, events = _run(BodyLimitMiddleware(inner, max_body_bytes=100), _scope([]), chunks)
    assert inner.received <= 100  # the app never holds more than the limit
    assert len(events) == 3  # 40 + 40 + 40 > 100: nothing read after that
    assert sent[0]["status"] == 413
    assert [m["type"] for m in sent] == ["http.response.start", "http.response.body"]


def test_streamed_body_at_the_limit_passes() -> None:
    inner = _ReadsAll()
    sent, _ = _run(BodyLimitMiddleware(inner, max_body_bytes=100), _scope([]), [b"x" * 50] * 2)
    assert inner.received == 100
    assert sent[0]["status"] == 200


def test_bad_content_length_is_refused_with_400() -> None:
    headers = [(b"content-length", b"12abc")]
    sent, events = _run(BodyLimitMiddleware(_ReadsAll(), max_body_bytes=100), _scope(headers), [])
    assert events == []
    assert sent[0]["status"] == 400
    assert b"12abc" in sent[1]["body"]


def test_negative_limit_is_refused() -> None:
    with pytest.raises(ValueError, match="max_body_bytes"):
        BodyLimitMiddleware(_ReadsAll(), max_body_bytes=-1)


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@pytest.fixture
def served(tmp_path: Path) -> Iterator[int]:
    """The clinic under uvicorn on 127.0.0.1 (limit :data:`LIMIT`); yields the port."""
    import uvicorn

    settings = Settings(database_url=f"sqlite:///{tmp_path / 'c.sqlite3'}", secret_key="k")
    app = create_app(replace(settings, max_body_bytes=LIMIT))
    port = _free_port()
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on")
    )
    thread = threading.Thread(target=server.run, name="transport-uvicorn", daemon=True)
    thread.start()
    for _ in range(1000):  # bounded wait for start-up
        if server.started or not thread.is_alive():
            break
        time.sleep(0.02)
    assert server.started, "uvicorn did not start"
    try:
        yield port
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def test_uvicorn_answers_413_while_a_chunked_body_is_still_coming(served: int) -> None:
    """A client streaming a body without end gets 413 once it has sent more than the limit:
    the server does not wait for the rest (before the limit it waited for ever)."""
    with socket.create_connection(("127.0.0.1", served), timeout=10) as sock:
        sock.sendall(
            b"POST /api/v1/auth/token HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            b"Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
        )
        chunk = b"100\r\n" + b" " * 256 + b"\r\n"  # 256 bytes: at the limit, then past it
        sock.sendall(chunk + chunk)  # and no terminating chunk: the body never ends
        answer = b""
        while b"\r\n\r\n" not in answer:
            data = sock.recv(65536)
            if not data:
                break
            answer += data
    assert answer.startswith(b"HTTP/1.1 413"), answer[:200]
    assert b"connection: close" in answer.lower()


# --- security headers -------------------------------------------------------------------------

CSP_REQUIRED = (
    "default-src 'self'",
    "frame-ancestors 'none'",
    "object-src 'none'",
    "base-uri 'self'",
    "form-action 'self'",
)


def _assert_security_headers(r: Any, *, no_store: bool = True) -> None:
    csp = r.headers["content-security-policy"]
    for directive in CSP_REQUIRED:
        assert directive in csp, (directive, csp)
    assert "unsafe-inline" not in csp
    assert "unsafe-eval" not in csp
    assert r.headers["x-frame-options"] == "DENY"
    assert r.headers["x-content-type-options"] == "nosniff"
    assert r.headers["referrer-policy"] == "no-referrer"
    if no_store:
        assert r.headers["cache-control"] == "no-store"


def test_security_headers_on_a_page(client: TestClient) -> None:
    r = client.get("/auth/login", headers={"Accept": "text/html"})
    assert r.status_code == 200
    _assert_security_headers(r)


def test_security_headers_on_an_api_response(
    client: TestClient, as_role: Callable[[str], dict[str, str]]
) -> None:
    r = client.get("/api/v1/patients", headers=as_role("clinician"))
    assert r.status_code == 200
    _assert_security_headers(r)


@pytest.mark.parametrize(
    ("path", "accept", "status"),
    [
        ("/api/v1/patients", "application/json", 401),
        ("/no/such/page", "text/html", 404),
        ("/api/v1/no-such-thing", "application/json", 404),
    ],
)
def test_security_headers_on_error_responses(
    client: TestClient, path: str, accept: str, status: int
) -> None:
    r = client.get(path, headers={"Accept": accept})
    assert r.status_code == status
    _assert_security_headers(r)


def test_security_headers_on_a_413(small: TestClient) -> None:
    r = small.post("/api/v1/auth/token", content=b" " * (LIMIT + 1))
    assert r.status_code == 413
    _assert_security_headers(r)


def test_security_headers_on_an_unhandled_500(settings: Settings) -> None:
    app = create_app(settings)

    @app.get("/boom")
    def boom() -> None:
        raise RuntimeError("boom")

    r = TestClient(app, raise_server_exceptions=False).get("/boom")
    assert r.status_code == 500
    _assert_security_headers(r)
    app.state.engine.dispose()


def test_programming_confirmation_cannot_be_framed(
    own_client: TestClient, make_user: UserFactory, make_patient: PatientFactory
) -> None:
    """The session page and the one-button confirmation (the checked proposal) both forbid
    framing, so another site cannot overlay the button (clickjacking)."""
    patient = make_patient("Fay Frame")
    csrf = _login(own_client, make_user(Role.CLINICIAN))
    reg = {"csrf_token": csrf, "generator_model": "1000", "lead_model": "304-20"}
    reg["generator_serial"] = "SN-FRAME"
    r = own_client.post(f"/patients/{patient.id}/implants", data=reg, headers=HTML)
    start = re.search(r'action="(/implants/\d+/sessions)"', r.text)
    assert start, r.text
    page = own_client.post(start.group(1), data={"csrf_token": csrf}, headers=HTML)
    assert page.status_code == 200
    version = _hidden(page.text, "implant_version")
    session_url = str(page.url).removeprefix("http://testserver")
    proposal = own_client.post(
        f"{session_url}/proposals",
        data={**SAFE, "csrf_token": csrf, "implant_version": version},
        headers=HTMX,
    )
    assert "confirm-form" in proposal.text
    for r in (page, proposal):
        assert r.headers["x-frame-options"] == "DENY"
        assert "frame-ancestors 'none'" in r.headers["content-security-policy"]
        assert r.headers["cache-control"] == "no-store"


def test_static_assets_and_healthz_may_be_cached(client: TestClient) -> None:
    for path in ("/static/clinic.css", "/healthz"):
        r = client.get(path)
        assert r.status_code == 200
        assert "no-store" not in r.headers.get("cache-control", ""), path
        assert r.headers["x-content-type-options"] == "nosniff"


#: Markup that a CSP without 'unsafe-inline' blocks: inline scripts and styles, style
#: attributes, event-handler attributes, javascript: URLs and htmx's evaluated hx-on.
INLINE = re.compile(
    r"<script(?![^>]*\ssrc=)[^>]*>|<style\b|\sstyle\s*=|\son[a-z]+\s*=|javascript:|hx-on",
    re.IGNORECASE,
)


def test_templates_have_no_inline_script_style_or_handlers() -> None:
    found = [
        f"{path.relative_to(TEMPLATES)}:{lineno}: {match.group(0)}"
        for path in sorted(TEMPLATES.rglob("*.html"))
        for lineno, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        for match in INLINE.finditer(line)
    ]
    assert found == [], "move these into static/clinic.js or clinic.css (the CSP blocks them)"


def test_inline_styles_are_named_by_their_hash() -> None:
    from openvns.clinic.headers import content_security_policy

    digest = base64.b64encode(hashlib.sha256(b"p{color:red}").digest()).decode()
    csp = content_security_policy(inline_styles=["p{color:red}"])
    assert f"style-src 'self' 'sha256-{digest}'" in csp


def test_the_printable_report_keeps_its_style_under_the_csp(
    client: TestClient, as_role: Callable[[str], dict[str, str]]
) -> None:
    """The report is one self-contained file with its own <style>: the CSP names that
    stylesheet's hash, so it applies without 'unsafe-inline'."""
    headers = as_role("clinician")
    patient = {"mrn": "T-1", "full_name": "T P", "date_of_birth": "1970-01-01", "sex": "female"}
    created = client.post("/api/v1/patients", json=patient, headers=headers)
    assert created.status_code == 201, created.text
    r = client.get(f"/api/v1/patients/{created.json()['id']}/outcomes/report", headers=headers)
    assert r.status_code == 200, r.text
    _assert_security_headers(r)
    styles = re.findall(r"<style>(.*?)</style>", r.text, re.DOTALL)
    assert styles
    for style in styles:
        digest = base64.b64encode(hashlib.sha256(style.encode()).digest()).decode()
        assert f"'sha256-{digest}'" in r.headers["content-security-policy"]


# --- Secure cookies from the CLI --------------------------------------------------------------

runner = CliRunner()


@pytest.fixture
def serve_calls(monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    import uvicorn

    calls: dict[str, Any] = {}
    monkeypatch.setattr(uvicorn, "run", lambda app, **kw: calls.update(app=app, **kw))
    monkeypatch.delenv("OPENVNS_SECURE_COOKIES", raising=False)
    return calls


def test_serve_secure_cookies_option(tmp_path: Path, serve_calls: dict[str, Any]) -> None:
    url = f"sqlite:///{tmp_path / 's.sqlite3'}"
    result = runner.invoke(cli_app, ["clinic", "serve", "--database-url", url])
    assert result.exit_code == 0, result.output
    assert serve_calls["app"].state.settings.cookie_secure is False
    result = runner.invoke(cli_app, ["clinic", "serve", "--database-url", url, "--secure-cookies"])
    assert result.exit_code == 0, result.output
    assert serve_calls["app"].state.settings.cookie_secure is True


@pytest.mark.parametrize(("value", "secure"), [("1", True), ("true", True), ("0", False)])
def test_serve_secure_cookies_from_the_environment(
    tmp_path: Path, serve_calls: dict[str, Any], value: str, secure: bool
) -> None:
    url = f"sqlite:///{tmp_path / 's.sqlite3'}"
    result = runner.invoke(
        cli_app,
        ["clinic", "serve", "--database-url", url],
        env={"OPENVNS_SECURE_COOKIES": value},
    )
    assert result.exit_code == 0, result.output
    assert serve_calls["app"].state.settings.cookie_secure is secure


def test_secure_cookies_mark_the_session_cookie(settings: Settings, db: Session) -> None:
    app = create_app(replace(settings, cookie_secure=True))
    r = _client(app, db).get("/auth/login", headers={"Accept": "text/html"})
    cookies = r.headers.get_list("set-cookie")
    assert cookies, "the sign-in page sets its CSRF cookie"
    assert all("secure" in c.lower() for c in cookies)
    app.state.engine.dispose()


# --- Swagger UI served by the app -------------------------------------------------------------


def test_docs_page_loads_nothing_from_the_network(client: TestClient) -> None:
    r = client.get("/api/v1/docs")
    assert r.status_code == 200
    assert "https://" not in r.text
    assert "http://" not in r.text
    sources = re.findall(r'(?:src|href)="([^"]+)"', r.text)
    assert any(s.endswith("swagger-ui-bundle.js") for s in sources)
    assert any(s.endswith("swagger-ui.css") for s in sources)
    for source in sources:
        asset = client.get(source)
        assert asset.status_code == 200, source
        assert len(asset.content) > 100, source
    assert "<script>" not in r.text  # no inline script: the CSP would block it
    _assert_security_headers(r)


# --- the body arrives in full before the app runs ----------------------------------------------


def _drive(middleware: BodyLimitMiddleware, chunks: list[bytes], stall: bool) -> list[Message]:
    """Drive the middleware with a POST whose body comes in ``chunks`` (and then never ends when
    ``stall``); returns the messages it sent."""
    sent: list[Message] = []

    async def receive() -> Message:
        if chunks:
            body = chunks.pop(0)
            return {"type": "http.request", "body": body, "more_body": bool(chunks) or stall}
        await asyncio.sleep(3600)  # a client that never sends the rest
        raise AssertionError("unreachable")

    async def send(message: Message) -> None:
        sent.append(message)

    scope = {"type": "http", "method": "POST", "path": "/x", "headers": []}
    asyncio.run(middleware(scope, receive, send))
    return sent


def test_a_slow_body_never_reaches_the_app() -> None:
    """A client that stops sending half-way gets 408 and the app is never entered (its handler
    would otherwise hold a session, an admission slot and the write lock while it waited)."""
    entered: list[str] = []

    async def app(scope: Message, receive: Any, send: Any) -> None:
        entered.append(scope["path"])

    sent = _drive(BodyLimitMiddleware(app, max_body_bytes=1000, body_timeout_s=0.2), [b"a="], True)
    assert entered == []
    assert sent[0]["status"] == 408


def test_the_app_gets_the_whole_body_at_once() -> None:
    """A body in three chunks: the app is entered after the last one and reads them all."""
    bodies: list[bytes] = []

    async def app(scope: Message, receive: Any, send: Any) -> None:
        while True:
            message = await receive()
            bodies.append(message["body"])
            if not message.get("more_body"):
                break
        await send({"type": "http.response.start", "status": 204, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    mw = BodyLimitMiddleware(app, max_body_bytes=1000, body_timeout_s=5)
    sent = _drive(mw, [b"a=1", b"&b=", b"2"], False)
    assert b"".join(bodies) == b"a=1&b=2"
    assert sent[0]["status"] == 204


def test_every_operation_with_a_body_declares_the_transport_answers(client: TestClient) -> None:
    schema = client.get("/api/v1/openapi.json").json()
    with_body = [
        (path, method, op)
        for path, item in schema["paths"].items()
        for method, op in item.items()
        if isinstance(op, dict) and "requestBody" in op
    ]
    assert len(with_body) > 10
    for path, method, op in with_body:
        for code in ("400", "408", "413"):
            assert code in op["responses"], (method, path, code)
            assert "application/json" in op["responses"][code]["content"]
