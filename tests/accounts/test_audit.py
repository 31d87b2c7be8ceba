"""The audit log of reads: a console that polls a site's day every 15 s leaves one entry per
reader, thing and five minutes, not four a minute; a change or a refusal is an entry each
time."""
from __future__ import annotations

from datetime import timedelta

from fastapi.testclient import TestClient
from sqlalchemy import select

from cloud.accounts.models import AuditEntry
from tests.accounts.conftest import login


def _entries(app, actor: str, action: str) -> list[tuple[str, str]]:
    with app.state.sessionmaker() as session:
        return [(e.resource, e.outcome) for e in session.scalars(
            select(AuditEntry).where(AuditEntry.actor == actor, AuditEntry.action == action)
            .order_by(AuditEntry.id))]


def test_a_polled_read_is_one_entry_per_window_and_every_refusal_is_kept(app):
    with TestClient(app) as client:
        advisor, other = login(client, "adv-porvoo"), login(client, "adv-imatra")
        for _ in range(4):  # a minute of an open console
            assert client.get("/api/bookings/sites/porvoo/day", headers=advisor).status_code == 200
            app.state.clock.now += timedelta(seconds=15)
        assert _entries(app, "adv-porvoo", "site.day_list") == [("site:porvoo", "allowed")]
        client.get("/api/bookings/sites/imatra/day", headers=advisor)  # another thing: its own entry
        app.state.clock.now += timedelta(minutes=5)
        client.get("/api/bookings/sites/porvoo/day", headers=advisor)  # the next window
        for _ in range(2):
            assert client.get("/api/bookings/sites/porvoo/day", headers=other).status_code == 403
    assert _entries(app, "adv-porvoo", "site.day_list") == [
        ("site:porvoo", "allowed"), ("site:imatra", "refused"), ("site:porvoo", "allowed")]
    assert _entries(app, "adv-imatra", "site.day_list") == [("site:porvoo", "refused")] * 2
