"""Times, dates, durations and numbers as people read them, in Finnish, Swedish and English:
the one way for pages (Jinja filters, registered once by ``cloud.web.templating``), messages
(SMS and e-mail texts) and reports.

- a clock time is ``09:30`` (``09:30:05`` with seconds), a date ``7.12.2026``, a day without
  its year ``7.12.``, in every language (the numeric form staff in Finland read in all three);
- a duration is hours and minutes, rounded up to the minute so "0 min" means none left:
  ``4 t 0 min`` (fi), ``4 h 0 min`` (sv, en), ``45 min`` under an hour;
- a number groups thousands and marks decimals in the language's style: ``7 560,5`` (fi, sv,
  with a no-break space) and ``7,560.5`` (en).

Local times are in a zone the caller gives: a site's (``cloud.sites.hours.site_zone``), or
Europe/Helsinki, the platform's, by default. Pure: no I/O, nothing reads the clock.
"""
from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from cloud.sites.hours import DEFAULT_ZONE

NO_BREAK_SPACE = "\u00a0"
# language -> (thousands separator, decimal mark)
_NUMBER_MARKS = {"fi": (NO_BREAK_SPACE, ","), "sv": (NO_BREAK_SPACE, ","), "en": (",", ".")}
_HOURS = {"fi": "t", "sv": "h", "en": "h"}  # the hour's abbreviation in a duration


def number(lang: str, value: float, decimals: int | None = None) -> str:
    """``value`` with the language's thousands separator and decimal mark; a float keeps one
    decimal unless ``decimals`` says otherwise, an int none."""
    if decimals is None:
        decimals = 1 if isinstance(value, float) else 0
    grouping, mark = _NUMBER_MARKS[lang]
    text = f"{value:,.{decimals}f}"  # "7,560.5": swap Python's marks for the language's
    return text.replace(",", "\0").replace(".", mark).replace("\0", grouping)


def duration(lang: str, span: timedelta) -> str:
    """A span in hours and minutes, rounded up to the minute (so "0 min" means none left):
    ``4 t 0 min`` (fi), ``4 h 0 min`` (sv, en); ``45 min`` under an hour."""
    minutes = max(0, -(-int(span.total_seconds()) // 60))
    hours, minutes = divmod(minutes, 60)
    if hours:
        return f"{number(lang, hours)} {_HOURS[lang]} {minutes} min"
    return f"{minutes} min"


def minutes(lang: str, count: int) -> str:
    """A count of whole minutes as a duration (task time, a call's wait)."""
    return duration(lang, timedelta(minutes=count))


def local(instant: datetime, zone: ZoneInfo = DEFAULT_ZONE) -> datetime:
    """``instant`` as wall time in ``zone``."""
    return instant.astimezone(zone)


def clock(instant: datetime | None, zone: ZoneInfo = DEFAULT_ZONE, *,
          seconds: bool = False) -> str:
    """The local wall clock, ``09:30`` (``09:30:05`` with seconds); empty for no instant."""
    if instant is None:
        return ""
    return local(instant, zone).strftime("%H:%M:%S" if seconds else "%H:%M")


def day_text(day: date | datetime, zone: ZoneInfo = DEFAULT_ZONE, *, year: bool = True) -> str:
    """A calendar day, ``7.12.2026`` (``7.12.`` without the year); an instant's local day."""
    if isinstance(day, datetime):
        day = local(day, zone).date()
    return f"{day.day}.{day.month}.{day.year}" if year else f"{day.day}.{day.month}."


def moment(instant: datetime | None, zone: ZoneInfo = DEFAULT_ZONE) -> str:
    """A local day and time, ``7.12.2026 09:30``; a dash for no instant."""
    if instant is None:
        return "–"
    return f"{day_text(instant, zone)} {clock(instant, zone)}"


def when(instant: datetime, now: datetime, zone: ZoneInfo = DEFAULT_ZONE) -> str:
    """The local clock, with the day (``8.12. 08:30``) when it is not today at ``now``."""
    if local(instant, zone).date() == local(now, zone).date():
        return clock(instant, zone)
    return f"{day_text(instant, zone, year=False)} {clock(instant, zone)}"
