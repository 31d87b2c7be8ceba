"""A point as a service location channel of the Suomi.fi service catalogue (PTV): pure, no I/O.

The document follows the catalogue's open API v11 model of a service location channel
(``V11VmOpenApiServiceLocationChannelIn`` in vrk-kpa/ptv-releases, with its service hours
``V11VmOpenApiServiceHour``, addresses ``V9VmOpenApiAddressLocationIn`` and phones
``V4VmOpenApiPhone``): the regular week is one ``DaysOfTheWeek`` entry valid for now, and each
special day of the published weeks one ``Exceptional`` entry (closed, or its own hours), named
in fi/sv/en, so the catalogue shows the hours the platform books by.
"""
from __future__ import annotations

from cloud.points.linked_data import SCHEMA_DAYS
from cloud.points.week import PublishedDay, PublishedHours, hhmm
from cloud.registry import Registry
from cloud.sites.calendar import holiday_name
from cloud.texts import LANGUAGES, translate

SUMMARY_LIMIT = 150  # the model's longest summary


class NotInCatalogue(ValueError):
    """The registry lacks what the catalogue requires of a point (its organisation, address)."""


def service_location(registry: Registry, *, site: str, hours: PublishedHours) -> dict:
    """The PTV service location channel of ``site`` (the body of a POST or PUT to
    ``/api/v11/ServiceChannel/ServiceLocation``)."""
    entry = registry.sites[site]
    if entry.ptv_organization is None or entry.address is None:
        raise NotInCatalogue(f"the registry gives {site} no ptv_organization or address")
    authorities = [registry.authorities[a].name for a in entry.authorities]
    channel = {
        "sourceId": f"etapalvelu-{site}",
        "organizationId": entry.ptv_organization,
        "serviceChannelNames": [{"type": "Name", "language": lang,
                                 "value": getattr(entry.name, lang)} for lang in LANGUAGES],
        "displayNameType": [{"type": "Name", "language": lang} for lang in LANGUAGES],
        "serviceChannelDescriptions": _descriptions(authorities),
        "areaType": "Nationwide",
        "languages": list(LANGUAGES),
        "addresses": [_address(entry.address)],
        "serviceHours": _service_hours(hours),
        "publishingStatus": "Published",
    }
    if entry.phone:
        channel["phoneNumbers"] = [_phone(entry.phone, lang) for lang in LANGUAGES]
    return channel


def _descriptions(authorities) -> list[dict]:
    out = []
    for lang in LANGUAGES:
        names = ", ".join(getattr(name, lang) for name in authorities)
        summary = translate(lang, "points.ptv.summary")[:SUMMARY_LIMIT]
        out += [{"type": "Summary", "language": lang, "value": summary},
                {"type": "Description", "language": lang,
                 "value": translate(lang, "points.ptv.description", authorities=names)}]
    return out


def _address(address) -> dict:
    return {"type": "Location", "subType": "Single", "country": "FI", "streetAddress": {
        "street": [{"value": getattr(address.street, lang), "language": lang}
                   for lang in LANGUAGES],
        "streetNumber": address.number, "postalCode": address.postal_code,
        "municipality": address.municipality_code}}


def _phone(number: str, lang: str) -> dict:
    """A phone number as the catalogue splits it: country prefix and the rest."""
    return {"prefixNumber": number[:4], "number": number[4:], "isFinnishServiceNumber": False,
            "serviceChargeType": "Chargeable", "language": lang}


def _opening(spans, weekday: int) -> list[dict]:
    return [{"dayFrom": SCHEMA_DAYS[weekday], "from": hhmm(start), "to": hhmm(end)}
            for start, end in spans]


def _service_hours(hours: PublishedHours) -> list[dict]:
    standard = {"serviceHourType": "DaysOfTheWeek", "validForNow": True, "isClosed": False,
                "openingHour": [o for weekday, spans in enumerate(hours.regular)
                                for o in _opening(spans, weekday)]}
    return [standard, *(_exceptional(day) for day in hours.special_days)]


def _exceptional(special: PublishedDay) -> dict:
    day = special.day.isoformat()
    entry = {"serviceHourType": "Exceptional", "validFrom": f"{day}T00:00:00",
             "validTo": f"{day}T00:00:00", "isClosed": not special.spans,
             "openingHour": _opening(special.spans, special.day.weekday())}
    if special.holiday:
        entry["additionalInformation"] = [
            {"value": holiday_name(special.day, lang) or "", "language": lang}
            for lang in LANGUAGES]
    return entry
