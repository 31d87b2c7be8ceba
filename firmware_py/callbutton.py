"""The wireless call button: the customer presses it to summon the service advisor.

A short press sends ``button_press``; holding it for ``long_press_ms`` sends ``button_cancel``.
The LED blinks while the call waits for an advisor, stays lit for ``steady_s`` once the cloud
sends ``call_acknowledged``, and is off otherwise. Between presses the board deep-sleeps,
woken by the button pin or by a timer for its periodic report or a pending retry.
"""
from button import CANCEL, DOWN, PRESS, PressDetector
from console import log
from device import Device

WAITING = "waiting"
ACKNOWLEDGED = "acknowledged"


class CallButton(Device):
    """The call button's logic on any board."""

    name = "callbutton"
    id_prefix = "cb"

    def __init__(self, board, config):
        super().__init__(board, config)
        now = self.boot_ms
        wake = board.wake_reason()
        held = wake == "button" and board.button_pressed()
        self.detector = PressDetector(config.debounce_ms, config.long_press_ms, now, held)
        self.call_state = None
        self.call_since = now
        self.call_ids = []  # calls of this wake, to match acknowledgements
        self.active_at = now
        log("boot", device=self.name, wake=wake, queued=len(self.queue))
        if held:
            log("button", state="down")
        elif wake == "button":  # released before the board was up: the wake was the press
            self._pressed(now)

    def step(self, now):
        """Read the button, expire the call's LED states, sleep when there is nothing to do."""
        gesture = self.detector.update(now, self.board.button_pressed())
        if gesture == DOWN:
            log("button", state="down")
            self.active_at = now
        elif gesture == PRESS:
            self._pressed(now)
        elif gesture == CANCEL:
            self._cancelled(now)
        self._expire(now)
        sleep_ms = self._sleep_due(now)
        if sleep_ms is not False:
            self.uplink.close()
            log("sleep", timer_ms=sleep_ms, queued=len(self.queue))
            self.board.deep_sleep(sleep_ms, True)

    def on_command(self, command):
        """``call_acknowledged`` lights the LED steady if it answers a call of this wake."""
        if command.name != "call_acknowledged":
            super().on_command(command)
            return
        event = command.args.get("event")
        if self.call_state is not None and (event is None or event in self.call_ids):
            self._set_call(ACKNOWLEDGED, self.board.now_ms())
        self.send_ack(command, True)

    def _pressed(self, now):
        self.call_ids.append(self.send_event(PRESS))
        self._set_call(WAITING, now)

    def _cancelled(self, now):
        self.send_event(CANCEL)
        self._set_call(None, now)

    def _set_call(self, state, now):
        log("call", state=state)
        self.call_state = state
        self.call_since = now
        self.active_at = now
        self.board.set_led({WAITING: "blink", ACKNOWLEDGED: "on"}.get(state, "off"))

    def _expire(self, now):
        age = now - self.call_since
        if self.call_state == WAITING and age >= self.config.ack_wait_s * 1000:
            log("call_unanswered")
            self._set_call(None, now)
        elif self.call_state == ACKNOWLEDGED and age >= self.config.steady_s * 1000:
            self._set_call(None, now)

    def _sleep_due(self, now):
        """Milliseconds of timer for the deep sleep due now, ``None`` for no timer, or False."""
        config = self.config
        if self.detector.stable or self.call_state is not None:
            return False
        if now - self.active_at < config.idle_awake_ms:
            return False  # a grace period for commands and a second press
        if len(self.queue):
            if now - self.uplink.down_since < config.retry_awake_s * 1000 or self.uplink.up:
                return False
            return config.retry_sleep_s * 1000  # keep the battery; retry after the sleep
        if self.reported_at is None and now - self.boot_ms < config.retry_awake_s * 1000:
            return False
        return config.report_s * 1000
