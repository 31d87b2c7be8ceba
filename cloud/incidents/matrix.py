"""The responsibility matrix: fault category x asset owner x site -> responsible party.

Data, not code: loaded from YAML (see ``responsibility.yaml``), checked at load so that no
category of any site is left without a party. Pure: no I/O beyond reading the file.
"""
from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, field_validator

from cloud.incidents.hours import SlaClock
from cloud.sites.calendar import FINNISH_HOLIDAYS
from cloud.sites.hours import (
    DEFAULT_ZONE,
    ROUND_THE_CLOCK,
    OpeningHours,
    WeeklyHours,
    zone_named,
)

SAMPLE_MATRIX = Path(__file__).parent / "responsibility.yaml"

# category -> the asset owners a fault of that category can have ("service": the remote-service
# equipment and systems; "host": the host municipality's premises; "state": furniture or
# signage the state brought into the room)
CATEGORY_OWNERS: dict[str, tuple[str, ...]] = {
    "equipment": ("service",),
    "system": ("service",),
    "terminal_network": ("service",),
    "workstation_network": ("host",),
    "space": ("host",),
    "furniture": ("host", "state"),
    "signage": ("host", "state"),
    "threat": ("host",),
    "vandalism": ("host", "service"),
    "platform": ("service",),  # the cloud and the rooms' broker themselves
}
# a matrix without a route of its own for the platform sends it where system faults go
FALLBACK_ROUTES = {"platform": "system"}
# the categories people report (the platform's own faults only the engine opens)
CATEGORIES = tuple(c for c in CATEGORY_OWNERS if c not in FALLBACK_ROUTES)


class MatrixError(ValueError):
    """The matrix cannot be used: a gap, an unknown party or category, a bad schedule."""


class Channel(BaseModel):
    """One way to reach a party: an e-mail address, a phone number (SMS) or a webhook URL."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    type: Literal["email", "sms", "webhook"]
    to: str = Field(min_length=3, max_length=320)


class Hours(BaseModel):
    """Service hours as written in the file: weekly hours read by the sites' one parser,
    closed on the sites' one holiday calendar (``holidays: FI``), or ``always``."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    timezone: str = DEFAULT_ZONE.key
    weekly: dict[str, str] = {}
    holidays: Literal["FI"] | None = "FI"
    always: bool = False

    @field_validator("weekly")
    @classmethod
    def _parses(cls, value: dict[str, str]) -> dict[str, str]:
        WeeklyHours.parse(value)
        return value

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        zone_named(value)  # an unknown zone fails at load, not at the first incident
        return value

    def service_hours(self) -> OpeningHours:
        """The pure schedule: the party's week (around the clock when ``always``, holidays
        too) in its zone, closed on Finnish public holidays when asked."""
        if self.always:
            return OpeningHours(service=ROUND_THE_CLOCK, tz=zone_named(self.timezone))
        closed = FINNISH_HOLIDAYS if self.holidays == "FI" else frozenset()
        return OpeningHours(service=WeeklyHours.parse(self.weekly), holidays=closed,
                            tz=zone_named(self.timezone))


class PartyNames(BaseModel):
    """A party's name as staff read it in Finnish, Swedish and English."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    fi: str
    sv: str
    en: str


class Party(BaseModel):
    """Who handles a fault: channels, language, hours, response target, escalation.
    ``name`` is the party's own (its messages use it); ``names`` what the pages show."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    name: str
    names: PartyNames | None = None
    language: Literal["fi", "en"] = "fi"
    channels: tuple[Channel, ...] = Field(min_length=1)
    hours: Hours
    response_minutes: int = Field(gt=0)
    escalation: tuple[Channel, ...] = ()

    @property
    def shown_name(self) -> dict[str, str] | str:
        """The name as a page's ``name(...)`` takes it: per language where known."""
        return self.names.model_dump() if self.names else self.name

    @property
    def response_time(self) -> timedelta:
        """The response-time target."""
        return timedelta(minutes=self.response_minutes)

    def clock(self) -> SlaClock:
        """The party's SLA clock."""
        return SlaClock(self.hours.service_hours())


Routes = dict[str, dict[str, str]]  # category -> owner (or "*") -> party id ("{site}" expands)


class SiteRules(BaseModel):
    """A site's advisors (told of breaches) and its overrides of the default routes."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    advisors: tuple[Channel, ...] = ()
    routes: Routes = {}


class MatrixFile(BaseModel):
    """The file as written."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    parties: dict[str, Party]
    routes: Routes
    sites: dict[str, SiteRules] = {}


class ResponsibilityMatrix:
    """Resolves (category, owner, site) to a party; refuses a matrix with gaps at load."""

    def __init__(self, data: MatrixFile, sites: list[str]) -> None:
        self.data = data
        self.sites = list(sites)
        self._clocks: dict[str, SlaClock] = {}
        problems = self._problems()
        if problems:
            raise MatrixError("responsibility matrix refused:\n  " + "\n  ".join(problems))

    def party_id(self, category: str, site: str, owner: str | None = None) -> str:
        """The id of the party responsible for a fault of ``category`` at ``site``."""
        owner = owner or CATEGORY_OWNERS[category][0]
        party = self._route(category, owner, site)
        if party is None or party not in self.data.parties:
            raise MatrixError(f"no party for {category}/{owner} at {site}")
        return party

    def party(self, party_id: str) -> Party:
        """The party with ``party_id``."""
        return self.data.parties[party_id]

    def clock(self, party_id: str) -> SlaClock:
        """The party's SLA clock (built once)."""
        if party_id not in self._clocks:
            self._clocks[party_id] = self.party(party_id).clock()
        return self._clocks[party_id]

    def advisors(self, site: str) -> tuple[Channel, ...]:
        """The channels of the site's advisors."""
        rules = self.data.sites.get(site)
        return rules.advisors if rules else ()

    def _route(self, category: str, owner: str, site: str) -> str | None:
        overrides = self.data.sites.get(site, SiteRules()).routes
        for routes in (overrides, self.data.routes):
            by_owner = routes.get(category, {})
            party = by_owner.get(owner, by_owner.get("*"))
            if party is not None:
                return party.replace("{site}", site)
        if category in FALLBACK_ROUTES:
            return self._route(FALLBACK_ROUTES[category], owner, site)
        return None

    def _problems(self) -> list[str]:
        problems = []
        for routes in (self.data.routes, *(s.routes for s in self.data.sites.values())):
            problems += [f"unknown category {c!r} (known: {', '.join(CATEGORIES)})"
                         for c in routes if c not in CATEGORY_OWNERS]
        problems += [f"rules for unknown site {s!r}" for s in self.data.sites
                     if s not in self.sites]
        for site in self.sites:
            for category, owners in CATEGORY_OWNERS.items():
                for owner in owners:
                    party = self._route(category, owner, site)
                    if party is None:
                        problems.append(f"gap: no party covers {category!r} (owner {owner!r}) "
                                        f"at site {site!r}")
                    elif party not in self.data.parties:
                        problems.append(f"{category!r} (owner {owner!r}) at site {site!r} goes "
                                        f"to undefined party {party!r}")
        return sorted(set(problems))


def load_matrix(path: Path | str, sites: list[str]) -> ResponsibilityMatrix:
    """Read, validate and gap-check a matrix file for the given site ids."""
    with open(path, encoding="utf-8") as handle:
        raw = yaml.safe_load(handle)
    try:
        data = MatrixFile.model_validate(raw)
    except ValueError as exc:
        raise MatrixError(f"responsibility matrix {path} is malformed: {exc}") from exc
    return ResponsibilityMatrix(data, sites)
