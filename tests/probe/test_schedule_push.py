"""The schedule tells each room's agent its coming visits (``probe_schedule``) through the
real broker, on SQLite and PostgreSQL: a visit booked a few minutes ahead is known to the
agent within a round, not at its next probe; cancelled visits and other rooms' are not
sent, and the agent takes the list as its own."""
from __future__ import annotations

import queue
import threading
from datetime import UTC, datetime, timedelta

import paho.mqtt.client as mqtt

from cloud.bookings import service as bookings
from cloud.bookings.rules import BookingRules
from cloud.bookings.service import Customer
from cloud.bookings.settings import BookingSettings
from cloud.flows.schedule import tick
from cloud.live import LiveBus
from cloud.settings import CloudSettings
from edge.agent import Agent
from edge.config import LinkProbe, simulated_config
from protocol.codec import decode

NOW = datetime(2025, 11, 10, 8, 0, tzinfo=UTC)  # a Monday, 10:00 in Helsinki


def _book(sessions, rules, start: datetime, room: str = "r1") -> int:
    with sessions() as db:
        booking = bookings.create_booking(
            db, rules, site="porvoo", service="kela-benefits", start=start, minutes=30,
            channel="on_site", customer=Customer(name="A. A."), actor="adv-porvoo", now=NOW,
            room=room)
        db.commit()
        return booking.id


def test_a_round_tells_the_agent_its_rooms_coming_visits(any_store, registry, broker,
                                                         tmp_path):
    rules = BookingRules.load(registry)
    soon = _book(any_store, rules, NOW + timedelta(minutes=30))  # the next slot
    later = _book(any_store, rules, NOW + timedelta(hours=2))
    cancelled = _book(any_store, rules, NOW + timedelta(hours=3))
    with any_store() as db:
        bookings.cancel_booking(db, booking=bookings.booking_by_id(db, booking_id=cancelled),
                                reason="test", actor="adv-porvoo", now=NOW)
        db.commit()
    heard, subscribed = queue.Queue(), threading.Event()
    agent_side = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="test-told-agent")
    agent_side.on_connect = lambda client, *_: client.subscribe(
        "etp/v1/porvoo/+/agent/cmd/probe_schedule", qos=1)
    agent_side.on_subscribe = lambda *_: subscribed.set()
    agent_side.on_message = lambda _c, _u, msg: heard.put(decode(msg.topic, msg.payload))
    agent_side.connect("127.0.0.1", broker.port)
    agent_side.loop_start()
    bus = LiveBus(CloudSettings(broker_url=broker.url), listen=False).start()
    try:
        assert subscribed.wait(10) and bus.wait_connected(10)
        done = tick(any_store, rules, BookingSettings(), now=NOW, bus=bus,
                    probe_horizon=timedelta(hours=24))
        told = heard.get(timeout=10)
    finally:
        bus.stop()
        agent_side.loop_stop()
        agent_side.disconnect()
    assert done["agents_told"] == 1 and heard.empty()  # one room has visits to come
    assert told.topic.room == "r1"
    with any_store() as db:
        expected = [bookings.booking_by_id(db, booking_id=b).start.timestamp()
                    for b in (soon, later)]
    agent = Agent(simulated_config("porvoo", "r1", outbox_path=tmp_path / "o.sqlite",
                                   probe=LinkProbe(url="https://cloud.example.invalid",
                                                   token="t")))
    assert agent._execute("agent", "probe_schedule", dict(told.payload.args))[0]
    assert agent.booking_starts == expected
