"""The MQTT topic tree: ``etp/v1/{site}/{room}/{device}/{kind}``.

Builders and a parser shared by the room agent, the cloud and the tests. Topic levels are
restricted to lower-case letters, digits and ``-``/``_`` so that no level can carry the MQTT
wildcards ``+``/``#`` or a ``/`` [MQTT-4.7.1-1].
"""
from __future__ import annotations

import re
from dataclasses import dataclass

ROOT = "etp/v1"
# the cloud's own tree, outside the devices' one: live events between cloud processes and to
# the consoles (cloud.live); no room identity may publish or read there
LIVE_ROOT = "etp/live/v1"
DEVICE_TYPES = ("agent", "terminal", "doccam", "callbutton", "occupancy", "network")
KINDS = ("status", "health", "telemetry", "event", "cmd", "ack")
_LEVEL = re.compile(r"^[a-z0-9][a-z0-9_-]{0,31}$")


class TopicError(ValueError):
    """A topic outside the tree or with an illegal level."""


@dataclass(frozen=True, slots=True)
class Topic:
    """A parsed topic; ``command`` is set only for ``cmd/{name}``."""

    site: str
    room: str
    device: str
    kind: str
    command: str | None = None

    def __str__(self) -> str:
        tail = f"cmd/{self.command}" if self.kind == "cmd" else self.kind
        return f"{ROOT}/{self.site}/{self.room}/{self.device}/{tail}"


def check_level(value: str, what: str) -> str:
    """Return ``value`` if it is a legal topic level, else raise ``TopicError``."""
    if not _LEVEL.match(value):
        raise TopicError(f"{what} {value!r} must match {_LEVEL.pattern}")
    return value


def topic(site: str, room: str, device: str, kind: str, command: str | None = None) -> str:
    """Build a topic string; ``kind='cmd'`` needs a ``command`` name."""
    for value, what in ((site, "site"), (room, "room"), (device, "device")):
        check_level(value, what)
    if kind not in KINDS:
        raise TopicError(f"kind {kind!r} is not one of {', '.join(KINDS)}")
    if (kind == "cmd") != (command is not None):
        raise TopicError("a command topic needs a command name, and only it")
    if command is not None:
        check_level(command, "command")
    return str(Topic(site, room, device, kind, command))


def room_filter(site: str = "+", room: str = "+") -> str:
    """Subscription filter for everything a room sends (``etp/v1/site/room/#``)."""
    return f"{ROOT}/{site}/{room}/#"


def parse_topic(value: str) -> Topic:
    """Parse a topic of the tree; raise ``TopicError`` with the reason otherwise."""
    parts = value.split("/")
    if len(parts) < 6 or "/".join(parts[:2]) != ROOT:
        raise TopicError(f"not under {ROOT}/{{site}}/{{room}}/{{device}}/{{kind}}")
    site, room, device, kind = parts[2:6]
    for level, what in ((site, "site"), (room, "room"), (device, "device")):
        check_level(level, what)
    if kind == "cmd":
        if len(parts) != 7:
            raise TopicError("command topic must be .../cmd/{name}")
        return Topic(site, room, device, kind, check_level(parts[6], "command"))
    if len(parts) != 6 or kind not in KINDS:
        raise TopicError(f"kind {kind!r} is not one of {', '.join(KINDS)}")
    return Topic(site, room, device, kind)
