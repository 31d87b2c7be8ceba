"""The desk reads people's words, not codes: the device, what was found, the fault code and
who acted, in Finnish and Swedish on the queue and the incident's page; an incident that came
back says it was reopened, how many times and when last. A code no text knows yet still
reads as a sentence."""
from __future__ import annotations

import re
from datetime import timedelta

import pytest

from cloud.incidents import service
from cloud.incidents.words import (
    CONDITIONS,
    DEVICES,
    FAULT_CODES,
    actor_words,
    code_words,
    device_words,
    finding_words,
)
from cloud.texts import CLOUD, texts
from tests.accounts.conftest import PASSWORD
from tests.pages import checked, served, staff_page
from tests.support_console.conftest import helsinki, routing

CODES = ("doccam", "unplugged", "doccam_missing", "engine")


def reopened_doccam(app) -> int:
    """The document camera of Porvoo's room unplugged (found by the engine), resolved when
    it came back and reopened twice, last on Monday at 08:05."""
    rules = routing(app)
    with app.state.sessionmaker() as session:
        row = service.open_incident(
            session, routing=rules, site="porvoo", room="r1", device="doccam",
            rule="doccam_missing", category="equipment", severity="major", code="unplugged",
            condition="porvoo/r1/doccam/health", now=helsinki(10, 7, 0))
        for minutes in (20, 65):
            service.resolve(session, incident=row, actor="engine",
                            now=helsinki(10, 7, minutes - 10))
            service.reopen(session, incident=row, now=helsinki(10, 7, 0) + timedelta(
                minutes=minutes))
        session.commit()
        return row.id


WORDS = {
    "fi": {"fault": "Dokumenttikamera: ei löydy (irrotettu)",
           "reopened": "Avattu uudelleen", "times": "2 kertaa, viimeksi 10.11.2025 08:05",
           "actor": "Vianvalvonta (automaattinen)", "device": "Dokumenttikamera (irrotettu)"},
    "sv": {"fault": "Dokumentkamera: hittas inte (urkopplad)",
           "reopened": "Återöppnat", "times": "2 gånger, senast 10.11.2025 08:05",
           "actor": "Felövervakningen (automatisk)", "device": "Dokumentkamera (urkopplad)"},
}


@pytest.mark.browser
@pytest.mark.parametrize("lang", ["fi", "sv"])
def test_the_desk_reads_words_and_the_reopened_count_on_the_queue_and_the_incident(
        chromium, app, lang):
    incident_id = reopened_doccam(app)
    said = WORDS[lang]
    with served(app) as base, staff_page(chromium, base, "sup-desk", PASSWORD,
                                                path=f"/console/support?lang={lang}") as page:
        card = page.locator(f"#incident-{incident_id}")
        assert card.locator(".fault dd").inner_text() == said["fault"]
        assert card.locator(".reopened dt").inner_text() == said["reopened"]
        assert card.locator(".reopened dd").inner_text() == said["times"]
        assert not any(code in card.inner_text() for code in CODES)
        checked(page, f"support-queue-words-{lang}")

        page.goto(f"{base}/console/support/incidents/{incident_id}")
        main = page.locator("main")
        assert main.locator(".reopened dd").inner_text() == said["times"]
        assert said["device"] in main.inner_text()
        actors = main.locator(".history .actor").all_inner_texts()
        assert actors and set(actors) == {said["actor"]}
        assert not any(code in main.inner_text() for code in CODES)
        checked(page, f"support-incident-words-{lang}")


def test_every_code_the_fleet_reports_has_words_and_an_unknown_one_still_reads():
    adapters = "".join(p.read_text(encoding="utf-8")
                       for p in (CLOUD.parent / "edge" / "adapters").glob("*.py"))
    reported = set(re.findall(r'Reading\("[a-z]+", "([a-z_]+)"', adapters))
    assert reported and reported <= set(FAULT_CODES)
    named = [f"incidents.{kind}_{value}" for kind, values in
             (("device", DEVICES), ("condition", CONDITIONS), ("code", FAULT_CODES))
             for value in values]
    assert [key for key in named if key not in texts()] == []
    category = {"furniture": "Kalusteet"}.get
    assert device_words("sv", "callbutton") == "Kallelseknapp"
    assert code_words("fi", "link_down") == "verkkoyhteys poikki"
    assert code_words("en", "smoke_detected") == "fault code smoke_detected"
    assert device_words("fi", "printer") == "Laite ”printer”"
    assert finding_words("fi", "agent_offline", "agent", category) == \
        "Huoneen valvontaohjelma: yhteys poikki"
    assert finding_words("sv", "callbutton_battery_low", "callbutton", category) == \
        "Kallelseknapp: batteriet nästan slut"
    assert finding_words("fi", "reported_furniture", None, category) == \
        "Ilmoitettu käsin: Kalusteet"
    assert finding_words("en", "printer_jammed", "printer", category) == \
        "Other finding (printer_jammed)"
    assert actor_words("fi", "party:supplier", lambda p: "Toimittaja") == \
        "Toimittaja sähköpostin linkistä"
    assert actor_words("sv", "adv-porvoo", str) == "adv-porvoo"
