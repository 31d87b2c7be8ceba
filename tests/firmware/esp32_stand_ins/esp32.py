"""Stand-in for the ESP32 port's ``esp32`` module (the deep-sleep wake seam)."""
import machine

WAKEUP_ALL_LOW = False
WAKEUP_ANY_HIGH = True


def wake_on_ext0(pin, level):
    machine.journal.append(("wake_on_ext0", pin.id, level))
