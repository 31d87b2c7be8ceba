"""The registry of sites, rooms, authorities and devices, loaded from a YAML file.

Pure data: importable without the cloud's libraries, so provisioning uses it too.
"""
from __future__ import annotations

from functools import cached_property
from pathlib import Path
from typing import Annotated, Literal
from zoneinfo import ZoneInfo

import yaml
from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from cloud.sites.hours import REMOTE_SERVICE_HOURS, ROUND_THE_CLOCK, WeeklyHours, zone_named
from protocol.topics import DEVICE_TYPES

PILOT_REGISTRY = Path(__file__).parent / "pilot.yaml"
Slug = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9_-]{0,31}$")]
Phone = Annotated[str, StringConstraints(pattern=r"^\+[0-9]{6,15}$")]  # E.164


class Names(BaseModel):
    """A name in Finnish, Swedish and English."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    fi: str
    sv: str
    en: str


class Authority(BaseModel):
    """An authority that serves through the rooms (Kela, DVV, Vero, Police); ``phone`` is its
    phone service, where a customer can book a visit to a point."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    name: Names
    phone: Phone | None = None


class Address(BaseModel):
    """A point's visiting address: the street (its name in fi/sv/en, a bilingual town has
    two), the number, the postal code and post office, and the municipality's code (the
    Statistics Finland code PTV addresses carry, e.g. ``638`` Porvoo)."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    street: Names
    number: str = Field(min_length=1, max_length=30)
    postal_code: Annotated[str, StringConstraints(pattern=r"^[0-9]{5}$")]
    post_office: Names
    municipality_code: Annotated[str, StringConstraints(pattern=r"^[0-9]{3}$")]


class Accessibility(BaseModel):
    """What a customer needs to know of a room before the visit: whether it is reached
    without steps, whether it has an induction loop for hearing aids, and whether it is a
    room of the building or a prefabricated room module."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    step_free: bool
    induction_loop: bool
    kind: Literal["room", "module"]


class Room(BaseModel):
    """A remote-service room and the devices in it (device id == device type); ``name`` is
    its own name, ``names`` the name in fi/sv/en where the registry gives them."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    name: str
    names: Names | None = None
    devices: tuple[Slug, ...] = DEVICE_TYPES
    access: Accessibility | None = None  # None: the registry does not say

    def local_name(self, language: str) -> str:
        """The room's name in ``language`` (its own name when it has no such form)."""
        return getattr(self.names, language, None) or self.name

    @model_validator(mode="after")
    def _known_devices(self) -> Room:
        unknown = set(self.devices) - set(DEVICE_TYPES)
        if unknown:
            raise ValueError(f"unknown device types {sorted(unknown)}; known: {DEVICE_TYPES}")
        if "agent" not in self.devices:
            raise ValueError("every room has an agent")
        return self


WeeklyTable = dict[str, tuple[str, ...]]  # {"mon-fri": ("09:00-15:00",), "sat": (...)}


class Site(BaseModel):
    """A remote-service point in a host building, its authorities and rooms, and its hours:
    the remote-service hours (the pilot's Mon-Fri 09-15 unless the site says otherwise) capped
    by the building's own weekly hours (none given: the building does not cap them)."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    name: Names
    municipality: str
    timezone: str = "Europe/Helsinki"
    authorities: tuple[Slug, ...]
    rooms: dict[Slug, Room] = Field(min_length=1)
    service_hours: WeeklyTable | None = None
    building_hours: WeeklyTable | None = None
    # closed on Finnish public holidays (the demo's round-the-clock sites are not)
    observes_holidays: bool = True
    # the site's backup number: an unanswered call-button call is texted there
    backup_phone: Phone | None = None
    # what the public page and the catalogue (PTV) say of the point
    address: Address | None = None
    phone: Phone | None = None  # the point's own service number: bookings and questions
    ptv_organization: str | None = Field(default=None, pattern=r"^[0-9a-f-]{36}$")

    @model_validator(mode="after")
    def _hours_parse(self) -> Site:
        self.service_week, self.building_week  # noqa: B018 - a bad span fails at load
        self.zone  # noqa: B018 - and so does an unknown zone
        return self

    @cached_property
    def zone(self) -> ZoneInfo:
        """The zone of the site's local times (``cloud.sites.hours.site_zone`` asks it)."""
        return zone_named(self.timezone)

    @cached_property
    def service_week(self) -> WeeklyHours:
        """The remote-service hours of the site."""
        table = self.service_hours
        return REMOTE_SERVICE_HOURS if table is None else WeeklyHours.parse(table)

    @cached_property
    def building_week(self) -> WeeklyHours:
        """The building's weekly hours (round the clock when the registry gives none)."""
        table = self.building_hours
        return ROUND_THE_CLOCK if table is None else WeeklyHours.parse(table)


class Registry(BaseModel):
    """All sites, rooms, authorities and devices of the fleet."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    authorities: dict[Slug, Authority]
    sites: dict[Slug, Site]

    @model_validator(mode="after")
    def _authorities_exist(self) -> Registry:
        for site_id, site in self.sites.items():
            missing = set(site.authorities) - set(self.authorities)
            if missing:
                raise ValueError(f"site {site_id} names unknown authorities {sorted(missing)}")
        return self

    @cached_property
    def devices(self) -> frozenset[tuple[str, str, str]]:
        """Every (site, room, device) the fleet has."""
        return frozenset(
            (site_id, room_id, device)
            for site_id, site in self.sites.items()
            for room_id, room in site.rooms.items()
            for device in room.devices
        )

    def rooms(self) -> list[tuple[str, str, Room]]:
        """Every (site, room id, room), in file order."""
        return [(s, r, room) for s, site in self.sites.items() for r, room in site.rooms.items()]


def load_registry(path: Path | str = PILOT_REGISTRY) -> Registry:
    """Read and validate a registry file; pydantic's error names the faulty entry."""
    with open(path, encoding="utf-8") as handle:
        return Registry.model_validate(yaml.safe_load(handle))
