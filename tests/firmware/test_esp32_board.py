"""The board layer of the ESP32 (``hw_esp32``) run on MicroPython with stand-ins for the
port's ``machine``, ``network``, ``esp32`` and ``ntptime`` modules: the only seam no package
provides off a board. It checks the layer's own code paths, not the chip."""
import json
import os
import subprocess

from tests.firmware.harness import FIRMWARE, MICROPYTHON

STAND_INS = FIRMWARE.parents[0] / "tests/firmware/esp32_stand_ins"

EXERCISE = """
import json, machine, network, ntptime
import config
from hw_esp32 import Esp32Board
c = config.Config({"site": "porvoo", "room": "r1", "broker": {"host": "mqtt.example.invalid"},
                   "pins": {"button": 27, "led": 2, "motion": 4, "battery_adc": 34},
                   "watchdog_s": 30}, {})
b = Esp32Board(c)
r = {}
r["idle_button"] = b.button_pressed()
machine.levels[27] = 0
r["pressed"] = b.button_pressed()
machine.levels[4] = 1
r["motion"] = b.motion()
r["battery_v"] = b.battery_v()
b.set_led("blink")
b.tick(0); b.tick(250)
r["wifi"] = [b.wifi_up("room", "pw"), b.wifi_up("room", "pw")]
network.state["status"] = network.STAT_WRONG_PASSWORD
r["wifi"].append(b.wifi_up("room", "pw"))
r["wifi"].append(b.wifi_up("room", "pw"))
network.state["connected"] = True
r["wifi"].append(b.wifi_up("room", "pw"))
r["joins"] = network.state["joins"]
r["rssi"] = b.rssi_dbm()
r["ntp"] = [b.sync_time("ntp.example.invalid"), ntptime.calls]
machine.wake[0] = machine.EXT0_WAKE
r["wake"] = b.wake_reason()
try:
    b.deep_sleep(60000, True)
except SystemExit:
    pass
r["journal"] = [list(e) for e in machine.journal]
print(json.dumps(r))
"""


def test_the_esp32_board_drives_pins_radio_watchdog_and_deep_sleep():
    env = {**os.environ, "MICROPYPATH": f"{STAND_INS}:{FIRMWARE}:.frozen"}
    done = subprocess.run([MICROPYTHON, "-c", EXERCISE], capture_output=True, text=True,
                          env=env, timeout=60, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    r = json.loads(done.stdout)
    assert (r["idle_button"], r["pressed"], r["motion"]) == (False, True, True)
    assert r["battery_v"] == 2.95  # 1.475 V at the pin through a 2:1 divider
    assert r["wifi"] == [False, False, False, False, True]
    assert r["joins"] == ["room", "room"]  # a wrong password starts a fresh attempt
    assert r["rssi"] == -67
    assert r["ntp"] == [True, ["ntp.example.invalid"]]
    assert r["wake"] == "button"
    journal = r["journal"]
    assert journal[0] == ["pin", 2, 0]  # LED off at start
    assert ["wdt", 30000] in journal and ["feed"] in journal
    assert ["pin", 2, 1] in journal  # blinking lit it
    assert journal[-2:] == [["wake_on_ext0", 27, False], ["deepsleep", 60000]]
