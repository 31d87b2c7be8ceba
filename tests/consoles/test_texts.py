"""Every text a console builds from a value (a visit's status, a room's condition, a device,
an incident's category, a task...) exists in fi, sv and en: ``label(prefix, value)`` in the
templates is checked here for every value the domains can give it."""
from __future__ import annotations

from cloud.bookings.models import CHANNELS
from cloud.consoles.pages import DEVICES, DONE
from cloud.consoles.rules import TASKS
from cloud.incidents.matrix import CATEGORIES
from cloud.incidents.rules import CRITICAL, MAJOR, MINOR
from cloud.texts import texts
from protocol.topics import DEVICE_TYPES

VALUES = {
    "advisor.status": ("due", "checked_in", "in_session", "done", "no_show", "cancelled"),
    "advisor.ready": ("unknown", "offline", "unusable", "degraded", "ready", "closed"),
    "advisor.device": tuple(d for d in DEVICE_TYPES if d != "agent"),
    "advisor.state": ("ok", "degraded", "fault", "missing", "none"),
    "advisor.category": CATEGORIES,
    "advisor.severity": (CRITICAL, MAJOR, MINOR),
    "advisor.channel": CHANNELS,
    "advisor.done": DONE,
    "advisor.nav": ("today", "tasks", "exports"),
    "tasktime.task": TASKS,
    "expertday.arrival": ("due", "checked_in", "in_room", "done", "no_show", "cancelled"),
}


def test_every_label_a_console_builds_from_a_value_has_its_text():
    defined = texts()
    missing = [f"{prefix}.{value}" for prefix, values in VALUES.items() for value in values
               if f"{prefix}.{value}" not in defined]
    assert missing == []
    assert set(DEVICES) == set(VALUES["advisor.device"])
