"""An incident logged out of the party's service hours falls due at the SLA clock's time, reads
back through the REST API at exactly that time, and escalates then, not hours later."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import update

from cloud.flows import incident_notifications
from cloud.flows.incidents import incident_engine
from cloud.incidents import service
from cloud.instants import utc_text
from cloud.notify.models import SENT, OutboxMessage
from tests.time.conftest import ADMIN, SETTINGS, routing_of

HELSINKI = ZoneInfo("Europe/Helsinki")


def helsinki(*args) -> datetime:
    """A Helsinki wall time as an instant."""
    return datetime(*args, tzinfo=HELSINKI)


# the supplier's desk: Mon-Fri 08:00-16:15 but Finnish holidays, 30 minutes to respond
OUT_OF_HOURS = {
    "friday_afternoon_before_a_winter_weekend": (helsinki(2026, 1, 9, 16, 0),
                                                 helsinki(2026, 1, 12, 8, 15)),
    "friday_afternoon_before_a_summer_weekend": (helsinki(2026, 6, 5, 16, 0),
                                                 helsinki(2026, 6, 8, 8, 15)),
    "night_before_midsummer": (helsinki(2026, 6, 18, 22, 0), helsinki(2026, 6, 22, 8, 30)),
    "afternoon_before_christmas": (helsinki(2026, 12, 23, 16, 5),
                                   helsinki(2026, 12, 28, 8, 20)),
    "friday_before_summer_time_begins": (helsinki(2026, 3, 27, 16, 0),
                                         helsinki(2026, 3, 30, 8, 15)),
    "friday_before_summer_time_ends": (helsinki(2026, 10, 23, 16, 0),
                                       helsinki(2026, 10, 26, 8, 15)),
}


def accept_notifications(app, incident_id: int, at: datetime) -> None:
    """What the notification worker records when the party's channel accepts the e-mail."""
    with app.state.sessionmaker() as session:
        session.execute(update(OutboxMessage)
                        .where(OutboxMessage.reference.like(f"incident:{incident_id}:open:%"))
                        .values(state=SENT, sent_at=at.astimezone(UTC)))  # its stamp
        session.commit()


@pytest.mark.parametrize("logged, expected", OUT_OF_HOURS.values(), ids=OUT_OF_HOURS)
def test_an_incident_logged_out_of_hours_reads_back_and_escalates_at_the_clocks_due_time(
        app_factory, registry, logged, expected):
    app = app_factory(logged)
    routing = routing_of(app)
    with app.state.sessionmaker() as session:
        incident = service.open_incident(
            session, routing=routing, site="porvoo", room="r1", device="doccam",
            rule="doccam_fault", category="equipment", severity="major", now=logged)
        incident_notifications.opened(session, incident=incident, routing=routing, now=logged)
        session.commit()
    accept_notifications(app, incident.id, logged)
    engine = incident_engine(app.state.sessionmaker, registry, settings=SETTINGS)
    engine.tick(logged + timedelta(seconds=1))  # the engine notices the acceptance
    party = routing.matrix.party(incident.party)
    due = routing.matrix.clock(incident.party).due(logged, party.response_time)
    assert due == expected
    with TestClient(app) as client:
        def read() -> dict:
            answer = client.get(f"/api/incidents/{incident.id}", headers=ADMIN)
            assert answer.status_code == 200, answer.text
            return answer.json()

        assert read()["due_at"] == utc_text(due)
        engine.tick(due - timedelta(seconds=1))
        assert read()["escalated_at"] is None
        engine.tick(due + timedelta(seconds=1))
        shown = read()
    assert shown["state"] == "notified"
    assert shown["escalated_at"] == utc_text(due + timedelta(seconds=1))
    assert shown["opened_at"] == utc_text(logged)
    notified = next(e for e in shown["events"] if e["kind"] == "notified")
    assert notified["detail"] == f"accepted_at={utc_text(logged)}"
