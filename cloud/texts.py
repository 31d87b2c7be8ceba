"""The texts people read, in Finnish, Swedish and English: each domain keeps its own in
``cloud/<domain>/texts.yaml`` (``key: {fi: ..., sv: ..., en: ...}``). Pages, reports and
messages read them here; names in the registry (``{fi, sv, en}`` mappings) through
``localized``."""
from __future__ import annotations

from functools import cache
from pathlib import Path

import yaml

CLOUD = Path(__file__).parent
LANGUAGES = ("fi", "sv", "en")
DEFAULT_LANGUAGE = "fi"


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
