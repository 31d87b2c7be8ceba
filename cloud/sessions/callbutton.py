"""The room terminal's "call the advisor" button works as the physical call button: the cloud
publishes the same protocol message (an ``event`` of the room's ``callbutton`` with
``button_press``) to the broker, so ingest, the twin and the consoles treat both alike."""
from __future__ import annotations

import secrets
import threading
from datetime import datetime

from cloud.mqtt import connect, make_client
from cloud.settings import CloudSettings
from protocol.codec import encode
from protocol.payloads import Event
from protocol.topics import topic


class BrokerUnavailable(Exception):
    """The press could not be handed to the broker in time."""


def press_message(*, now: datetime) -> bytes:
    """A call-button press as the button itself would publish it."""
    ms = int(now.timestamp() * 1000)
    return encode(Event(ts=ms, seq=ms, id=f"terminal-{secrets.token_hex(10)}",
                        data={"type": "button_press"}))


def publish_press(settings: CloudSettings, *, site: str, room: str, now: datetime,
                  timeout: float = 5) -> None:
    """Publish a press of the room's call button at QoS 1 and wait for the broker's ack."""
    client = make_client(settings, client_id=f"cloud-call-{secrets.token_hex(6)}")
    ready = threading.Event()
    client.on_connect = lambda *args: ready.set()
    connect(client, settings)
    client.loop_start()
    try:
        if not ready.wait(timeout):
            raise BrokerUnavailable("the broker did not answer")
        info = client.publish(topic(site, room, "callbutton", "event"),
                              press_message(now=now), qos=1)
        info.wait_for_publish(timeout)
        if not info.is_published():
            raise BrokerUnavailable("the broker did not take the press")
    finally:
        client.disconnect()
        client.loop_stop()
