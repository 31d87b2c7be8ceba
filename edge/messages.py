"""Building the agent's wire messages: one function per kind, each returning canonical bytes.

Every byte the agent sends is made here, so the tests can hold this module against
``protocol/vectors``. Builders validate through the protocol models: a message that breaks the
contract raises (``pydantic.ValidationError`` or ``protocol.codec.Rejected``) instead of leaving.
"""
from __future__ import annotations

import os
import time

from protocol.codec import encode
from protocol.payloads import Ack, Event, Health, Status, Telemetry, link_figures

_CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


def status(*, ts: int, state: str, gen: int, seq: int = 0, version: str | None = None) -> bytes:
    """The agent's presence, ``online`` (birth) or ``offline`` (Last Will, clean stop), of
    connection ``gen``."""
    return encode(Status(ts=ts, seq=seq, state=state, version=version, gen=gen))


def health(*, ts: int, seq: int, state: str, code: str | None = None,
           detail: str | None = None) -> bytes:
    """A device's current state; ``code`` names the fault when not ``ok``."""
    return encode(Health(ts=ts, seq=seq, state=state, code=code, detail=detail))


def telemetry(*, ts: int, seq: int, metrics: dict[str, int | float]) -> bytes:
    """Periodic numbers of one device. The ``probe_`` names belong to the link probe: a set
    of them that the cloud would refuse raises ``ValueError`` here already."""
    link_figures(metrics)
    return encode(Telemetry(ts=ts, seq=seq, metrics=metrics))


def event(*, ts: int, seq: int, id: str, data: dict, synced: bool = True) -> bytes:
    """A discrete fact (button press, occupancy change) with its unique id."""
    return encode(Event(ts=ts, seq=seq, id=id, data=data, synced=synced))


def ack(*, ts: int, seq: int, id: str, cmd: str, ok: bool,
        detail: str | None = None) -> bytes:
    """The answer to a command, carrying the command's id."""
    return encode(Ack(ts=ts, seq=seq, id=id, cmd=cmd, ok=ok, detail=detail))


BUILDERS = {"status": status, "health": health, "telemetry": telemetry, "event": event,
            "ack": ack}


def new_event_id(now_ms: int | None = None) -> str:
    """A ULID-like id: 48-bit millisecond time then 80 random bits, 26 Crockford base-32
    characters, so ids sort by creation time and never repeat in practice."""
    ms = int(time.time() * 1000) if now_ms is None else now_ms
    value = (ms & (2**48 - 1)) << 80 | int.from_bytes(os.urandom(10), "big")
    chars = []
    for _ in range(26):
        value, digit = divmod(value, 32)
        chars.append(_CROCKFORD[digit])
    return "".join(reversed(chars))


def clip_detail(text: str | None) -> str | None:
    """A detail text shortened to what the contract allows (200 characters)."""
    if text is None:
        return None
    return text if len(text) <= 200 else text[:197] + "..."
