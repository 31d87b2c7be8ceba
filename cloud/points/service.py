"""Service functions of the points: a point's published hours from the site's one
opening-hours model and the building's stored exceptions. Reads only; nothing to commit."""
from __future__ import annotations

from collections.abc import Container
from datetime import date, datetime, timedelta

from sqlalchemy.orm import Session

from cloud.points.week import PUBLISHED_DAYS, PublishedHours, published_hours
from cloud.registry import Registry
from cloud.sites.calendar import FINNISH_HOLIDAYS
from cloud.sites.hours import site_zone
from cloud.sites.service import opening_hours


def first_day(registry: Registry, *, site: str, now: datetime) -> date:
    """Today at the point: where its published weeks start."""
    return now.astimezone(site_zone(registry, site)).date()


def hours_of(session: Session, *, registry: Registry, site: str, first: date,
             holidays: Container[date] = FINNISH_HOLIDAYS) -> PublishedHours:
    """The point's regular week and its four weeks from ``first``, exceptions included."""
    last = first + timedelta(days=PUBLISHED_DAYS - 1)
    hours = opening_hours(session, registry=registry, site=site, first=first, last=last,
                          holidays=holidays)
    return published_hours(hours, first)
