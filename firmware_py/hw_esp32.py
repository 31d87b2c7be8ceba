"""The board: an ESP32 with a button, an LED, a presence sensor input and a battery divider.

The button pulls its pin low (use an RTC-capable GPIO with an external pull-up so it can wake
the chip from deep sleep); the LED is lit by a high pin; the PIR/mmWave output is high while
it sees presence; the battery is read through a resistor divider on an ADC1 pin.
"""
import time

import esp32
import machine
import network
from hw import Board

EXT0_WAKE = getattr(machine, "EXT0_WAKE", 2)
TIMER_WAKE = getattr(machine, "TIMER_WAKE", 4)


class Esp32Board(Board):
    """Real pins, Wi-Fi station, NTP and deep sleep."""

    def __init__(self, config):
        super().__init__()
        pins = config.pins
        self._button = self._input(pins.get("button"), machine.Pin.PULL_UP)
        self._motion = self._input(pins.get("motion"), None)
        led = pins.get("led")
        self._led = machine.Pin(led, machine.Pin.OUT, value=0) if led is not None else None
        adc = pins.get("battery_adc")
        self._adc = None
        if adc is not None:
            self._adc = machine.ADC(machine.Pin(adc))
            self._adc.atten(machine.ADC.ATTN_11DB)
        self._divider = config.battery_divider
        self._wlan = network.WLAN(network.STA_IF)
        self._joining = False
        # a hang (radio driver, TLS) resets the board instead of silencing the device
        self._watchdog = (machine.WDT(timeout=config.watchdog_s * 1000)
                          if config.watchdog_s else None)

    def tick(self, now):
        super().tick(now)
        if self._watchdog is not None:
            self._watchdog.feed()

    @staticmethod
    def _input(pin, pull):
        if pin is None:
            return None
        return machine.Pin(pin, machine.Pin.IN, pull) if pull else machine.Pin(pin, machine.Pin.IN)

    def _drive_led(self, lit):
        if self._led is not None:
            self._led.value(1 if lit else 0)

    def button_pressed(self):
        return self._button is not None and self._button.value() == 0

    def motion(self):
        return self._motion is not None and self._motion.value() == 1

    def battery_v(self):
        if self._adc is None:
            return None
        return self._adc.read_uv() * self._divider / 1000000

    def wifi_up(self, ssid, password):
        if not self._wlan.active():
            self._wlan.active(True)
        if self._wlan.isconnected():
            self._joining = False
            return True
        if not self._joining:
            self._wlan.connect(ssid, password)
            self._joining = True
        elif self._wlan.status() in (network.STAT_WRONG_PASSWORD, network.STAT_NO_AP_FOUND,
                                     network.STAT_CONNECT_FAIL):
            self._joining = False  # the next call starts a fresh attempt
        return False

    def rssi_dbm(self):
        try:
            return self._wlan.status("rssi") if self._wlan.isconnected() else None
        except OSError:
            return None

    def sync_time(self, host):
        import ntptime
        ntptime.host = host
        try:
            ntptime.settime()
            return True
        except OSError:
            return False

    def wake_reason(self):
        reason = machine.wake_reason()
        if reason == EXT0_WAKE:
            return "button"
        if reason == TIMER_WAKE:
            return "timer"
        return "power_on"

    def deep_sleep(self, ms, wake_on_button):
        self.set_led("off")
        self._wlan.active(False)
        if wake_on_button and self._button is not None:
            esp32.wake_on_ext0(pin=self._button, level=esp32.WAKEUP_ALL_LOW)
        time.sleep_ms(10)  # let the console drain
        if ms is None:
            machine.deepsleep()
        machine.deepsleep(ms)
