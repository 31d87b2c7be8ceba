"""The texts the incident pages name by a value (a category, a state, an event...) exist in
Finnish, Swedish and English for every value the domain has; a value from the address bar
names nothing."""
from __future__ import annotations

import re

from fastapi.testclient import TestClient

from cloud.incidents.lifecycle import STATES
from cloud.incidents.matrix import CATEGORIES
from cloud.incidents.pages import EVENT_KINDS, LABELS, label
from cloud.texts import CLOUD, texts
from tests.accounts.conftest import PASSWORD


def test_every_value_a_page_names_has_a_text_in_each_language():
    missing = [f"incidents.{kind}_{value}" for kind, values in LABELS.items()
               for value in values if f"incidents.{kind}_{value}" not in texts()]
    assert missing == []
    assert set(LABELS["category"]) == set(CATEGORIES) and set(LABELS["state"]) == set(STATES)
    assert label("sv", "category", "furniture") == "Möbler"


def test_every_kind_of_audit_entry_the_domain_writes_is_named():
    source = "".join(p.read_text(encoding="utf-8") for p in (CLOUD / "incidents").glob("*.py"))
    written = set(re.findall(r'audit\([^)]*?"([a-z_]+)"', source))
    assert written and written <= set(EVENT_KINDS)


def test_a_made_up_notice_in_the_address_shows_nothing(sqlite_app):
    with TestClient(sqlite_app) as client:
        client.post("/login", data={"username": "sup-desk", "password": PASSWORD},
                    headers={"origin": "http://testserver"})
        answer = client.get("/console/support?done=<script>&incident=1")
    assert answer.status_code == 200 and "<script>" not in answer.text
    assert 'role="status"' not in answer.text
