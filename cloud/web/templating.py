"""Server-rendered pages: one Jinja2 environment, texts in Finnish, Swedish and English.

Each domain keeps its templates in ``cloud/<domain>/templates/`` and its texts in
``cloud/<domain>/texts.yaml`` (``key: {fi: ..., sv: ..., en: ...}``); ``cloud/web`` holds the
base layout. The language comes from ``?lang=`` (remembered in a cookie), else the cookie,
else Finnish. Names in the registry (``{fi, sv, en}`` mappings) are shown with ``name(...)``.
"""
from __future__ import annotations

from functools import cache
from pathlib import Path
from urllib.parse import urlencode

import yaml
from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

CLOUD = Path(__file__).parents[1]
LANGUAGES = ("fi", "sv", "en")
DEFAULT_LANGUAGE = "fi"
LANGUAGE_COOKIE = "etp_lang"
LANGUAGE_NAMES = {"fi": "Suomeksi", "sv": "På svenska", "en": "In English"}


def language(request: Request) -> str:
    """The page language of ``request``: ``?lang=``, else the cookie, else Finnish."""
    for chosen in (request.query_params.get("lang"), request.cookies.get(LANGUAGE_COOKIE)):
        if chosen in LANGUAGES:
            return chosen
    return DEFAULT_LANGUAGE


@cache
def texts() -> dict[str, dict[str, str]]:
    """Every domain's texts by key (packaged with the code, so read once); a key defined
    twice is an error, so one text has one place."""
    merged: dict[str, dict[str, str]] = {}
    for path in sorted(CLOUD.glob("*/texts.yaml")):
        for key, versions in (yaml.safe_load(path.read_text(encoding="utf-8")) or {}).items():
            if key in merged:
                raise ValueError(f"text {key!r} is defined twice ({path})")
            if not isinstance(versions, dict) or set(versions) != set(LANGUAGES) \
                    or not all(isinstance(v, str) and v for v in versions.values()):
                # a comma in an unquoted YAML flow value splits it into stray keys
                raise ValueError(f"text {key!r} needs exactly fi, sv and en, each a non-empty "
                                 f"string; quote texts with commas ({path})")
            merged[key] = versions
    return merged


def translate(lang: str, key: str, **values) -> str:
    """The text ``key`` in ``lang``, with ``{name}`` fields filled from ``values``."""
    text = texts()[key][lang]
    return text.format(**values) if values else text


def localized(names, lang: str) -> str:
    """A registry name in ``lang``: a ``{fi, sv, en}`` mapping falls back to Finnish; a plain
    string (a name with one form) is itself."""
    if isinstance(names, dict):
        return names.get(lang) or names.get(DEFAULT_LANGUAGE) or next(iter(names.values()))
    return str(names)


@cache
def environment() -> Environment:
    """The one Jinja2 environment: the base layout first, then every domain's templates."""
    folders = [CLOUD / "web" / "templates",
               *sorted(p for p in CLOUD.glob("*/templates") if p.parent.name != "web")]
    env = Environment(loader=FileSystemLoader([str(f) for f in folders]),
                      autoescape=select_autoescape(default=True), undefined=StrictUndefined,
                      trim_blocks=True, lstrip_blocks=True)
    env.globals["LANGUAGES"], env.globals["LANGUAGE_NAMES"] = LANGUAGES, LANGUAGE_NAMES
    return env


def render(request: Request, template: str, *, status_code: int = 200, **context) -> HTMLResponse:
    """``template`` rendered for ``request`` in its language; ``t(key, **values)`` and
    ``name(mapping)`` are in the context, and ``lang_url(code)`` links this page in another
    language. A ``?lang=`` choice is remembered in a cookie."""
    lang = language(request)

    def lang_url(code: str) -> str:
        query = {k: v for k, v in request.query_params.items() if k != "lang"}
        return f"{request.url.path}?{urlencode({**query, 'lang': code})}"

    html = environment().get_template(template).render(
        request=request, lang=lang, lang_url=lang_url,
        t=lambda key, **values: translate(lang, key, **values),
        name=lambda names: localized(names, lang), **context)
    response = HTMLResponse(html, status_code=status_code)
    if request.query_params.get("lang") in LANGUAGES:
        response.set_cookie(LANGUAGE_COOKIE, lang, max_age=365 * 24 * 3600, samesite="lax",
                            path="/")
    return response
