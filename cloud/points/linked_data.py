"""A point as schema.org ``GovernmentOffice`` (JSON-LD): pure, no I/O.

The regular week is one ``OpeningHoursSpecification`` per run of weekdays with the same hours;
each special day of the published weeks (a public holiday, the building's dated hours) is one
more with ``validFrom`` = ``validThrough`` = that day, closed as ``00:00``-``00:00`` (the
convention search engines read as closed all day). A reader applies the dated entries over the
weekly ones, as the page does.
"""
from __future__ import annotations

from cloud.points.week import PublishedHours, hhmm
from cloud.registry import Registry

SCHEMA_DAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


def _spec(opens: str, closes: str, **when) -> dict:
    return {"@type": "OpeningHoursSpecification", **when, "opens": opens, "closes": closes}


def opening_hours_specification(hours: PublishedHours) -> list[dict]:
    """The weekly entries, then one dated entry per span (or closure) of each special day."""
    specs = [_spec(hhmm(start), hhmm(end), dayOfWeek=[f"https://schema.org/{SCHEMA_DAYS[d]}"
                                                     for d in range(first, last + 1)])
             for first, last, spans in hours.regular_groups() for start, end in spans]
    for special in hours.special_days:
        dated = {"validFrom": special.day.isoformat(), "validThrough": special.day.isoformat()}
        specs.extend([_spec(hhmm(s), hhmm(e), **dated) for s, e in special.spans]
                     or [_spec("00:00", "00:00", **dated)])
    return specs


def government_office(registry: Registry, *, site: str, hours: PublishedHours, lang: str,
                      url: str) -> dict:
    """The point at ``url`` as a ``GovernmentOffice`` in ``lang``."""
    entry = registry.sites[site]
    office = {"@context": "https://schema.org", "@type": "GovernmentOffice", "@id": url,
              "url": url, "name": getattr(entry.name, lang),
              "openingHoursSpecification": opening_hours_specification(hours)}
    if entry.phone:
        office["telephone"] = entry.phone
    if entry.address:
        address = entry.address
        office["address"] = {
            "@type": "PostalAddress", "addressCountry": "FI", "postalCode": address.postal_code,
            "streetAddress": f"{getattr(address.street, lang)} {address.number}",
            "addressLocality": getattr(address.post_office, lang)}
    features = _amenities(registry, site)
    if features:
        office["amenityFeature"] = features
    return office


def _amenities(registry: Registry, site: str) -> list[dict]:
    """Step-free access and an induction loop, as the registry states them of the rooms."""
    rooms = [room.access for room in registry.sites[site].rooms.values() if room.access]
    if not rooms:
        return []
    return [{"@type": "LocationFeatureSpecification", "name": name,
             "value": all(getattr(access, field) for access in rooms)}
            for name, field in (("Step-free access", "step_free"),
                                ("Induction loop", "induction_loop"))]
