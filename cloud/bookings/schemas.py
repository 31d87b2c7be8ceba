"""Request and response shapes of the booking API."""
from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from cloud.bookings.rules import Customer

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
    start: datetime
    end: datetime


class BookingIn(BaseModel):
    """A new booking."""

    model_config = ConfigDict(extra="forbid")
    site: str
    service: str
    start: AwareDatetime
    minutes: Literal[30, 60] = 30
    channel: Literal["on_site", "phone_service", "service_number"]
    customer: Customer
    room: str | None = None


class WalkInIn(BaseModel):
    """A visit starting now without a prior booking."""

    model_config = ConfigDict(extra="forbid")
    site: str
    service: str
    minutes: Literal[30, 60] = 30
    customer: Customer
    room: str | None = None


class MoveIn(BaseModel):
    """A new time (and optionally room and length) for a booking."""

    model_config = ConfigDict(extra="forbid")
    start: AwareDatetime
    minutes: Literal[30, 60] | None = None
    room: str | None = None
    version: int | None = Field(None, ge=1, le=2**31 - 1, description=VERSION_READ)


class CancelIn(BaseModel):
    """Why a booking is cancelled (no personal data, please)."""

    model_config = ConfigDict(extra="forbid")
    reason: str = Field(min_length=1, max_length=200)
    version: int | None = Field(None, ge=1, le=2**31 - 1, description=VERSION_READ)


class CompleteIn(BaseModel):
    """The realised start and end of a visit."""

    model_config = ConfigDict(extra="forbid")
    realised_start: AwareDatetime
    realised_end: AwareDatetime


class ClosureIn(BaseModel):
    """A time a room cannot be used."""

    model_config = ConfigDict(extra="forbid")
    start: AwareDatetime
    end: AwareDatetime
    reason: str = Field(min_length=1, max_length=200)
    incident: str | None = Field(None, max_length=64)


class ExceptionIn(BaseModel):
    """Building hours of one day, ``["10:00-14:00"]``; empty: closed."""

    model_config = ConfigDict(extra="forbid")
    hours: list[str] = []
    reason: str = Field(min_length=1, max_length=200)


class BookingOut(BaseModel):
    """A booking as staff see it."""

    model_config = ConfigDict(from_attributes=True)
    id: int
    site: str
    room: str
    authority: str
    service: str
    start: datetime
    end: datetime
    channel: str
    status: str
    language: str
    customer_name: str | None
    customer_phone: str | None
    customer_email: str | None
    cancel_reason: str | None
    realised_start: datetime | None
    realised_end: datetime | None
    moves: int
    version: int


class ChangeOut(BaseModel):
    """One entry of a booking's change log."""

    model_config = ConfigDict(from_attributes=True)
    at: datetime
    actor: str
    action: str
    before: dict | None
    after: dict | None
