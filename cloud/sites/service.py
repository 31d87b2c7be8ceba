"""Service functions of the site domain: a site's ``OpeningHours`` from the registry (weekly
remote-service and building hours, time zone) and the stored building exceptions, and the
write of an exception. The caller commits."""
from __future__ import annotations

from collections.abc import Container
from dataclasses import replace
from datetime import date, datetime, timedelta

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from cloud.registry import Registry
from cloud.sites.calendar import FINNISH_HOLIDAYS
from cloud.sites.hours import OpeningHours
from cloud.sites.models import BuildingException

_exception = BuildingException.__table__.c
# built once with bound parameters: the availability path asks for it on every request
_EXCEPTIONS = select(_exception.day, _exception.spans).where(
    _exception.site == bindparam("site"), _exception.day >= bindparam("first"),
    _exception.day <= bindparam("last"))


def weekly_hours(registry: Registry, *, site: str,
                 holidays: Container[date] = FINNISH_HOLIDAYS) -> OpeningHours:
    """The site's hours by its week and the holidays alone (no dated exceptions); a site
    that does not observe public holidays has none."""
    entry = registry.sites[site]
    return OpeningHours(building=entry.building_week, service=entry.service_week,
                        holidays=holidays if entry.observes_holidays else frozenset(),
                        tz=entry.zone)


def opening_hours(session: Session, *, registry: Registry, site: str, first: date, last: date,
                  holidays: Container[date] = FINNISH_HOLIDAYS) -> OpeningHours:
    """The site's hours with the building's dated exceptions from ``first`` to ``last``."""
    rows = session.connection().execute(_EXCEPTIONS, {"site": site, "first": first,
                                                      "last": last})
    exceptions = {day: tuple(tuple(span) for span in spans) for day, spans in rows}
    return replace(weekly_hours(registry, site=site, holidays=holidays), exceptions=exceptions)


def opening_hours_of_sites(session: Session, *, registry: Registry, first: date, last: date,
                           holidays: Container[date] = FINNISH_HOLIDAYS
                           ) -> dict[str, OpeningHours]:
    """Every site's hours from ``first`` to ``last``, in one query (the incident engine asks
    about many sites each round)."""
    rows = session.execute(select(_exception.site, _exception.day, _exception.spans).where(
        _exception.day >= first, _exception.day <= last)).all()
    exceptions: dict[str, dict[date, tuple]] = {}
    for site, day, spans in rows:
        exceptions.setdefault(site, {})[day] = tuple(tuple(span) for span in spans)
    return {site: replace(weekly_hours(registry, site=site, holidays=holidays),
                          exceptions=exceptions.get(site, {})) for site in registry.sites}


def hours_around(session: Session, *, registry: Registry, site: str, instant: datetime,
                 ahead: timedelta = timedelta(days=1),
                 holidays: Container[date] = FINNISH_HOLIDAYS) -> OpeningHours:
    """The site's hours for the local days from ``instant`` to ``instant + ahead`` (what a
    question about "now, or shortly before opening" needs)."""
    weekly = weekly_hours(registry, site=site, holidays=holidays)
    return opening_hours(session, registry=registry, site=site,
                         first=weekly.local_day(instant),
                         last=weekly.local_day(instant + ahead), holidays=holidays)


def set_building_exception(session: Session, *, site: str, day: date,
                           spans: list[tuple[int, int]], reason: str) -> BuildingException:
    """Set the building's hours of one day (no spans: closed that day); the caller commits."""
    row = session.get(BuildingException, (site, day)) or BuildingException(site=site, day=day)
    row.spans, row.reason = [list(s) for s in spans], reason
    session.add(row)
    session.flush()
    return row
