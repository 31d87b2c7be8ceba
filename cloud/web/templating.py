"""Server-rendered pages: one Jinja2 environment, texts in Finnish, Swedish and English.

Each domain keeps its templates in ``cloud/<domain>/templates/`` and its texts in
``cloud/<domain>/texts.yaml`` (``key: {fi: ..., sv: ..., en: ...}``); ``cloud/web`` holds the
base layout. The language comes from ``?lang=`` (remembered in a cookie), else the cookie,
else Finnish. Names in the registry (``{fi, sv, en}`` mappings) are shown with ``name(...)``.
Times, dates, durations and numbers go through the filters of ``cloud.formats`` (``clock``,
``day``, ``moment``, ``when(now)``, ``duration``, ``minutes``, ``number``), in the page's
language and in the zone the page gives as ``zone`` (a site's; Europe/Helsinki without one).
"""
from __future__ import annotations

from functools import cache
from pathlib import Path
from urllib.parse import urlencode

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, StrictUndefined, pass_context, select_autoescape
from jinja2.runtime import Context

from cloud import formats
from cloud.sites.hours import DEFAULT_ZONE
from cloud.texts import DEFAULT_LANGUAGE, LANGUAGES, localized, texts, translate

CLOUD = Path(__file__).parents[1]
LANGUAGE_COOKIE = "etp_lang"
LANGUAGE_NAMES = {"fi": "Suomeksi", "sv": "På svenska", "en": "In English"}
KIT_TEXT_PREFIXES = ("link.", "problem.", "broker.")  # the texts every page's kit.js may show


def language(request: Request) -> str:
    """The page language of ``request``: ``?lang=``, else the cookie, else Finnish."""
    for chosen in (request.query_params.get("lang"), request.cookies.get(LANGUAGE_COOKIE)):
        if chosen in LANGUAGES:
            return chosen
    return DEFAULT_LANGUAGE


@cache
def environment() -> Environment:
    """The one Jinja2 environment: the base layout first, then every domain's templates."""
    folders = [CLOUD / "web" / "templates",
               *sorted(p for p in CLOUD.glob("*/templates") if p.parent.name != "web")]
    env = Environment(loader=FileSystemLoader([str(f) for f in folders]),
                      autoescape=select_autoescape(default=True), undefined=StrictUndefined,
                      trim_blocks=True, lstrip_blocks=True)
    env.globals["LANGUAGES"], env.globals["LANGUAGE_NAMES"] = LANGUAGES, LANGUAGE_NAMES
    env.filters.update(FORMAT_FILTERS)
    return env


def _lang(context: Context) -> str:
    return context.get("lang") or DEFAULT_LANGUAGE


def _zone(context: Context, zone=None):
    """The zone a filter shows local time in: the one it is given (a row's site, in a list of
    several sites), else the page's ``zone``, else the platform's."""
    return zone or context.get("zone") or DEFAULT_ZONE


# the one set of filters every page formats times, durations and numbers with
FORMAT_FILTERS = {
    "clock": pass_context(lambda c, instant, zone=None, seconds=False:
                          formats.clock(instant, _zone(c, zone), seconds=seconds)),
    "day": pass_context(lambda c, day, zone=None, year=True:
                        formats.day_text(day, _zone(c, zone), year=year)),
    "moment": pass_context(lambda c, instant, zone=None:
                           formats.moment(instant, _zone(c, zone))),
    "when": pass_context(lambda c, instant, now, zone=None:
                         formats.when(instant, now, _zone(c, zone))),
    "duration": pass_context(lambda c, span: formats.duration(_lang(c), span)),
    "minutes": pass_context(lambda c, count: formats.minutes(_lang(c), count)),
    "number": pass_context(lambda c, value, decimals=None:
                           formats.number(_lang(c), value, decimals)),
}


def script_texts(lang: str, keys=()) -> dict[str, str]:
    """The texts a page's script reads (kit.js ``text(key)``): the kit's own (the live link,
    refusals by reason) and ``keys``, in ``lang``, their ``{name}`` fields left to fill."""
    wanted = [k for k in texts() if k.startswith(KIT_TEXT_PREFIXES)] + list(keys)
    return {key: translate(lang, key) for key in wanted}


def live_silence_ms(request: Request) -> int:
    """How long a live page waits without hearing its link before it reconnects: twice the
    stream's keepalive interval (``ETP_CALLS_KEEPALIVE_S``)."""
    from cloud.calls.views import call_settings

    return int(call_settings(request).keepalive_s * 2000)


def render(request: Request, template: str, *, status_code: int = 200, script_keys=(),
           **context) -> HTMLResponse:
    """``template`` rendered for ``request`` in its language; ``t(key, **values)`` and
    ``name(mapping)`` are in the context, and ``lang_url(code)`` links this page in another
    language. ``script_keys`` are the texts the page's script reads besides the kit's (the
    base layout renders them as one JSON block). A ``?lang=`` choice is remembered in a
    cookie."""
    lang = language(request)

    def lang_url(code: str) -> str:
        query = {k: v for k, v in request.query_params.items() if k != "lang"}
        return f"{request.url.path}?{urlencode({**query, 'lang': code})}"

    html = environment().get_template(template).render(
        request=request, lang=lang, lang_url=lang_url,
        t=lambda key, **values: translate(lang, key, **values),
        name=lambda names: localized(names, lang), page_texts=script_texts(lang, script_keys),
        live_silence_ms=lambda: live_silence_ms(request), **context)
    response = HTMLResponse(html, status_code=status_code)
    if request.query_params.get("lang") in LANGUAGES:
        response.set_cookie(LANGUAGE_COOKIE, lang, max_age=365 * 24 * 3600, samesite="lax",
                            path="/")
    return response
