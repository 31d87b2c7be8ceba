"""The service catalogue: the authorities' remote services per site, building hours and expert
capacity, read from a YAML file and checked against the registry."""
from __future__ import annotations

import re
from functools import cached_property
from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, Field, field_validator

from cloud.bookings.hours import ExpertCapacity, OpeningHours, Span, WeeklyHours
from cloud.registry import Names, Registry

CATALOGUE_FILE = Path(__file__).parent / "catalogue.yaml"
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_SPAN = re.compile(r"^(\d\d):(\d\d)-(\d\d):(\d\d)(?:\s*x\s*(\d+))?$")


class Service(BaseModel):
    """A remote service of one authority (a PTV service), and the visit lengths it allows."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    authority: str
    name: Names
    lengths: tuple[int, ...] = Field(min_length=1)
    sites: tuple[str, ...] | None = None  # None: every site where the authority serves

    @field_validator("lengths")
    @classmethod
    def _lengths(cls, value: tuple[int, ...]) -> tuple[int, ...]:
        if set(value) - {30, 60}:
            raise ValueError("a visit is 30 or 60 minutes")
        return value


def parse_span(text: str) -> tuple[int, int, int]:
    """``"09:00-15:00 x 2"`` -> (540, 900, 2); the count defaults to 1."""
    match = _SPAN.match(text.strip())
    if not match:
        raise ValueError(f"not a span HH:MM-HH:MM: {text!r}")
    h1, m1, h2, m2, n = match.groups()
    start, end = int(h1) * 60 + int(m1), int(h2) * 60 + int(m2)
    if not 0 <= start < end <= 1440:
        raise ValueError(f"span must run forward within one day: {text!r}")
    return start, end, int(n or 1)


def parse_weekdays(key: str) -> list[int]:
    """``"mon-fri"`` -> [0..4]; ``"sat"`` -> [5]."""
    first, _, last = key.partition("-")
    a, b = WEEKDAYS.index(first), WEEKDAYS.index(last or first)
    return list(range(a, b + 1))


class Catalogue(BaseModel):
    """Services, building hours and expert capacity, as read from ``catalogue.yaml``."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    services: dict[str, Service]
    buildings: dict[str, dict[str, list[str]]]
    experts: dict[str, dict[str, list[str]]] = {}

    def check(self, registry: Registry) -> Catalogue:
        """Refuse services of unknown authorities or sites, and sites without building hours."""
        for service_id, service in self.services.items():
            if service.authority not in registry.authorities:
                raise ValueError(f"service {service_id}: unknown authority {service.authority}")
            for site in service.sites or ():
                if service.authority not in registry.sites[site].authorities:
                    raise ValueError(f"service {service_id}: {service.authority} not at {site}")
        missing = set(registry.sites) - set(self.buildings)
        if missing:
            raise ValueError(f"no building hours for sites {sorted(missing)}")
        return self

    def offered_at(self, registry: Registry, site: str) -> dict[str, Service]:
        """The services a customer can book at ``site``."""
        authorities = registry.sites[site].authorities
        return {sid: s for sid, s in self.services.items() if s.authority in authorities
                and (s.sites is None or site in s.sites)}

    def opening_hours(self, site: str, exceptions=None, holidays=frozenset()) -> OpeningHours:
        """The site's ``OpeningHours`` with the given dated exceptions and holidays."""
        return OpeningHours(building=self.building_hours(site), exceptions=exceptions or {},
                            holidays=holidays)

    def building_hours(self, site: str) -> WeeklyHours:
        """The building's weekly hours at ``site``."""
        return self._building_hours[site]

    @cached_property
    def _building_hours(self) -> dict[str, WeeklyHours]:
        return {site: _weekly_hours(table) for site, table in self.buildings.items()}

    @cached_property
    def capacities(self) -> dict[str, ExpertCapacity]:
        """Each authority's expert capacity (authorities not listed are unlimited)."""
        out = {}
        for authority, table in self.experts.items():
            weekly: dict[int, list[tuple[int, int, int]]] = {}
            for key, spans in table.items():
                for day in parse_weekdays(key):
                    weekly.setdefault(day, []).extend(parse_span(s) for s in spans)
            out[authority] = ExpertCapacity({d: tuple(v) for d, v in weekly.items()})
        return out


def _weekly_hours(table: dict[str, list[str]]) -> WeeklyHours:
    days: dict[int, list[Span]] = {}
    for key, spans in table.items():
        for day in parse_weekdays(key):
            days.setdefault(day, []).extend(parse_span(s)[:2] for s in spans)
    return WeeklyHours({d: tuple(v) for d, v in days.items()})


def load_catalogue(registry: Registry, path: Path | str = CATALOGUE_FILE) -> Catalogue:
    """Read and check the catalogue file against ``registry``."""
    with open(path, encoding="utf-8") as handle:
        return Catalogue.model_validate(yaml.safe_load(handle)).check(registry)
