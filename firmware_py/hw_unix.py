"""The board on MicroPython's Unix port, driven by lines on standard input.

Input lines: ``press``, ``release``, ``pir 1``, ``pir 0``, ``battery 2.95``, ``rssi -67``, and
``wait 300``, which holds the levels for 300 ms of device time before the next line applies,
so a test can script pulses of exact width, and ``echo TEXT``, answered by ``hw echo=TEXT``
once every line before it has applied. One line is applied per loop pass, so a ``pir 1``
followed at once by ``pir 0`` is a blip of one pass that the logic sees.

Output lines: ``hw led=blink|on|off`` when the LED changes and ``hw sleep=deep ...`` when the
device would deep-sleep. Deep sleep waits for ``press`` (the
wake pin) or its timer, then raises ``Reboot``: the device starts anew with only what it
stored on flash, as a board does. End of input ends the process.
"""
import select
import sys
import time

from hw import Board, Reboot


class UnixBoard(Board):
    """Pins and radio simulated from standard input; the network is the host's."""

    def __init__(self, config):
        super().__init__()
        options = config.unix
        self._button = False
        self._motion = False
        self._battery = options.get("battery_v", 3.0)
        self._rssi = options.get("rssi_dbm", -60)
        self._wall_clock = options.get("wall_clock", True)
        self._wake = "power_on"
        self._pending = []
        self._hold_until = 0
        self._poller = select.poll()
        self._poller.register(sys.stdin, select.POLLIN)

    def _led_changed(self, mode):
        print("hw led=" + mode)

    def _read_lines(self, wait_ms):
        while self._poller.poll(wait_ms):
            line = sys.stdin.readline()
            if not line:
                raise SystemExit(0)
            if line.strip():
                self._pending.append(line.split())
            wait_ms = 0

    def _apply(self, words):
        if words[0] == "press":
            self._button = True
        elif words[0] == "release":
            self._button = False
        elif words[0] == "pir":
            self._motion = words[1] == "1"
        elif words[0] == "battery":
            self._battery = float(words[1])
        elif words[0] == "rssi":
            self._rssi = int(words[1])
        elif words[0] == "wait":
            self._hold_until = self.now_ms() + int(words[1])
        elif words[0] == "echo":
            print("hw echo=" + " ".join(words[1:]))

    def idle(self, ms):
        ready = self._pending and self.now_ms() >= self._hold_until
        self._read_lines(0 if ready else ms)
        if self._pending and self.now_ms() >= self._hold_until:
            self._apply(self._pending.pop(0))

    def button_pressed(self):
        return self._button

    def motion(self):
        return self._motion

    def battery_v(self):
        return self._battery

    def rssi_dbm(self):
        return self._rssi

    def wall_port_ms(self):
        # without a wall clock the RTC stays near the port epoch, as on a board after power-on
        return time.time_ns() // 1000000 if self._wall_clock else self.now_ms() % 86400000

    def sync_time(self, host):
        return self._wall_clock

    def wake_reason(self):
        return self._wake

    def deep_sleep(self, ms, wake_on_button):
        self.set_led("off")
        print("hw sleep=deep ms=%s button=%s" % (ms, wake_on_button))
        deadline = None if ms is None else self.now_ms() + ms
        while deadline is None or self.now_ms() < deadline:
            self._read_lines(20)
            while self._pending:
                words = self._pending.pop(0)
                self._apply(words)
                if wake_on_button and words[0] == "press":
                    self._wake = "button"
                    raise Reboot()
        self._wake = "timer"
        raise Reboot()
