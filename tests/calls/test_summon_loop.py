"""The summon loop end to end, as production runs it: the call button's firmware on the
MicroPython Unix port, a real Mosquitto, the ingest and schedule, a notification worker, and
two API replicas (their own processes), each holding consoles' live streams."""
from __future__ import annotations

import time

import httpx
import paho.mqtt.client as mqtt
import pytest

from cloud.live import LIVE_ROOT
from edge import messages
from tests.calls.conftest import ADMIN_TOKEN
from tests.calls.sse import SseClient
from tests.firmware.harness import Firmware, Observer, device_config
from tests.servers import wait_for

pytestmark = pytest.mark.usefixtures("background")


def _console(replica, staff, username: str, **kwargs) -> SseClient:
    client = SseClient(f"{replica.url}/api/live/events", staff[username][1], **kwargs)
    assert client.wait_status() == 200
    client.wait("hello")
    return client


def _acknowledge(replica, staff, username: str, call_id: int) -> httpx.Response:
    return httpx.post(f"{replica.url}/api/calls/{call_id}/acknowledge", timeout=10,
                      headers={"Authorization": f"Bearer {staff[username][1]}"})


def _press_as_the_button(broker, kind: str = "button_press", room: str = "r1") -> str:
    """Publish a press (or cancel) as a call button does, QoS 1; the event id."""
    event_id = messages.new_event_id()
    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2)
    client.connect("127.0.0.1", broker.port)
    client.loop_start()
    client.publish(f"etp/v1/porvoo/{room}/callbutton/event", messages.event(
        ts=int(time.time() * 1000), seq=int(time.time() * 1000), id=event_id,
        data={"type": kind}), qos=1).wait_for_publish(5)
    client.loop_stop()
    client.disconnect()
    return event_id


@pytest.fixture
def button(broker, tmp_path):
    """The call button of porvoo/r1 on the MicroPython Unix port, asleep and ready."""
    firmware = Firmware(tmp_path / "callbutton", device_config(broker, "callbutton"))
    firmware.wait_line("hw sleep=deep")
    yield firmware
    firmware.stop()


def test_a_press_rings_at_both_porvoo_consoles_on_two_replicas_and_one_advisor_takes_it(
        start_replicas, staff, button, broker):
    replica_a, replica_b = start_replicas(2)
    first = _console(replica_a, staff, "adv-porvoo-1")
    second = _console(replica_b, staff, "adv-porvoo-2")
    imatra = _console(replica_b, staff, "adv-imatra")
    watcher = Observer(broker, client_id="test-summon-observer")
    try:
        button.press()
        rang = first.wait("call.pressed")
        assert rang.data["site"] == "porvoo" and rang.data["room"] == "r1"
        assert second.wait("call.pressed").data == rang.data
        call_id = rang.data["call_id"]

        led = button.mark()
        taken = _acknowledge(replica_a, staff, "adv-porvoo-1", call_id)
        assert taken.status_code == 200, taken.text
        assert taken.json()["acknowledged_by"] == "Aino Neuvoja"
        [command] = watcher.wait("cmd", 1, "callbutton")
        assert command.topic == "etp/v1/porvoo/r1/callbutton/cmd/call_acknowledged"
        button.wait_line("hw led=on", led)  # steady: help is coming
        shown = second.wait("call.acknowledged")
        assert shown.data["call_id"] == call_id and shown.data["by"] == "Aino Neuvoja"

        late = _acknowledge(replica_b, staff, "adv-porvoo-2", call_id)
        assert late.status_code == 409 and "Aino Neuvoja" in late.json()["detail"]

        cancel = button.mark()
        button.send("press")  # the customer holds it: the call is cancelled
        button.wait_line("kind=button_cancel", cancel)
        button.send("release")
        for console in (first, second):
            cleared = console.wait("call.cleared")
            assert cleared.data["call_id"] == call_id and cleared.data["reason"] == "cancelled"
        listed = httpx.get(f"{replica_b.url}/api/calls", params={"site": "porvoo", "open": "true"},
                           headers={"Authorization": f"Bearer {staff['adv-porvoo-2'][1]}"})
        assert listed.status_code == 200 and listed.json() == []
        assert imatra.names() == ["hello", "broker_link"] and imatra.events[0].data == {"calls": []}
        ids = [int(e.id) for e in first.events]
        assert ids == sorted(ids) and len(set(ids[1:])) == len(ids) - 1
    finally:
        watcher.close()
        for console in (first, second, imatra):
            console.close()


def test_an_unanswered_call_escalates_at_both_consoles_and_texts_the_sites_backup_number(
        start_replicas, staff, broker, sms_gateway):
    replica_a, replica_b = start_replicas(2)
    first = _console(replica_a, staff, "adv-porvoo-1")
    second = _console(replica_b, staff, "adv-porvoo-2")
    try:
        _press_as_the_button(broker)
        call_id = first.wait("call.pressed").data["call_id"]
        for console in (first, second):
            escalated = console.wait("call.escalated", timeout=15)
            assert escalated.data["call_id"] == call_id and escalated.data["level"] == 2
        wait_for(lambda: sms_gateway.received, 15, "the SMS to the backup number")
        [sms] = sms_gateway.received
        assert sms.to == "+358000000001" and sms.key == f"call:{call_id}:sms"
        assert "Porvoo-info" in sms.body
    finally:
        first.close()
        second.close()


def test_a_console_that_reconnects_with_its_last_event_id_is_shown_what_it_missed(
        start_replicas, staff, broker):
    replica_a, replica_b = start_replicas(2)
    first = _console(replica_a, staff, "adv-porvoo-1")
    away = _console(replica_b, staff, "adv-porvoo-2")
    _press_as_the_button(broker)
    call_id = away.wait("call.pressed").data["call_id"]
    last_seen = away.last_id
    away.close()  # the lid closes
    _press_as_the_button(broker, "button_cancel")
    first.wait("call.cleared")
    _press_as_the_button(broker, room="r1")  # a new call while it was away
    opened = first.wait("call.pressed", where=lambda d: d["call_id"] != call_id)
    back = _console(replica_a, staff, "adv-porvoo-2", last_event_id=last_seen)
    fresh = _console(replica_a, staff, "adv-porvoo-2")
    try:
        # an idle stream says it is alive (ETP_CALLS_KEEPALIVE_S), so a silent one is a lost one
        wait_for(lambda: fresh.keepalives >= 2, 10, "keepalive events on an idle stream")
        missed = {c["id"]: c for c in back.events[0].data["calls"]}
        assert missed[call_id]["clear_reason"] == "cancelled" and missed[call_id]["cleared_at"]
        assert missed[opened.data["call_id"]]["cleared_at"] is None
        assert [c["id"] for c in fresh.events[0].data["calls"]] == [opened.data["call_id"]]
        assert int(back.events[0].id) >= int(opened.id)
    finally:
        for console in (first, back, fresh):
            console.close()


def test_malformed_live_messages_are_counted_drops_and_the_next_alert_still_arrives(
        start_replicas, staff, broker):
    replica_a, replica_b = start_replicas(2)
    consoles = [_console(replica_a, staff, "adv-porvoo-1"),
                _console(replica_b, staff, "adv-porvoo-2")]
    junk = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2)
    junk.connect("127.0.0.1", broker.port)
    junk.loop_start()
    for payload in (b"{not json", b'{"type": "call.pressed", "cursor": "x", "data": {}}'):
        junk.publish(f"{LIVE_ROOT}/site/porvoo", payload, qos=1).wait_for_publish(5)
    junk.loop_stop()
    junk.disconnect()
    try:
        _press_as_the_button(broker)
        for console in consoles:
            console.wait("call.pressed")
            assert console.names() == ["hello", "broker_link", "call.pressed"]
        for replica in (replica_a, replica_b):
            metrics = httpx.get(f"{replica.url}/metrics",
                                headers={"Authorization": f"Bearer {ADMIN_TOKEN}"})
            assert 'etp_live_events_total{outcome="malformed"} 2.0' in metrics.text
    finally:
        for console in consoles:
            console.close()



def test_a_console_held_across_many_link_polls_is_told_the_broker_link_once(
        start_replicas, staff, cloud_env):
    cloud_env["ETP_CALLS_LINK_POLL_S"] = "0.2"  # the replica reads the link five times a second
    [replica] = start_replicas(1)
    console = _console(replica, staff, "adv-imatra")
    try:
        wait_for(lambda: console.keepalives >= 4, 15, "two seconds of a held stream")
        assert console.names() == ["hello", "broker_link"]  # nothing changed: nothing repeated
    finally:
        console.close()
