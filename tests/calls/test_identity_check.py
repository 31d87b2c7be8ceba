"""The expert's request for an identity check, over the real store (SQLite and PostgreSQL):
it calls the advisor like the button does, is not ended by the advisor walking in, ends when
the advisor confirms the check, texts the backup number in its own words when nobody takes
it, and stays out of the call-button statistics."""
from __future__ import annotations

import json
import queue
import threading
from datetime import UTC, datetime, timedelta

import paho.mqtt.client as mqtt
from sqlalchemy import select

from cloud.calls import service
from cloud.calls.rules import EscalationRules
from cloud.flows import summon
from cloud.live import LIVE_ROOT
from cloud.notify.models import OutboxMessage
from cloud.sessions import service as sessions_service
from cloud.sessions.settings import SessionSettings
from protocol.payloads import ButtonPress, Occupancy
from tests.calls.test_flow import feed

NOW = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)


def _session(db) -> int:
    video_session = sessions_service.open_session(
        db=db, settings=SessionSettings(), site="porvoo", room="r1", authority="kela",
        service="kela-benefits", slot_start=NOW, slot_end=NOW + timedelta(minutes=30),
        created_by="exp-kela", now=NOW)
    db.flush()
    return video_session.id


def _ask(db, session_id: int, at: datetime = NOW):
    return summon.ask_for_identity_check(db, site="porvoo", room="r1", session_id=session_id,
                                         now=at)


def test_the_request_rings_the_site_and_ends_only_when_the_advisor_confirms(sessions):
    with sessions() as db:
        session_id = _session(db)
        call, (channel, pressed) = _ask(db, session_id)
        assert channel == "site/porvoo" and pressed["type"] == "call.pressed"
        assert pressed["data"]["reason"] == "identity" and call.session_id == session_id
        service.acknowledge(db=db, call_id=call.id, staff_id=3, at=NOW + timedelta(seconds=5))
        walked_in = feed(db, "occupancy", Occupancy(type="occupancy", occupied=True),
                         received_at=NOW + timedelta(seconds=40))
        assert walked_in is None  # the customer is in the room anyway
        changed, _ = summon.confirm_identity(db, call_id=call.id, staff_id=3,
                                             now=NOW + timedelta(minutes=2))
        assert changed.call.clear_reason == "verified"
        assert changed.call.cleared_at == NOW + timedelta(minutes=2)
        db.commit()
        kinds = [(e.kind, e.role, e.at) for e in sessions_service.events_of(
            db=db, session_id=session_id)]
    assert ("advisor_asked", "advisor", NOW) in kinds
    assert ("identity_checked", "advisor", NOW + timedelta(minutes=2)) in kinds


def test_an_open_customer_call_stands_and_cannot_be_confirmed_as_a_check(sessions):
    with sessions() as db:
        session_id = _session(db)
        _, pressed = feed(db, "callbutton", ButtonPress(type="button_press"))
        call, event = _ask(db, session_id, NOW + timedelta(seconds=10))
        assert event is None and call.id == pressed["data"]["call_id"]  # whoever comes, comes
        assert call.reason == "customer"
        changed, _ = summon.confirm_identity(db, call_id=call.id, staff_id=3,
                                             now=NOW + timedelta(seconds=20))
        assert changed is None and service.get_call(db=db, call_id=call.id).cleared_at is None


def test_an_unanswered_request_texts_the_backup_number_and_at_its_timeout_tells_the_expert(
        sessions, registry, start_bus, broker):
    bus, _ = start_bus(listen=False)
    with sessions() as db:
        session_id = _session(db)
        call, _ = _ask(db, session_id)
        db.commit()
    heard, subscribed = queue.Queue(), threading.Event()
    expert_view = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="test-identity-view")
    expert_view.on_connect = lambda client, *_: client.subscribe(
        f"{LIVE_ROOT}/session/{session_id}", qos=1)
    expert_view.on_subscribe = lambda *_: subscribed.set()
    expert_view.on_message = lambda _c, _u, msg: heard.put(json.loads(msg.payload))
    expert_view.connect("127.0.0.1", broker.port)
    expert_view.loop_start()
    rules = EscalationRules(second_alert_s=60, sms_after_s=60, expire_after_s=3600)
    try:
        assert subscribed.wait(10), "the expert's channel was not subscribed"
        for minutes in (1, 2, 61):
            summon.escalation_round(sessions, bus=bus, registry=registry, rules=rules,
                                    now=NOW + timedelta(minutes=minutes, seconds=1))
        told = heard.get(timeout=10)
    finally:
        expert_view.loop_stop()
        expert_view.disconnect()
    assert (told["type"], told["event"], told["to_role"]) == ("advisor", "timeout", "expert")
    with sessions() as db:
        [sms] = db.scalars(select(OutboxMessage).where(
            OutboxMessage.reference == f"call:{call.id}")).all()
        assert service.get_call(db=db, call_id=call.id).clear_reason == "timeout"
    assert sms.template == "identity_unanswered"


def test_requests_stay_out_of_the_call_button_figures(sessions):
    with sessions() as db:
        _ask(db, _session(db))
        db.commit()
        assert service.calls_between(db=db, start=NOW, end=NOW + timedelta(hours=1)) == []
        [asked] = service.calls_between(db=db, start=NOW, end=NOW + timedelta(hours=1),
                                        reason="identity")
    assert asked.reason == "identity"
