"""ASGI middleware that holds for every route: security headers, a bound on the request
body, and the cross-site request check of cookie-authenticated changes (CSRF)."""
from __future__ import annotations

from urllib.parse import urlsplit

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from cloud.api.credentials import MalformedAuthorization, bearer_token
from cloud.api.problems import problem

SECURITY_HEADERS = [
    (b"content-security-policy",
     (b"default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
      b"connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; "
      b"frame-ancestors 'none'")),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"same-origin"),
    (b"x-frame-options", b"DENY"),
]
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
SESSION_COOKIE = b"etp_session="
LOGIN_PATH = "/api/accounts/login"  # answers with a new session; an old cookie grants nothing


class SecurityHeaders:
    """Adds the security headers to every answer, errors included."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                names = {name for name, _ in message.get("headers", [])}
                message["headers"] = [*message.get("headers", []),
                                      *(h for h in SECURITY_HEADERS if h[0] not in names)]
            await send(message)

        await self.app(scope, receive, send_with_headers)


class BodyLimit:
    """Answers 413 to a body longer than ``max_bytes``, by its Content-Length or, when it is
    sent in chunks, as soon as the bytes read pass the bound; nothing larger is parsed."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app, self.max_bytes = app, max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        length = Headers(scope=scope).get("content-length")
        if length is not None and (not length.isdigit() or int(length) > self.max_bytes):
            return await self._refuse(scope, receive, send)
        if length is None and scope["method"] not in SAFE_METHODS:
            # chunked: read it here (at most the bound), then hand it on whole
            body = await self._read_bounded(receive)
            if body is None:
                return await self._refuse(scope, receive, send)
            receive = _replay(body, receive)
        await self.app(scope, receive, send)

    async def _read_bounded(self, receive: Receive) -> bytes | None:
        chunks, size = [], 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                return b""
            size += len(message.get("body", b""))
            if size > self.max_bytes:
                return None
            chunks.append(message.get("body", b""))
            if not message.get("more_body", False):
                return b"".join(chunks)

    async def _refuse(self, scope: Scope, receive: Receive, send: Send) -> None:
        answer = problem(413, "too_large", f"request body larger than {self.max_bytes} bytes")
        await answer(scope, receive, send)


def _replay(body: bytes, receive: Receive) -> Receive:
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if sent:
            return await receive()  # a disconnect, when it comes
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    return replay


class CrossSiteCheck:
    """Refuses a state change sent by a page of another site (CSRF).

    A change (any method but GET, HEAD, OPTIONS) that names an ``Origin`` must come from the
    request's own origin or ``allowed_origins``. A change that rides on the session cookie
    alone must prove where it comes from, by ``Origin`` or, from an older browser, ``Referer``.
    API clients sending a bearer token carry no ambient credential and pass; the header is
    read as the authentication reads it (``cloud.api.credentials``), so a Basic or bare
    ``Authorization`` beside a cookie is no bearer token and does not pass."""

    def __init__(self, app: ASGIApp, allowed_origins: list[str]) -> None:
        self.app = app
        self.allowed = {_origin(url) for url in allowed_origins}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] not in SAFE_METHODS:
            reason = self._refusal(scope)
            if reason:
                answer = problem(403, "cross_site", reason)
                return await answer(scope, receive, send)
        await self.app(scope, receive, send)

    def _refusal(self, scope: Scope) -> str | None:
        headers = Headers(scope=scope)
        own = f"{scope.get('scheme', 'http')}://{headers.get('host', '')}"
        allowed = self.allowed | {own}
        origin = headers.get("origin")
        if origin is not None:
            return None if origin in allowed else "cross-site request refused"
        cookie_only = SESSION_COOKIE in headers.get("cookie", "").encode() \
            and not _bearer(headers) and scope["path"] != LOGIN_PATH
        if not cookie_only:
            return None
        referer = headers.get("referer")
        if referer is None or _origin(referer) not in allowed:
            return "a change with the session cookie needs the Origin header of this site"
        return None


def _bearer(headers: Headers) -> bool:
    try:
        return bearer_token(headers.get("authorization")) is not None
    except MalformedAuthorization:
        return False


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"
