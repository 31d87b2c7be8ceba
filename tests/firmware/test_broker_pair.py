"""The firmware with the broker pair: ``broker.host`` lists both; when the active broker dies
the device moves to the standby, and a press made meanwhile reaches the cloud through it."""
import json
import signal

from tests.firmware.harness import Firmware, Observer, device_config
from tests.firmware.test_callbutton import presses
from tests.firmware.test_logic import mp_json


def test_a_press_after_the_active_broker_died_arrives_through_the_standby(
        broker, broker_factory, tmp_path):
    standby = broker_factory("standby").start()
    cloud = Observer(standby, client_id="test-observer-standby")
    config = device_config(broker, "callbutton")
    config["broker"]["host"] = [f"127.0.0.1:{broker.port}", f"127.0.0.1:{standby.port}"]
    device = Firmware(tmp_path / "board", config)
    try:
        device.wait_line("hw sleep=deep")  # reported through the active broker
        broker.stop(signal.SIGKILL)
        mark = device.mark()
        device.press()
        device.wait_line("event=mqtt_connected", mark)
        [event] = presses(cloud)
        assert "broker=1" in device.output()[device.output().index("event=mqtt_connect", mark):]
        assert event.id.startswith("cb-")
    finally:
        device.stop()
        cloud.close()


def test_the_broker_pair_is_read_in_order_with_each_port_or_the_default(tmp_path):
    (tmp_path / "config.json").write_text(json.dumps(
        {"device": "callbutton", "site": "porvoo", "room": "r1",
         "broker": {"host": ["a.example.invalid", "b.example.invalid:1884"]}}))
    assert mp_json(f"""
import config
c = config.load("{tmp_path}")
result = [list(b) for b in c.brokers] + [c.broker_host, c.broker_port]
""") == [["a.example.invalid", 8883], ["b.example.invalid", 1884], "a.example.invalid", 8883]
