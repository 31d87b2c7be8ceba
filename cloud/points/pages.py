"""The public pages of the points, without login: ``/points`` lists them, ``/points/{site}``
tells a customer before the visit where the point is, how the room is reached, which
authorities and services are there, when it is open the next four weeks (holidays and the
building's exceptions included) and how to book; ``/points/{site}.jsonld`` is the same point
as schema.org JSON-LD, which the page also carries in its head (a data block, not a script:
the CSP does not apply to it)."""
from __future__ import annotations

import json

from fastapi import APIRouter, Request
from fastapi.responses import Response

from cloud.api.deps import NowDep, RegistryDep, SessionDep
from cloud.api.inputs import Code
from cloud.api.refusals import not_found
from cloud.bookings.rules import BookingRules
from cloud.bookings.views import RulesDep
from cloud.points.linked_data import government_office
from cloud.points.service import first_day, hours_of
from cloud.points.week import PublishedHours
from cloud.registry import Registry
from cloud.sites.calendar import holiday_name
from cloud.sites.hours import WEEKDAYS, local_instant
from cloud.web.templating import language, render

router = APIRouter(include_in_schema=False)
JSON_LD = "application/ld+json"


@router.get("/points")
def points_page(request: Request, registry: RegistryDep) -> Response:
    """Every point of the fleet, by its name in the page's language."""
    lang = language(request)
    points = [{"site": site, "name": getattr(entry.name, lang),
               "place": getattr(entry.address.post_office, lang) if entry.address
               else entry.municipality} for site, entry in registry.sites.items()]
    return render(request, "points-list.html", points=points)


@router.get("/points/{site}.jsonld")
def point_linked_data(site: Code, request: Request, registry: RegistryDep, session: SessionDep,
                      now: NowDep, rules: RulesDep) -> Response:
    """The point as a schema.org ``GovernmentOffice`` (``?lang=`` names it; Finnish by
    default), for catalogues that read the hours without the page."""
    hours = hours_of(session, registry=_known(registry, site), site=site,
                     first=first_day(registry, site=site, now=now),
                     holidays=rules.holidays)
    office = government_office(registry, site=site, hours=hours, lang=language(request),
                               url=_page_url(request, site))
    return Response(json.dumps(office, ensure_ascii=False), media_type=JSON_LD)


@router.get("/points/{site}")
def point_page(site: Code, request: Request, registry: RegistryDep, session: SessionDep,
               now: NowDep, rules: RulesDep) -> Response:
    """The public page of one point in the reader's language."""
    hours = hours_of(session, registry=_known(registry, site), site=site,
                     first=first_day(registry, site=site, now=now),
                     holidays=rules.holidays)
    lang, entry = language(request), registry.sites[site]
    office = government_office(registry, site=site, hours=hours, lang=lang,
                               url=_page_url(request, site))
    return render(request, "point.html", site=site, entry=entry, zone=entry.zone,
                  title=getattr(entry.name, lang), rooms=_rooms(entry, lang),
                  authorities=_authorities(registry, rules, site, lang),
                  week=_regular(hours, entry.zone), days=_days(hours, entry.zone, lang),
                  linked_data=office)


def _known(registry: Registry, site: str) -> Registry:
    if site not in registry.sites:
        raise not_found("site")
    return registry


def _page_url(request: Request, site: str) -> str:
    return str(request.url_for("point_page", site=site))


def _rooms(entry, lang: str) -> list[dict]:
    return [{"name": room.local_name(lang), "access": room.access}
            for room in entry.rooms.values()]


def _authorities(registry: Registry, rules: BookingRules, site: str, lang: str) -> list[dict]:
    """Each authority at the point with its phone service and its services here."""
    offered = rules.catalogue.offered_at(registry, site).values()
    return [{"name": getattr(registry.authorities[a].name, lang),
             "phone": registry.authorities[a].phone,
             "services": [getattr(s.name, lang) for s in offered if s.authority == a]}
            for a in registry.sites[site].authorities]


def _regular(hours: PublishedHours, zone) -> list[dict]:
    """The regular week's runs of weekdays, each span as instants of a day of that weekday in
    the published weeks (so the page's clock filter shows them)."""
    sample = {d.day.weekday(): d.day for d in reversed(hours.days)}
    return [{"first": WEEKDAYS[first], "last": WEEKDAYS[last],
             "spans": [(local_instant(sample[first], s, zone), local_instant(sample[first], e,
                                                                             zone))
                       for s, e in spans]}
            for first, last, spans in hours.regular_groups()]


def _days(hours: PublishedHours, zone, lang: str) -> list[dict]:
    return [{"day": d.day, "weekday": WEEKDAYS[d.day.weekday()], "special": d.special,
             "holiday": holiday_name(d.day, lang) if d.holiday else None,
             "exception": d.exception,
             "spans": [(local_instant(d.day, s, zone), local_instant(d.day, e, zone))
                       for s, e in d.spans]} for d in hours.days]
