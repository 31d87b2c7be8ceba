"""Device time for payloads: Unix epoch milliseconds when the wall clock is set, else uptime.

MicroPython's bare-metal ports count ``time.time()`` from 2000-01-01 while the Unix port
counts from 1970-01-01; the wire contract wants Unix epoch milliseconds. A board that has
not had NTP since power-on starts its RTC at the port epoch, so any time before
``EARLIEST_VALID_S`` means "no wall-clock time yet": events then carry ``synced: false`` and
milliseconds since boot, and the cloud uses its own receive time.
"""
import time

Y2K_OFFSET_S = 946684800  # 2000-01-01T00:00:00Z in Unix seconds
EARLIEST_VALID_S = 1735689600  # 2025-01-01: an RTC showing less was never set


def port_epoch_offset_s():
    """Seconds to add to this port's ``time.time()`` to get Unix time."""
    return Y2K_OFFSET_S if time.gmtime(0)[0] == 2000 else 0


def unix_ms(port_ms, offset_s):
    """Unix epoch ms from the port's epoch ms, or ``None`` when the clock was never set."""
    value = port_ms + offset_s * 1000
    return value if value >= EARLIEST_VALID_S * 1000 else None


class DeviceClock:
    """Stamps payloads: ``stamp()`` returns ``(ts, synced)``."""

    def __init__(self, board, boot_ms):
        self._board = board
        self._boot_ms = boot_ms
        self._offset_s = port_epoch_offset_s()

    def wall_ms(self):
        """Unix epoch ms, or ``None`` when the device has no wall-clock time yet."""
        port_ms = self._board.wall_port_ms()
        return None if port_ms is None else unix_ms(port_ms, self._offset_s)

    def uptime_ms(self):
        """Milliseconds since this boot (a wake from deep sleep is a boot)."""
        return self._board.now_ms() - self._boot_ms

    def stamp(self):
        """``(ts, synced)``: Unix ms and True, or ms since boot and False without wall time."""
        wall = self.wall_ms()
        if wall is None:
            return self.uptime_ms(), False
        return wall, True
