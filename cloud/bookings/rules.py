"""What every booking action checks against: the refusal a rule gives, the customer data a
booking may keep, and the registry and catalogue the rules read besides the database."""
from __future__ import annotations

from collections.abc import Container
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, model_validator

from cloud.api.inputs import Name, PhoneNumber
from cloud.api.refusals import Refusal
from cloud.bookings.catalogue import CATALOGUE_FILE, Catalogue, Service, load_catalogue
from cloud.bookings.hours import REFUSALS
from cloud.registry import Registry
from cloud.sites.service import FINNISH_HOLIDAYS


class BookingRefused(Refusal):
    """A refused booking action, with a machine-readable reason and an HTTP status."""

    def __init__(self, reason: str, detail: str | None = None, status: int = 422) -> None:
        super().__init__(status, reason, detail or REFUSALS.get(reason, reason))


# Conflicts with other data (409): the same request may succeed at another time.
CONFLICT_REASONS = {"slot_taken", "no_expert", "room_unavailable", "no_room_free", "try_again",
                    "changed_meanwhile"}


def refused(reason: str, detail: str | None = None) -> BookingRefused:
    """A ``BookingRefused`` with 409 for conflicts with other data, 422 for invalid requests."""
    return BookingRefused(reason, detail, 409 if reason in CONFLICT_REASONS else 422)


class Customer(BaseModel):
    """What a booking keeps of its customer: a name or initials, an optional contact for the
    reminder, a preferred language, and whether they agreed to one text message asking about
    the visit afterwards (a consent of its own, off unless given; it needs the phone). Nothing
    else."""

    model_config = ConfigDict(extra="forbid")
    name: Name
    phone: PhoneNumber | None = None
    email: str | None = Field(None, max_length=254, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
    language: str = Field("fi", max_length=2, pattern=r"^(fi|sv|en)$")
    feedback_sms: bool = Field(False, description="the customer agreed to be asked about the "
                               "visit by one text message to ``phone`` after it")

    @model_validator(mode="after")
    def _consent_needs_phone(self) -> Customer:
        if self.feedback_sms and not self.phone:
            raise ValueError("the consent to a feedback text message needs a phone number")
        return self


@dataclass
class BookingRules:
    """What the booking rules read besides the database: registry, catalogue, holidays."""

    registry: Registry
    catalogue: Catalogue
    # the one calendar of the sites' hours
    holidays: Container[date] = field(default_factory=lambda: FINNISH_HOLIDAYS)

    @classmethod
    def load(cls, registry: Registry, catalogue: Path | str = CATALOGUE_FILE) -> BookingRules:
        """The rules for ``registry`` with the ``catalogue`` file (the packaged one)."""
        return cls(registry, load_catalogue(registry, catalogue))

    def service(self, site: str, service_id: str) -> Service:
        """The service ``service_id`` as offered at ``site``; refuse an unknown or absent one."""
        if site not in self.registry.sites:
            raise refused("unknown_site", f"no site {site!r}")
        offered = self.catalogue.offered_at(self.registry, site)
        if service_id not in offered:
            raise refused("service_not_offered", f"service {service_id!r} is not offered at {site}")
        return offered[service_id]

    def rooms(self, site: str) -> list[str]:
        """The rooms of ``site``."""
        return list(self.registry.sites[site].rooms)

    def length(self, offered: Service, service_id: str, minutes: int) -> None:
        """Refuse a visit length the service does not allow."""
        if minutes not in offered.lengths:
            raise refused("bad_length", f"{service_id} allows visits of {offered.lengths} minutes")
