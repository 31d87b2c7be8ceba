"""Room occupancy from a PIR or mmWave output, with hysteresis.

Pure logic: ``update(now, motion)`` takes the time in milliseconds and the raw sensor level.
The room becomes occupied only after motion lasts ``confirm_ms`` (a blip from a draught or a
passer-by at the door does not count) and vacant only after ``hold_ms`` without motion (a
customer sitting still between PIR pulses stays counted). The first decision after boot is
reported too, so the cloud learns the state even when the room is empty.
"""


class OccupancyFilter:
    """Debounced occupancy: ``occupied`` is ``None`` until the first decision."""

    def __init__(self, confirm_ms, hold_ms, now):
        self.confirm_ms = confirm_ms
        self.hold_ms = hold_ms
        self.occupied = None
        self._motion_since = None
        self._last_motion = now

    def update(self, now, motion):
        """Feed one sample; return the new state (True/False) when it changes, else ``None``."""
        if motion:
            self._last_motion = now
            if self._motion_since is None:
                self._motion_since = now
            if self.occupied is not True and now - self._motion_since >= self.confirm_ms:
                return self._become(True)
            return None
        self._motion_since = None
        if self.occupied is not False and now - self._last_motion >= self.hold_ms:
            return self._become(False)
        return None

    def _become(self, occupied):
        self.occupied = occupied
        return occupied
