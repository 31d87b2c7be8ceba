"""The occupancy sensor on the MicroPython Unix port against the real Mosquitto."""
import time

from protocol.payloads import Health, Occupancy
from protocol.vectors import load_vectors
from tests.firmware.harness import retained


def occupancy_states(observer):
    """The ``occupied`` values of the sensor's events so far, in order of arrival."""
    events = [r.message.payload for r in observer.of_kind("event", "occupancy")]
    assert all(isinstance(e.data, Occupancy) for e in events)
    return [e.data.occupied for e in events]


def wait_states(observer, count):
    observer.wait("event", count, "occupancy")
    return occupancy_states(observer)


def test_occupancy_hysteresis_ignores_blips_and_short_gaps(start_device, observer):
    sensor = start_device("occupancy")  # confirm 150 ms, hold 700 ms
    assert wait_states(observer, 1) == [False]  # nothing moved since boot: vacant
    sensor.send("pir 1", "pir 0")  # a blip of one loop pass
    sensor.send("pir 1", "wait 60", "pir 0", "wait 800")  # a draught: 60 ms, then quiet
    sensor.send("pir 1", "wait 300")  # someone comes in and moves
    sensor.send("pir 0", "wait 60", "pir 1", "wait 300")  # a short gap between PIR pulses
    sensor.send("echo left")
    sensor.wait_line("hw echo=left")
    started = time.monotonic()
    sensor.send("pir 0")  # they leave
    assert wait_states(observer, 3) == [False, True, False]
    assert time.monotonic() - started >= 0.7  # vacant only after the hold time
    sensor.send("pir 1", "wait 60", "pir 0", "wait 800", "echo quiet")  # a blip, empty room
    sensor.wait_line("hw echo=quiet")
    assert sensor.output().count("kind=occupancy") == 3
    assert occupancy_states(observer) == [False, True, False]
    events = [r.message.payload for r in observer.of_kind("event", "occupancy")]
    assert [e.seq for e in events] == sorted(e.seq for e in events)
    assert len({e.id for e in events}) == 3


def test_sensor_reports_health_and_battery_and_signal_periodically(start_device, observer,
                                                                   broker):
    sensor = start_device("occupancy", report_s=1, unix={"battery_v": 3.1, "rssi_dbm": -71})
    telemetry = observer.wait("telemetry", 2, "occupancy")  # one at connect, one a second later
    assert telemetry[-1].message.payload.metrics == {"battery_v": 3.1, "rssi_dbm": -71}
    sensor.send("battery 2.7")  # below low_v 2.8
    observer.wait("health", 1, "occupancy", where=lambda r: r.message.payload.state == "degraded")
    health = retained(broker, "etp/v1/porvoo/r1/occupancy/health").message.payload
    assert isinstance(health, Health) and (health.state, health.code) == ("degraded",
                                                                          "battery_low")


def test_a_restarted_broker_gets_the_sensor_back_with_its_health(start_device, observer,
                                                                 broker):
    sensor = start_device("occupancy")
    observer.wait("health", 1, "occupancy")
    mark = sensor.mark()
    broker.restart()
    sensor.wait_line("event=mqtt_lost", mark)
    sensor.wait_line("event=mqtt_connected", mark)
    observer.wait("health", 2, "occupancy")


def test_the_sensor_answers_ping_and_refuses_a_command_it_does_not_know(start_device,
                                                                       observer):
    start_device("occupancy")
    observer.wait("health", 1, "occupancy")  # connected and subscribed
    ping = next(v for v in load_vectors() if v.name == "valid-cmd-ping")
    observer.publish("etp/v1/porvoo/r1/occupancy/cmd/ping", ping.wire)
    restart = next(v for v in load_vectors() if v.name == "valid-cmd-restart-doccam")
    observer.publish("etp/v1/porvoo/r1/occupancy/cmd/restart_device", restart.wire)
    acks = [r.message.payload for r in observer.wait("ack", 2, "occupancy")]
    assert [(a.id, a.cmd, a.ok, a.detail) for a in acks] == [
        (ping.payload["id"], "ping", True, None),
        (restart.payload["id"], "restart_device", False, "unknown command")]
