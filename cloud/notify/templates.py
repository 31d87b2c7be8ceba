"""Message templates in Finnish and English, registered by the domains that send them.

A template is a subject and a body per language, with ``{name}`` placeholders filled from the
message context. Contexts carry only operational facts (sites, rooms, devices, times, links):
never a customer's personal data.
"""
from __future__ import annotations

import string
from dataclasses import dataclass

LANGUAGES = ("fi", "en")


class TemplateError(ValueError):
    """An unknown template or language, or a context that lacks a placeholder's value."""


@dataclass(frozen=True)
class Text:
    """The subject and body of one template in one language."""

    subject: str
    body: str


@dataclass(frozen=True)
class Rendered:
    """A template filled with its context."""

    subject: str
    body: str


_TEMPLATES: dict[str, dict[str, Text]] = {}


def register(name: str, texts: dict[str, Text]) -> None:
    """Add a template; every language of ``LANGUAGES`` must be given."""
    missing = set(LANGUAGES) - set(texts)
    if missing:
        raise TemplateError(f"template {name!r} lacks languages {sorted(missing)}")
    _TEMPLATES[name] = dict(texts)


def placeholders(name: str) -> set[str]:
    """The context keys a template needs, over all its languages."""
    fields: set[str] = set()
    for text in _texts(name).values():
        for part in (text.subject, text.body):
            fields |= {f for _, f, _, _ in string.Formatter().parse(part) if f}
    return fields


def check(name: str, language: str, context: dict) -> None:
    """Raise ``TemplateError`` unless ``name``/``language`` exist and ``context`` fills them."""
    if language not in _texts(name):
        raise TemplateError(f"template {name!r} has no language {language!r}")
    missing = placeholders(name) - set(context)
    if missing:
        raise TemplateError(f"template {name!r} needs context {sorted(missing)}")


def render(name: str, language: str, context: dict) -> Rendered:
    """Fill the template's text in ``language`` with ``context``."""
    check(name, language, context)
    text = _texts(name)[language]
    return Rendered(text.subject.format_map(context), text.body.format_map(context))


def _texts(name: str) -> dict[str, Text]:
    try:
        return _TEMPLATES[name]
    except KeyError:
        raise TemplateError(f"unknown template {name!r}") from None


register("test_message", {
    "fi": Text("Testiviesti {n}", "Tämä on etäpalvelun testiviesti {n}."),
    "en": Text("Test message {n}", "This is a test message {n} of the remote service."),
})


def load_domain_templates() -> list[str]:
    """Import every domain's ``templates`` module, so a worker can render any message."""
    import importlib
    import importlib.util
    import pkgutil

    import cloud

    loaded = []
    for domain in pkgutil.iter_modules(cloud.__path__):
        if domain.ispkg and importlib.util.find_spec(f"cloud.{domain.name}.templates"):
            importlib.import_module(f"cloud.{domain.name}.templates")
            loaded.append(domain.name)
    return loaded
