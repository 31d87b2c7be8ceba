"""The one refusal of every route and page: ``Refusal`` (status, reason, detail). A pure
exception (no web library here), so domain rules raise it too (``BookingRefused`` and
``SessionRefused`` are refusals); ``cloud.api.problems`` answers it, once, for the app.

The detail never repeats the request's input: it may be huge, forged for a log, or someone's
personal data."""
from __future__ import annotations

from typing import Any

# reasons of framework refusals, by status (a Refusal names its own)
STATUS_REASONS = {400: "bad_request", 401: "not_authenticated", 403: "not_allowed",
                  404: "not_found", 405: "method_not_allowed", 409: "conflict", 410: "gone",
                  413: "too_large", 422: "invalid_input", 429: "too_many_requests",
                  500: "internal_error", 503: "unavailable"}


class Refusal(Exception):
    """A request the platform will not do: ``status`` (HTTP), ``reason`` (a snake_case word
    a program can rely on), ``detail`` (one sentence for a person, never echoing input) and
    any ``extra`` members of the problem (e.g. the call that won a race)."""

    def __init__(self, status: int, reason: str, detail: str, *,
                 headers: dict[str, str] | None = None, **extra: Any) -> None:
        super().__init__(detail)
        self.status, self.reason, self.detail = status, reason, detail
        self.headers, self.extra = headers or {}, extra

    def __str__(self) -> str:
        return self.detail


def not_found(what: str) -> Refusal:
    """The one answer for a missing thing and for one the caller may not see: ``no such
    {what}`` (404), so an id's existence is never told to someone outside its scope."""
    return Refusal(404, "not_found", f"no such {what}")


def invalid(detail: str, reason: str = "invalid_input") -> Refusal:
    """Input that breaks a rule (422)."""
    return Refusal(422, reason, detail)
