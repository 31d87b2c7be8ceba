"""Reading a point's hours back from what it publishes: the page's rows and its JSON-LD."""
from __future__ import annotations

import json
import re
from datetime import date

WEEKDAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
CLOSED = {"fi": "suljettu", "sv": "stängt", "en": "closed"}
_ROW = re.compile(r'<tr data-day="([0-9-]+)".*?<span class="open">(.*?)</span>', re.DOTALL)
_LINKED_DATA = re.compile(r'<script type="application/ld\+json" id="linked-data">(.*?)</script>',
                          re.DOTALL)


def page_rows(html: str) -> dict[date, str]:
    """The four weeks' table of the page: day -> the hours as shown."""
    return {date.fromisoformat(day): text.strip() for day, text in _ROW.findall(html)}


def page_linked_data(html: str) -> dict:
    """The JSON-LD block in the page's head."""
    return json.loads(_LINKED_DATA.search(html).group(1))


def hours_on(office: dict, day: date, lang: str) -> str:
    """What the JSON-LD says of ``day``, written as the page writes it: a dated entry wins
    over the weekly ones, ``00:00``-``00:00`` is closed."""
    specs = office["openingHoursSpecification"]
    dated = [s for s in specs if s.get("validFrom") == day.isoformat()]
    weekday = f"https://schema.org/{WEEKDAY_NAMES[day.weekday()]}"
    chosen = dated or [s for s in specs if weekday in s.get("dayOfWeek", ())]
    spans = [f"{s['opens']}–{s['closes']}" for s in chosen
             if (s["opens"], s["closes"]) != ("00:00", "00:00")]
    return ", ".join(spans) or CLOSED[lang]
