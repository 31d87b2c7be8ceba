"""Incidents under the staff access rules: an advisor sees and acts on the incidents of their
own sites, a support party on its own; nobody else, and every refusal is audited."""
from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import select

from cloud.accounts import service
from cloud.accounts.models import AuditEntry
from tests.accounts.conftest import ADMIN_TOKEN, NOW, PASSWORD, login

ADMIN = {"Authorization": f"Bearer {ADMIN_TOKEN}"}


def report(client: TestClient, site: str, category: str, **extra) -> dict:
    answer = client.post("/api/incidents", headers=ADMIN, json={
        "site": site, "room": "r1", "category": category, "summary": "Testi", **extra})
    assert answer.status_code == 201, answer.text
    return answer.json()


def test_incidents_are_seen_and_handled_only_within_the_callers_scope(app):
    with TestClient(app) as client:
        porvoo = report(client, "porvoo", "furniture", owner="state")
        imatra = report(client, "imatra", "space")
        with app.state.sessionmaker() as session:
            for username, party in (("sup-porvoo-party", porvoo["party"]),
                                    ("sup-imatra-party", imatra["party"])):
                service.create_staff(session, app.state.registry, username=username,
                                     display_name=username, role="support", organisation=party,
                                     sites=[], password=PASSWORD, now=NOW)
                session.commit()
        advisor, support, expert = (login(client, u) for u in
                                    ("adv-porvoo", "sup-porvoo-party", "exp-kela"))
        assert [i["id"] for i in client.get("/api/incidents", headers=advisor).json()] == [
            porvoo["id"]]
        assert [i["id"] for i in client.get("/api/incidents", headers=support).json()] == [
            porvoo["id"]]
        assert client.get("/api/incidents", headers=expert).status_code == 403
        assert client.get(f"/api/incidents/{imatra['id']}", headers=advisor).status_code == 404
        assert client.post(f"/api/incidents/{imatra['id']}/acknowledge",
                           headers=support).status_code == 404
        assert client.post("/api/incidents", headers=advisor, json={
            "site": "imatra", "room": "r1", "category": "space", "summary": "x y z"}
        ).status_code == 403
        acknowledged = client.post(f"/api/incidents/{porvoo['id']}/acknowledge", headers=support)
        assert acknowledged.json()["state"] == "acknowledged"
        trail = client.get(f"/api/incidents/{porvoo['id']}", headers=advisor).json()["events"]
        assert trail[-1]["actor"] == "sup-porvoo-party"
    with TestClient(app) as anonymous:  # no session cookie, no token
        assert anonymous.get("/api/incidents").status_code == 401
    with app.state.sessionmaker() as session:
        refused = session.scalars(select(AuditEntry).where(AuditEntry.outcome == "refused")).all()
    assert {(e.actor, e.action) for e in refused} >= {
        ("exp-kela", "incident.read"), ("adv-porvoo", "incident.read"),
        ("sup-porvoo-party", "incident.act"), ("adv-porvoo", "incident.report")}
