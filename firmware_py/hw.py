"""The thin hardware layer: what the device logic may ask of a board.

``Board`` holds what every port shares (a monotonic millisecond clock that does not wrap,
LED blinking); ``hw_esp32.Esp32Board`` drives real pins, Wi-Fi and deep sleep, and
``hw_unix.UnixBoard`` stands in for them on MicroPython's Unix port so the same logic runs
under test. ``open_board`` picks the one for the running port.
"""
import sys
import time

LED_MODES = ("off", "on", "blink")
BLINK_HALF_PERIOD_MS = 250


class Reboot(Exception):
    """Raised by a board whose deep sleep returns (the Unix port): start the device anew."""


class Board:
    """Base of the board implementations; subclasses override the hardware methods."""

    def __init__(self):
        self._ticks = time.ticks_ms()
        self._mono = self._ticks
        self.led_mode = "off"

    def now_ms(self):
        """Monotonic milliseconds that never wrap (``ticks_ms`` wraps after ~12 days)."""
        ticks = time.ticks_ms()
        self._mono += time.ticks_diff(ticks, self._ticks)
        self._ticks = ticks
        return self._mono

    def set_led(self, mode):
        """Set the LED to ``off``, ``on`` or ``blink``."""
        if mode not in LED_MODES:
            raise ValueError(mode)
        if mode != self.led_mode:
            self.led_mode = mode
            self._led_changed(mode)
            self._drive_led(mode == "on")

    def tick(self, now):
        """Called every loop pass: blinks the LED."""
        if self.led_mode == "blink":
            self._drive_led((now // BLINK_HALF_PERIOD_MS) % 2 == 0)

    # hardware methods, overridden by a port
    def _led_changed(self, mode):
        pass

    def _drive_led(self, lit):
        pass

    def idle(self, ms):
        """Wait about ``ms`` for the next loop pass."""
        time.sleep_ms(ms)

    def button_pressed(self):
        """Whether the call button is held down now (raw, not debounced)."""
        return False

    def motion(self):
        """Whether the presence sensor reports motion now (raw)."""
        return False

    def battery_v(self):
        """Battery voltage, or ``None`` for a mains-powered board."""
        return

    def wifi_up(self, ssid, password):
        """Start or continue joining Wi-Fi; True once connected."""
        return True

    def rssi_dbm(self):
        """Received signal strength of the Wi-Fi link, or ``None``."""
        return

    def wall_port_ms(self):
        """Milliseconds since this port's epoch from the RTC (not yet Unix time)."""
        return time.time_ns() // 1000000

    def sync_time(self, host):
        """Set the RTC from NTP; True on success."""
        return False

    def wake_reason(self):
        """Why the device started: ``button``, ``timer`` or ``power_on``."""
        return "power_on"

    def deep_sleep(self, ms, wake_on_button):
        """Sleep until the button (if asked) or ``ms`` (``None``: no timer); a board restarts."""
        raise NotImplementedError

    def ssl_context(self, ca_path, cert_path=None, key_path=None):
        """A TLS client context that verifies the broker against the CA file and, given a
        certificate and key, proves the device's identity to it. Files may be PEM or DER."""
        import ssl
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        context.verify_mode = ssl.CERT_REQUIRED
        context.load_verify_locations(cadata=read_der(ca_path))
        if cert_path is not None:
            context.load_cert_chain(read_der(cert_path), read_der(key_path))
        return context


def read_der(path):
    """The DER bytes of a certificate or key file; PEM is decoded here because not every
    port's TLS library is built to parse PEM."""
    import binascii
    with open(path, "rb") as f:
        data = f.read()
    if not data.startswith(b"-----BEGIN"):
        return data
    body = [line for line in data.split(b"\n") if line and not line.startswith(b"-----")]
    return binascii.a2b_base64(b"".join(body))


def open_board(config):
    """The board of the running port, set up from ``config``."""
    if sys.platform in ("linux", "darwin"):
        from hw_unix import UnixBoard
        return UnixBoard(config)
    from hw_esp32 import Esp32Board
    return Esp32Board(config)
