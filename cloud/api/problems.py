"""The one answer to every refusal of the app (``cloud.api.refusals.Refusal``), installed
once by the app factory.

API callers get RFC 9457 problem details (``application/problem+json``) with the refusal's
reason as its ``type`` (a relative URI reference) and again as the ``reason`` member, so a
page script and a test read one word; a person on a page gets the refusal page in their
language, never JSON. Framework refusals (an unknown route, a validation error, text that is
not Unicode, an uncaught error) go through the same two shapes."""
from __future__ import annotations

from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from sqlalchemy.exc import OperationalError
from starlette.exceptions import HTTPException as StarletteHTTPException

from cloud.api.refusals import STATUS_REASONS, Refusal
from etapalvelu.logs import event_log

RETRY_AFTER_S = 5  # a failover of the database takes about 20 s (docs/availability.md)

PROBLEM_JSON = "application/problem+json"
log = event_log(__name__)
PROBLEM_SCHEMA = {
    "title": "Problem", "type": "object", "required": ["type", "title", "status", "detail"],
    "description": "RFC 9457 problem details; `type` and `reason` are the refusal's reason",
    "properties": {
        "type": {"type": "string"}, "title": {"type": "string"}, "status": {"type": "integer"},
        "detail": {"type": "string"}, "reason": {"type": "string"},
        "errors": {"type": "array", "items": {"type": "object"},
                   "description": "what was invalid, where (a 422 only)"}},
    "additionalProperties": True}


def problem(status: int, reason: str, detail: str, *, headers: dict[str, str] | None = None,
            **extra: Any) -> JSONResponse:
    """The problem-details answer (RFC 9457) of one refusal."""
    body = {"type": reason, "title": _title(status), "status": status, "detail": detail,
            "reason": reason, **extra}
    return JSONResponse(body, status_code=status, headers=headers, media_type=PROBLEM_JSON)


def _title(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Refused"


def wants_page(request: Request) -> bool:
    """Whether a person's browser asked: a navigation (a link, a redirect from the identity
    provider, a form) accepts ``text/html``; a page script's ``fetch`` and API clients do not
    ask for it."""
    if request.url.path.startswith(("/static/", "/metrics")):
        return False
    return "text/html" in request.headers.get("accept", "")


def refusal_answer(request: Request, refusal: Refusal) -> Response:
    """``refusal`` as the caller reads it: problem details, or a page in their language."""
    if wants_page(request):
        return refusal_page(request, refusal)
    return problem(refusal.status, refusal.reason, refusal.detail, headers=refusal.headers,
                   **refusal.extra)


def refusal_page(request: Request, refusal: Refusal) -> Response:
    """The refusal page: the reason's own words when there are some (``refusal.<reason>`` in
    the texts), else those of its status; a link back to the console for staff only."""
    from cloud.texts import texts
    from cloud.web.templating import render  # the page layer sits above this edge

    reason = refusal.reason
    if f"refusal.{reason}" not in texts():
        reason = STATUS_REASONS.get(refusal.status, "")
        if f"refusal.{reason}" not in texts():
            reason = "not_allowed" if refusal.status < 500 else "internal_error"
    staff = "etp_session" in request.cookies
    page = render(request, "refusal.html", status_code=refusal.status, reason=reason,
                  staff=staff)
    page.headers.update(refusal.headers)
    return page


def install(app: FastAPI) -> None:
    """Answer every refusal of ``app`` in the one shape: ``Refusal``, the framework's HTTP
    errors, invalid input, text that is not Unicode, and any error no route expected."""

    @app.exception_handler(Refusal)
    async def refused(request: Request, exc: Refusal) -> Response:
        return refusal_answer(request, exc)

    @app.exception_handler(StarletteHTTPException)
    async def framework(request: Request, exc: StarletteHTTPException) -> Response:
        reason = STATUS_REASONS.get(exc.status_code, "refused")
        detail = exc.detail if isinstance(exc.detail, str) and exc.status_code != 404 \
            else HTTPStatus(exc.status_code).phrase.lower()
        return refusal_answer(request, Refusal(exc.status_code, reason, detail,
                                               headers=dict(exc.headers or {})))

    @app.exception_handler(RequestValidationError)
    async def invalid_input(request: Request, exc: RequestValidationError) -> Response:
        # where and why, never the input itself
        errors = [{"loc": list(e.get("loc", ())), "msg": e.get("msg"), "type": e.get("type")}
                  for e in exc.errors()]
        said = "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}"
                         for e in errors[:5])
        return refusal_answer(request, Refusal(422, "invalid_input",
                                               f"the request's input is not valid: {said}",
                                               errors=errors))

    @app.exception_handler(UnicodeEncodeError)
    async def not_unicode(request: Request, exc: UnicodeEncodeError) -> Response:
        return refusal_answer(request, Refusal(
            422, "invalid_input", "text must be valid Unicode (no lone surrogates)"))

    @app.exception_handler(OperationalError)
    async def database_away(request: Request, exc: OperationalError) -> Response:
        # no primary for a moment (a failover) or the database gone: a state to wait out,
        # not a fault of the request (docs/availability.md)
        log.warning("api.database_unavailable", path=request.url.path,
                    error=type(exc.orig).__name__)
        return refusal_answer(request, Refusal(503, "unavailable",
                                               "the database does not answer; try again",
                                               headers={"Retry-After": str(RETRY_AFTER_S)}))

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> Response:
        log.exception("api.unexpected_error", path=request.url.path, error=type(exc).__name__)
        return refusal_answer(request, Refusal(500, "internal_error",
                                               "the service failed; try again"))
