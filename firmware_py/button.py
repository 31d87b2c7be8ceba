"""Call-button gestures from the raw pin level: debounce, short press, long press.

Pure logic: ``update(now, pressed)`` takes the time in milliseconds and the raw level and
returns what happened. A press counts when released before ``long_press_ms``; holding it
that long cancels the call at once (so the LED can answer while the finger is still down).
"""

DOWN = "down"  # the debounced button went down
PRESS = "button_press"
CANCEL = "button_cancel"


class PressDetector:
    """Turns raw samples into ``DOWN``, ``PRESS`` and ``CANCEL``."""

    def __init__(self, debounce_ms, long_press_ms, now, held=False):
        self.debounce_ms = debounce_ms
        self.long_press_ms = long_press_ms
        self.stable = held  # debounced level
        self._raw = held
        self._raw_since = now
        self._down_at = now if held else None
        self._long_fired = False

    def update(self, now, pressed):
        """Feed one sample; return ``DOWN``, ``PRESS``, ``CANCEL`` or ``None``."""
        if pressed != self._raw:
            self._raw = pressed
            self._raw_since = now
        if self._raw != self.stable and now - self._raw_since >= self.debounce_ms:
            self.stable = self._raw
            if self.stable:
                self._down_at = now
                self._long_fired = False
                return DOWN
            was_long = self._long_fired
            self._down_at = None
            return None if was_long else PRESS
        if self.stable and not self._long_fired and now - self._down_at >= self.long_press_ms:
            self._long_fired = True
            return CANCEL
        return None
