"""Stand-in for the ESP32 port's ``machine`` (the hardware seam; signatures as documented)."""
EXT0_WAKE = 2
TIMER_WAKE = 4
journal = []  # what the board did, for the test to read
levels = {}  # input pin -> level the test sets
wake = [0]


class Pin:
    IN = 1
    OUT = 3
    PULL_UP = 2

    def __init__(self, id, mode=-1, pull=-1, *, value=None):
        self.id = id
        self.mode = mode
        self.pull = pull
        if value is not None:
            self.value(value)

    def value(self, *set_to):
        if set_to:
            journal.append(("pin", self.id, set_to[0]))
            return None
        return levels.get(self.id, 1 if self.pull == Pin.PULL_UP else 0)


class ADC:
    ATTN_11DB = 3

    def __init__(self, pin):
        self.pin = pin

    def atten(self, value):
        journal.append(("atten", value))

    def read_uv(self):
        return levels.get("adc_uv", 1475000)


class WDT:
    def __init__(self, id=0, timeout=5000):
        journal.append(("wdt", timeout))

    def feed(self):
        journal.append(("feed",))


def wake_reason():
    return wake[0]


def deepsleep(time_ms=None):
    journal.append(("deepsleep", time_ms))
    raise SystemExit(0)
