"""Bounds on what a request may carry, one type each, shared by every domain's router:

- ``Id``: a row id in a path, a query or a body, that fits the database's integers;
- ``Code``: the id of a site, room, device, authority, service or party (a slug);
- free text (``Name``, ``Reason``, ``Comment``, ``free_text(n)``): length-bounded, refusing
  NUL, escape and the other control characters and the direction overrides that make a name
  display as something else (a comment may break lines, nothing else);
- ``Secret``: a password, any valid Unicode;
- ``PhoneNumber``: a customer's phone number for a text message, E.164-like;
- ``check_span``: a time span of a sensible length.

Each refusal is a 422 problem that says what is wrong and never echoes the input. The OpenAPI
document shows every bound (``maximum``, ``maxLength``, ``pattern``), and a test walks it."""
from __future__ import annotations

import unicodedata
from datetime import datetime, timedelta
from typing import Annotated

import annotated_types
from fastapi import Query
from pydantic import AfterValidator, StringConstraints, WithJsonSchema

from cloud.api.refusals import invalid

MAX_ROW_ID = 2**63 - 1  # BIGINT on PostgreSQL, INTEGER on SQLite
# embeddings, overrides and isolates: they make a name display as something else
BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
LINE_BREAKS = frozenset("\n\r\t")  # what a comment of several lines may hold
_REFUSED = "\\u0000-\\u001f\\u007f-\\u009f\\u202a-\\u202e\\u2066-\\u2069"
ONE_LINE_PATTERN = f"^[^{_REFUSED}]*$"
LINES_PATTERN = f"^([^{_REFUSED}]|[\\t\\n\\r])*$"

Id = Annotated[int, annotated_types.Ge(1), annotated_types.Le(MAX_ROW_ID)]
# an opaque credential the platform issued (a room token, a session credential, a link)
Token = Annotated[str, StringConstraints(max_length=200, pattern=r"^[A-Za-z0-9._~+/=:-]*$")]
# a registry's or catalogue's id: a site, room, device, authority, service, party
Code = Annotated[str, StringConstraints(max_length=64, pattern=r"^[a-z0-9][a-z0-9_.-]{0,63}$")]
RowId = Id  # the name the routes' path parameters use
# a phone number a text message can reach: an optional +, then 6 to 15 digits (E.164 allows
# 15), spaces between them as people write them (``+358 40 123 4567``, ``040 1234567``)
PhoneNumber = Annotated[str, StringConstraints(
    max_length=20, pattern=r"^\+?[0-9](?: ?[0-9]){5,14}$")]
AuditLimit = Annotated[int, Query(ge=1, le=1000)]


def valid_unicode(value: str) -> str:
    """Refuse a string that cannot be stored: a lone surrogate (``"\\ud800"`` in JSON)."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError("text must be valid Unicode (no lone surrogates)") from None
    return value


def _checked(value: str, allowed: frozenset[str]) -> str:
    valid_unicode(value)
    for char in value:
        if char in BIDI_CONTROLS or (unicodedata.category(char) == "Cc" and char not in allowed):
            raise ValueError(f"text may not contain the control character U+{ord(char):04X}")
    return value


def plain_text(value: str) -> str:
    """Refuse text a person did not type: lone surrogates, control characters (NUL, escape,
    line breaks) and direction overrides."""
    return _checked(value, frozenset())


def text_lines(value: str) -> str:
    """As ``plain_text``, but line breaks and tabs are allowed (a comment of several lines)."""
    return _checked(value, LINE_BREAKS)


def free_text(max_length: int, *, lines: bool = False, min_length: int = 0):
    """The one checked free-text type of at most ``max_length`` characters (one line unless
    ``lines``); the OpenAPI shows its bound and the characters it refuses."""
    schema = {"type": "string", "maxLength": max_length,
              "pattern": LINES_PATTERN if lines else ONE_LINE_PATTERN}
    if min_length:
        schema["minLength"] = min_length
    return Annotated[str, StringConstraints(max_length=max_length, min_length=min_length),
                     AfterValidator(text_lines if lines else plain_text), WithJsonSchema(schema)]


Name = free_text(100, min_length=1)  # a person's or a thing's name, a username
Reason = free_text(200, min_length=1)  # why: a cancellation, a closure, a silence, an exception
Summary = free_text(200, min_length=1)  # an incident's one line
Comment = free_text(4000, lines=True, min_length=1)  # a comment of several lines
# a password: anything a person types, never shown, so no character is refused
Secret = Annotated[str, StringConstraints(max_length=200), AfterValidator(valid_unicode),
                   WithJsonSchema({"type": "string", "format": "password", "maxLength": 200})]
# what a header of the HTTP standard may carry: printable ASCII
HeaderText = Annotated[str, StringConstraints(max_length=300, pattern=r"^[\x20-\x7e]*$")]


def check_span(start: datetime, end: datetime, *, now: datetime, longest: timedelta,
               horizon: timedelta, what: str) -> None:
    """Refuse a span that runs backwards, lasts longer than ``longest`` or lies further than
    ``horizon`` from ``now`` (in either direction), with a 422 naming ``what``."""
    if not start < end:
        raise invalid(f"a {what} ends after it starts")
    if end - start > longest:
        raise invalid(f"a {what} lasts at most {longest.days} days")
    if start < now - horizon or end > now + horizon:
        raise invalid(f"a {what} lies within {horizon.days} days of now")
