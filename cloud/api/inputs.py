"""Bounds on what a request may carry, shared by every domain's router: row ids that fit the
database's integers, text without control or direction-override characters, and time spans
of a sensible length. Each refusal is a 422 that says what is wrong, never a 500."""
from __future__ import annotations

import unicodedata
from datetime import datetime, timedelta
from typing import Annotated

from fastapi import HTTPException, Path, Query
from pydantic import AfterValidator

MAX_ROW_ID = 2**63 - 1  # BIGINT on PostgreSQL, INTEGER on SQLite
# embeddings, overrides and isolates: they make a name display as something else
BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")

RowId = Annotated[int, Path(ge=1, le=MAX_ROW_ID, description="a row id")]
AuditLimit = Annotated[int, Query(ge=1, le=1000)]


def valid_unicode(value: str) -> str:
    """Refuse a string that cannot be stored: a lone surrogate (``"\\ud800"`` in JSON)."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError("text must be valid Unicode (no lone surrogates)") from None
    return value


def plain_text(value: str) -> str:
    """Refuse text a person did not type: lone surrogates, control characters (NUL, escape,
    line breaks) and direction overrides."""
    valid_unicode(value)
    for char in value:
        if char in BIDI_CONTROLS or unicodedata.category(char) == "Cc":
            raise ValueError(f"text may not contain the control character U+{ord(char):04X}")
    return value


PlainText = Annotated[str, AfterValidator(plain_text)]
UnicodeText = Annotated[str, AfterValidator(valid_unicode)]


def check_span(start: datetime, end: datetime, *, now: datetime, longest: timedelta,
               horizon: timedelta, what: str) -> None:
    """Refuse a span that runs backwards, lasts longer than ``longest`` or lies further than
    ``horizon`` from ``now`` (in either direction), with a 422 naming ``what``."""
    if not start < end:
        raise HTTPException(422, f"a {what} ends after it starts")
    if end - start > longest:
        raise HTTPException(422, f"a {what} lasts at most {longest.days} days")
    if start < now - horizon or end > now + horizon:
        raise HTTPException(422, f"a {what} lies within {horizon.days} days of now")
