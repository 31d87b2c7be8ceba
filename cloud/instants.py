"""Instants and days as the API takes and gives them: one type for every schema and parameter.

``ApiInstant`` refuses a value without a UTC offset (an instant, not a wall time), bounds the
year, converts to UTC and answers ``2026-03-02T07:00:00Z``; ``ApiDay`` and ``ApiYear`` bound
calendar days and report years the same way. Every refusal is a 422 that says what to send.
The store's counterpart is ``cloud.db.Instant``.
"""
from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    PlainSerializer,
    ValidationError,
    ValidatorFunctionWrapHandler,
    WithJsonSchema,
    WrapValidator,
)
from pydantic_core import PydanticCustomError

EARLIEST_YEAR, LATEST_YEAR = 2000, 2099  # no booking, incident or report lies outside
_EXAMPLE = "2026-03-02T09:00:00+02:00 or 2026-03-02T07:00:00Z"


def _year_in_range(year: int) -> int:
    if not EARLIEST_YEAR <= year <= LATEST_YEAR:
        raise PydanticCustomError(
            "year_out_of_range", "the year is outside {earliest}-{latest}",
            {"year": year, "earliest": EARLIEST_YEAR, "latest": LATEST_YEAR})
    return year


def _parsed(value: Any, handler: ValidatorFunctionWrapHandler, what: str, form: str,
            example: str):
    """``value`` parsed by pydantic, or a refusal that says which form and years to send."""
    try:
        return handler(value)
    except ValidationError:
        raise PydanticCustomError(
            what.split()[-1], "not {what}: give {form} in a year from {earliest} to {latest}, "
            "e.g. {example}", {"what": what, "form": form, "example": example,
                               "earliest": EARLIEST_YEAR, "latest": LATEST_YEAR}) from None


def _instant(value: Any, handler: ValidatorFunctionWrapHandler) -> datetime:
    parsed = _parsed(value, handler, "an instant", "date, time and UTC offset", _EXAMPLE)
    if parsed.tzinfo is None or parsed.utcoffset() is None:
        raise PydanticCustomError(
            "instant_naive", "an instant needs its UTC offset (Z or +02:00), e.g. {example}",
            {"example": _EXAMPLE})
    _year_in_range(parsed.year)  # before converting: year 1 or 9999 would overflow
    return parsed.astimezone(UTC)


def _day(value: Any, handler: ValidatorFunctionWrapHandler) -> date:
    parsed = _parsed(value, handler, "a day", "YYYY-MM-DD", "2026-03-02")
    _year_in_range(parsed.year)
    return parsed


def utc_text(value: datetime | None) -> str | None:
    """An instant in the API's one form, UTC with ``Z``."""
    return None if value is None else value.astimezone(UTC).isoformat().replace("+00:00", "Z")


_YEARS = f"a year from {EARLIEST_YEAR} to {LATEST_YEAR}"
ApiInstant = Annotated[datetime, WrapValidator(_instant),
                       PlainSerializer(utc_text, return_type=str, when_used="json"),
                       WithJsonSchema({"type": "string", "format": "date-time",
                                       "description": f"with its UTC offset, in {_YEARS}; "
                                                      "answered in UTC with Z",
                                       "examples": ["2026-03-02T07:00:00Z"]})]
ApiDay = Annotated[date, WrapValidator(_day),
                   WithJsonSchema({"type": "string", "format": "date",
                                   "description": f"a calendar day in {_YEARS}"})]
ApiYear = Annotated[int, AfterValidator(_year_in_range),
                    WithJsonSchema({"type": "integer", "minimum": EARLIEST_YEAR,
                                    "maximum": LATEST_YEAR})]
