"""People's words for what an incident records as codes: the device, the finding (the rule
that fired), the device's fault code and who acted. Pure: a code and a language in, a text of
``texts.yaml`` out; a code the texts do not know yet (a newer agent's fault code) still reads
as a sentence that names it, never as a bare code or an error."""
from __future__ import annotations

from collections.abc import Callable

from cloud.texts import texts, translate

DEVICES = ("agent", "terminal", "doccam", "callbutton", "occupancy", "network")
# what follows the device in a rule's name (``rules.rule_name``): a health state or a rule
CONDITIONS = ("offline", "degraded", "fault", "missing", "unknown", "battery_low", "silent",
              "clock_skew", "data_loss", "stuck")
# the codes the room agent's adapters, the firmware and the engine's own rules report
FAULT_CODES = ("unplugged", "frozen", "touch_failure", "touch_missing", "camera_missing",
               "battery_low", "disk_low", "overheat", "link_down", "high_latency",
               "occupied_too_long", "no_messages", "clock_skew", "sequence_gaps")
ENGINE, SESSION, PARTY_LINK = "engine", "session", "party:"
REPORTED = "reported_"


def _known(lang: str, key: str, fallback: str, **values) -> str:
    """The text ``key`` when the texts have it, else ``fallback`` filled with ``values``."""
    return translate(lang, key) if key in texts() else translate(lang, fallback, **values)


def device_words(lang: str, device: str) -> str:
    """A device's name: "Dokumenttikamera", or "Laite ”x”" for one the texts do not know."""
    return _known(lang, f"incidents.device_{device}", "incidents.device_other", device=device)


def code_words(lang: str, code: str) -> str:
    """A fault code in words: "irrotettu", or "vikakoodi x" for one not known yet."""
    return _known(lang, f"incidents.code_{code}", "incidents.code_other", code=code)


def finding_words(lang: str, rule: str, device: str | None,
                  category_words: Callable[[str], str]) -> str:
    """What was found, from the rule's name: "Dokumenttikamera: ei löydy", "Ilmoitettu
    käsin: Kalusteet" (``category_words`` names a category), else the rule named in a
    sentence."""
    if rule.startswith(REPORTED):
        return translate(lang, "incidents.finding_reported",
                         category=category_words(rule.removeprefix(REPORTED)))
    named, _, condition = rule.partition("_")
    if device and rule.startswith(f"{device}_"):
        named, condition = device, rule.removeprefix(f"{device}_")
    if condition in CONDITIONS:
        return translate(lang, "incidents.finding_device", device=device_words(lang, named),
                         condition=translate(lang, f"incidents.condition_{condition}"))
    return translate(lang, "incidents.finding_other", rule=rule)


def actor_words(lang: str, actor: str, party_name: Callable[[str], str]) -> str:
    """Who acted: the fault monitoring, a video session, a party through its e-mail link
    (``party_name`` names the party), else the member of staff's username as it is."""
    if actor in (ENGINE, SESSION):
        return translate(lang, f"incidents.actor_{actor}")
    if actor.startswith(PARTY_LINK):
        return translate(lang, "incidents.actor_party",
                         party=party_name(actor.removeprefix(PARTY_LINK)))
    return actor
