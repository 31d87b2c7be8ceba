"""The one Finnish public-holiday calendar: a site, a booking and a support party's SLA desk
hours are closed on the same days (like a Sunday). Pure: the library computes each year's
days, the movable feasts (Easter, Ascension, Midsummer) included, without I/O.

Apart from ``hours.py`` so that the registry, which the fleet tools import without the cloud's
libraries, does not pull in the calendar library."""
from __future__ import annotations

from collections.abc import Container
from datetime import date
from functools import cache

import holidays as holiday_calendars

# New Year, Epiphany, Easter, May Day, Ascension, Pentecost, Midsummer Eve and Day, All
# Saints', Independence Day, Christmas Eve, Christmas and Boxing Day
FINNISH_HOLIDAYS: Container[date] = holiday_calendars.Finland()

# the library's name for each page language's holiday names
_NAME_LANGUAGES = {"fi": "fi", "sv": "sv_FI", "en": "en_US"}


@cache
def _named(lang: str) -> holiday_calendars.HolidayBase:
    return holiday_calendars.Finland(language=_NAME_LANGUAGES[lang])


def holiday_name(day: date, lang: str) -> str | None:
    """The public holiday on ``day`` by its name in ``lang`` (fi, sv, en), or None."""
    return _named(lang).get(day)
