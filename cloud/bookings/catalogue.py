"""The service catalogue: the authorities' remote services per site and expert capacity, read
from a YAML file and checked against the registry (a site's hours live in the registry)."""
from __future__ import annotations

from functools import cached_property
from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, Field, field_validator

from cloud.bookings.hours import ExpertCapacity
from cloud.registry import Names, Registry
from cloud.sites.hours import parse_span, parse_weekdays

CATALOGUE_FILE = Path(__file__).parent / "catalogue.yaml"


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


class Catalogue(BaseModel):
    """Services and expert capacity, as read from ``catalogue.yaml``."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    services: dict[str, Service]
    experts: dict[str, dict[str, list[str]]] = {}

    def check(self, registry: Registry) -> Catalogue:
        """Refuse services of unknown authorities, or at a site of the registry that the
        authority does not serve. A site the registry does not hold is not this deployment's
        (a smaller or a test registry): its services are offered nowhere here."""
        for service_id, service in self.services.items():
            if service.authority not in registry.authorities:
                raise ValueError(f"service {service_id}: unknown authority {service.authority}")
            for site in service.sites or ():
                if site in registry.sites and \
                        service.authority not in registry.sites[site].authorities:
                    raise ValueError(f"service {service_id}: {service.authority} not at {site}")
        return self

    def offered_at(self, registry: Registry, site: str) -> dict[str, Service]:
        """The services a customer can book at ``site``."""
        authorities = registry.sites[site].authorities
        return {sid: s for sid, s in self.services.items() if s.authority in authorities
                and (s.sites is None or site in s.sites)}

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


def load_catalogue(registry: Registry, path: Path | str = CATALOGUE_FILE) -> Catalogue:
    """Read and check the catalogue file against ``registry``."""
    with open(path, encoding="utf-8") as handle:
        return Catalogue.model_validate(yaml.safe_load(handle)).check(registry)
