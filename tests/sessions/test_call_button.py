"""The room terminal's "call the advisor" button publishes what the physical button does."""
from __future__ import annotations

import queue
import threading
from types import SimpleNamespace

import paho.mqtt.client as mqtt

from cloud.sessions.service import room_token
from protocol.codec import decode
from tests.netfault import TcpProxy
from tests.sessions.conftest import make_live


def listen_to_events(broker) -> tuple[mqtt.Client, queue.Queue]:
    """A client subscribed to every room's events, and the queue of what it hears."""
    received: queue.Queue = queue.Queue()
    listener = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2)
    subscribed = threading.Event()
    listener.on_message = lambda client, data, message: received.put(message)
    listener.on_subscribe = lambda *args: subscribed.set()
    listener.connect("127.0.0.1", broker.port)
    listener.subscribe("etp/v1/+/+/+/event", qos=1)
    listener.loop_start()
    assert subscribed.wait(10)
    return listener, received


def test_the_terminals_call_button_publishes_a_press_of_the_rooms_call_button(sqlite_url,
                                                                             broker):
    listener, received = listen_to_events(broker)
    live, stop = make_live(sqlite_url, broker)
    try:
        with live.client() as client:
            refused = client.post("/api/sessions/terminal/call", json={
                "site": "porvoo", "room": "r1", "room_token": "forged"})
            called = client.post("/api/sessions/terminal/call", json={
                "site": "porvoo", "room": "r1",
                "room_token": room_token(live.settings, site="porvoo", room="r1")})
        message = received.get(timeout=10)
    finally:
        stop()
        listener.loop_stop()
    assert refused.status_code == 403 and called.status_code == 202
    assert message.topic == "etp/v1/porvoo/r1/callbutton/event" and message.qos == 1
    assert decode(message.topic, message.payload).payload.data.type == "button_press"


def test_the_terminals_presses_go_over_the_replicas_one_broker_connection(sqlite_url, broker):
    listener, received = listen_to_events(broker)
    with TcpProxy(broker.port) as proxy:
        live, stop = make_live(sqlite_url, SimpleNamespace(url=f"mqtt://127.0.0.1:{proxy.port}"))
        body = {"site": "porvoo", "room": "r1",
                "room_token": room_token(live.settings, site="porvoo", room="r1")}
        try:
            before = proxy.accepted
            with live.client() as client:
                answers = [client.post("/api/sessions/terminal/call", json=body)
                           for _ in range(3)]
            heard = [received.get(timeout=10) for _ in answers]
            opened = proxy.accepted - before
            confirmed = live.app.state.live_bus.counts["confirmed"]
        finally:
            stop()
            listener.loop_stop()
    assert [answer.status_code for answer in answers] == [202, 202, 202]
    assert {message.topic for message in heard} == {"etp/v1/porvoo/r1/callbutton/event"}
    assert opened == 0 and confirmed == 3  # no broker connection of its own per press
