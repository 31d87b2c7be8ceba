"""Request and response shapes of the booking API."""
from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from cloud.api.inputs import Code, Reason, free_text
from cloud.bookings.interpretation import Interpreter
from cloud.bookings.rules import Customer
from cloud.instants import ApiInstant

HoursSpan = Annotated[str, StringConstraints(max_length=11, pattern=r"^\d\d:\d\d-\d\d:\d\d$")]
VERSION_READ = "the version read; a booking changed since is refused (409 changed_meanwhile)"


class ServiceOut(BaseModel):
    """A service offered at a site."""

    id: str
    authority: str
    name: dict[str, str]
    lengths: list[int]


class FreeVisitOut(BaseModel):
    """A bookable visit."""

    room: str
    start: ApiInstant
    end: ApiInstant


class BookingIn(BaseModel):
    """A new booking."""

    model_config = ConfigDict(extra="forbid")
    site: Code
    service: Code
    start: ApiInstant
    minutes: Literal[30, 60] = 30
    channel: Literal["on_site", "phone_service", "service_number"]
    customer: Customer
    room: Code | None = None
    interpreter: Interpreter | None = None


class WalkInIn(BaseModel):
    """A visit starting now without a prior booking."""

    model_config = ConfigDict(extra="forbid")
    site: Code
    service: Code
    minutes: Literal[30, 60] = 30
    customer: Customer
    room: Code | None = None
    interpreter: Interpreter | None = None


class MoveIn(BaseModel):
    """A new time (and optionally room and length) for a booking."""

    model_config = ConfigDict(extra="forbid")
    start: ApiInstant
    minutes: Literal[30, 60] | None = None
    room: Code | None = None
    version: int | None = Field(None, ge=1, le=2**31 - 1, description=VERSION_READ)


class CancelIn(BaseModel):
    """Why a booking is cancelled (no personal data, please)."""

    model_config = ConfigDict(extra="forbid")
    reason: Reason
    version: int | None = Field(None, ge=1, le=2**31 - 1, description=VERSION_READ)


class CompleteIn(BaseModel):
    """The realised start and end of a visit."""

    model_config = ConfigDict(extra="forbid")
    realised_start: ApiInstant
    realised_end: ApiInstant


class ClosureIn(BaseModel):
    """A time a room cannot be used."""

    model_config = ConfigDict(extra="forbid")
    start: ApiInstant
    end: ApiInstant
    reason: Reason
    incident: free_text(64) | None = None


class ExceptionIn(BaseModel):
    """Building hours of one day, ``["10:00-14:00"]``; empty: closed."""

    model_config = ConfigDict(extra="forbid")
    hours: list[HoursSpan] = Field([], max_length=8)
    reason: Reason


class BookingOut(BaseModel):
    """A booking as staff see it."""

    model_config = ConfigDict(from_attributes=True)
    id: int
    site: str
    room: str
    authority: str
    service: str
    start: ApiInstant
    end: ApiInstant
    channel: str
    status: str
    language: str
    customer_name: str | None
    customer_phone: str | None
    customer_email: str | None
    feedback_consent_at: ApiInstant | None
    cancel_reason: str | None
    interpreter_language: str | None = None
    interpreter_mode: str | None = None
    interpreter_email: str | None = None
    realised_start: ApiInstant | None
    realised_end: ApiInstant | None
    moves: int
    version: int


class SnapshotOut(BaseModel):
    """A booking's room, times and status before or after a change."""

    room: str
    start: ApiInstant
    end: ApiInstant
    status: str


class ChangeOut(BaseModel):
    """One entry of a booking's change log."""

    model_config = ConfigDict(from_attributes=True)
    at: ApiInstant
    actor: str
    action: str
    before: SnapshotOut | None
    after: SnapshotOut | None


class AffectedVisit(BaseModel):
    """A live booking a room's unusability hits (ids and times only)."""

    model_config = ConfigDict(from_attributes=True)
    id: int
    authority: str
    start: ApiInstant
    end: ApiInstant


class AffectedOut(BaseModel):
    """How many and which live bookings are hit."""

    count: int
    bookings: list[AffectedVisit]
