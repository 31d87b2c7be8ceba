"""The call button on the MicroPython Unix port against the real Mosquitto."""
import time

import orjson

from protocol.payloads import Ack, ButtonCancel, ButtonPress, Event, Health, Telemetry
from protocol.vectors import load_vectors
from tests.firmware.harness import TIMEOUT, retained

EVENT_TOPIC = "etp/v1/porvoo/r1/callbutton/event"


def presses(observer, count=1, **kwargs):
    """The first ``count`` button_press events, decoded by the cloud parser."""
    found = observer.wait("event", count, "callbutton",
                          where=lambda r: r.message.payload.data.type == "button_press", **kwargs)
    return [r.message.payload for r in found]


def test_a_press_reaches_the_broker_as_an_event_the_cloud_accepts(start_device, observer,
                                                                  broker):
    device = start_device("callbutton")
    device.wait_line("hw sleep=deep")  # reported, then asleep until the pin wakes it
    device.press()
    [event] = presses(observer)
    assert isinstance(event, Event) and isinstance(event.data, ButtonPress)
    assert event.synced and abs(event.ts - time.time() * 1000) < 60_000
    assert event.id.startswith("cb-")
    observer.wait("health", 2, "callbutton")  # at power-on, again at the wake
    health = retained(broker, "etp/v1/porvoo/r1/callbutton/health").message.payload
    assert isinstance(health, Health) and health.state == "ok"
    telemetry = observer.wait("telemetry", 1, "callbutton")[0]
    assert isinstance(telemetry.message.payload, Telemetry)
    assert telemetry.message.payload.metrics == {"battery_v": 2.95, "rssi_dbm": -67}


def test_sequence_numbers_and_ids_stay_unique_across_deep_sleep(start_device, observer):
    device = start_device("callbutton", call={"ack_wait_s": 1})
    mark = 0
    for n in (1, 2):
        device.wait_line("hw sleep=deep", mark)
        mark = device.mark()
        device.press()  # wakes the board, which starts anew from flash
        presses(observer, n)
    first, second = presses(observer, 2)
    assert second.seq > first.seq and second.id != first.id
    assert device.output().count("wake=button") == 2


def test_a_press_during_a_broker_outage_arrives_once_after_it_returns(start_device, observer,
                                                                     broker):
    device = start_device("callbutton")
    device.wait_line("hw sleep=deep")
    broker.stop()
    mark = device.mark()
    device.press()
    device.wait_line("event=mqtt_connect_failed", mark)
    device.wait_line("event=mqtt_connect_failed attempt=2", mark)  # it keeps trying
    assert observer.of_kind("event") == []
    broker.start()
    [event] = presses(observer, timeout=20)
    device.press()  # the next call goes after the first was acknowledged by the broker
    presses(observer, 2)
    ids = [p.id for p in presses(observer, 2)]
    assert ids.count(event.id) == 1 and len(ids) == 2


def test_the_led_blinks_until_the_advisor_acknowledges_then_stays_lit(start_device, observer):
    device = start_device("callbutton", call={"steady_s": 2})
    device.wait_line("hw sleep=deep")
    mark = device.mark()
    device.press()
    [event] = presses(observer)
    device.wait_line("hw led=blink", mark)
    vector = next(v for v in load_vectors() if v.name == "valid-cmd-call-acknowledged")
    command = {**vector.payload, "args": {"event": event.id}}
    observer.publish(vector.topic, orjson.dumps(command))
    lit = device.wait_line("hw led=on", mark)
    [ack] = observer.wait("ack", 1, "callbutton")
    assert isinstance(ack.message.payload, Ack)
    assert (ack.message.payload.id, ack.message.payload.cmd, ack.message.payload.ok) == (
        command["id"], "call_acknowledged", True)
    device.wait_line("hw led=off", lit)  # after steady_s, then it sleeps
    device.wait_line("hw sleep=deep", lit)
    assert device.led_changes(mark) == ["blink", "on", "off"]


def test_an_acknowledgement_of_another_call_leaves_the_led_blinking(start_device, observer):
    device = start_device("callbutton")
    device.wait_line("hw sleep=deep")
    mark = device.mark()
    device.press()
    presses(observer)
    vector = next(v for v in load_vectors() if v.name == "valid-cmd-call-acknowledged")
    observer.publish(vector.topic, vector.wire)  # names an event this button never sent
    observer.wait("ack", 1, "callbutton")
    assert device.led_changes(mark) == ["blink"]


def test_a_long_press_cancels_the_call(start_device, observer):
    device = start_device("callbutton")
    device.wait_line("hw sleep=deep")
    device.press()
    presses(observer)
    mark = device.mark()
    device.send("press")
    device.wait_line("kind=button_cancel", mark)
    device.send("release")
    [cancel] = observer.wait("event", 1, "callbutton",
                             where=lambda r: r.message.payload.data.type == "button_cancel")
    assert isinstance(cancel.message.payload.data, ButtonCancel)
    assert device.led_changes(mark) == ["off"]
    assert len(presses(observer)) == 1  # the long press itself is not a call


def test_without_wall_clock_time_events_say_so_and_count_from_boot(start_device, observer):
    device = start_device("callbutton", unix={"wall_clock": False})
    device.wait_line("hw sleep=deep")
    device.press()
    [event] = presses(observer)
    assert event.synced is False
    assert 0 <= event.ts < TIMEOUT * 1000  # ms since the wake


def test_the_last_will_marks_the_button_missing_when_it_dies_awake(start_device, observer,
                                                                   broker):
    device = start_device("callbutton", call={"idle_awake_ms": 600000})
    device.wait_line("event=reported")
    device.kill()
    observer.wait("health", 1, "callbutton", where=lambda r: r.message.payload.state == "missing")
    will = retained(broker, "etp/v1/porvoo/r1/callbutton/health").message.payload
    assert (will.state, will.code, will.seq) == ("missing", "offline", 0)
