"""Every text a page shows exists in Finnish, Swedish and English, and every key a template
asks for is defined: a missing translation fails here, not in front of a customer."""
from __future__ import annotations

import re

from cloud.texts import CLOUD, texts

KEY = re.compile(r"""\bt\(\s*["']([a-z0-9_.]+)["']""")


def test_every_text_has_all_three_languages():
    defined = texts()  # raises on a text that lacks a language or is split by a comma
    assert defined and all(set(v) == {"fi", "sv", "en"} for v in defined.values())


def test_every_key_a_template_or_page_asks_for_is_defined():
    defined = texts()
    used = {(path.relative_to(CLOUD).as_posix(), key)
            for path in [*CLOUD.glob("*/templates/**/*.html"), *CLOUD.glob("*/pages.py")]
            for key in KEY.findall(path.read_text(encoding="utf-8"))}
    assert used
    # a key ending in "." or "_" is a prefix completed at run time (``t("x." ~ state)``)
    assert [(path, key) for path, key in sorted(used)
            if key not in defined and not key.endswith((".", "_"))] == []
