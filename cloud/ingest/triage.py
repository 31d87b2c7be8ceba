"""Pure triage of received messages: decode, validate, check the registry, count drops.

No I/O here: the worker hands in raw messages and gets back what to store and what to count.
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from protocol.codec import Received, Rejected, decode


@dataclass(frozen=True, slots=True)
class RawMessage:
    """A message as the broker delivered it, stamped with the cloud's receive time."""

    topic: str
    payload: bytes
    received_ms: int
    mid: int = 0
    qos: int = 0
    retained: bool = False  # a replay of stored state on (re)subscribe, not a new message


@dataclass
class Triage:
    """The outcome of one batch: the accepted messages (valid, of a known device) in arrival
    order and counts by outcome."""

    accepted: list[Received] = field(default_factory=list)
    counts: Counter = field(default_factory=Counter)


def triage(batch: list[RawMessage], known_devices: frozenset[tuple[str, str, str]]) -> Triage:
    """Split a batch into accepted messages and drops counted by reason.

    Commands are the cloud's own messages travelling to rooms: neither accepted nor dropped.
    """
    result = Triage()
    for raw in batch:
        try:
            message = decode(raw.topic, raw.payload)
        except Rejected as rejected:
            result.counts[rejected.reason] += 1
            continue
        topic = message.topic
        if topic.kind == "cmd":
            continue
        if (topic.site, topic.room, topic.device) not in known_devices:
            result.counts["unknown_device"] += 1
            continue
        result.accepted.append(Received(message, raw.received_ms, raw.retained))
        result.counts["accepted"] += 1
    return result
