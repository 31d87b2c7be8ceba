"""Encoding and decoding of wire messages, the one place both sides use.

The canonical encoding is compact UTF-8 JSON (no spaces), fields in model order, optional
fields left out when unset. ``decode`` never raises anything but ``Rejected``, whose
``reason`` is one of ``DROP_REASONS``; the cloud counts drops by that reason.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import orjson
from pydantic import ValidationError

from protocol.payloads import (
    MAX_PAYLOAD_BYTES,
    MODEL_BY_KIND,
    SUPPORTED_VERSIONS,
    Envelope,
    Telemetry,
    link_figures,
)
from protocol.topics import Topic, TopicError, parse_topic

DROP_REASONS = ("topic", "size", "malformed_json", "unknown_version", "schema", "unknown_device")


class Rejected(ValueError):
    """A message that is dropped, with a reason from ``DROP_REASONS`` and a short detail."""

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason
        self.detail = detail


@dataclass(frozen=True, slots=True)
class Message:
    """A decoded message: where it came from and its validated payload."""

    topic: Topic
    payload: Envelope


@dataclass(frozen=True, slots=True)
class Received:
    """A decoded message as its receiver got it: stamped with the receiver's clock, and marked
    when it was a replay of retained state (sent again on subscribe, not new)."""

    message: Message
    received_ms: int
    retained: bool = False


def encode(payload: Envelope) -> bytes:
    """Canonical bytes of a payload."""
    data = orjson.dumps(payload.model_dump(mode="json", exclude_none=True, exclude_defaults=False))
    if len(data) > MAX_PAYLOAD_BYTES:
        raise Rejected("size", f"{len(data)} bytes > {MAX_PAYLOAD_BYTES}")
    return data


_known_topic = lru_cache(maxsize=65536)(parse_topic)  # a fleet repeats the same topics


def decode(topic: str, payload: bytes) -> Message:
    """Parse and validate one message; raise ``Rejected`` with the drop reason."""
    try:
        parsed_topic = _known_topic(topic)
    except TopicError as exc:
        raise Rejected("topic", str(exc)) from None
    message = Message(parsed_topic, decode_payload(parsed_topic.kind, payload))
    if parsed_topic.device == "network" and isinstance(message.payload, Telemetry):
        _check_link_figures(message.payload)
    return message


def _check_link_figures(payload: Telemetry) -> None:
    """A network telemetry with some of the probe's figures must carry all of them, valid."""
    try:
        link_figures(payload.metrics)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in ("metrics", *first["loc"]))
        raise Rejected("schema", f"{where}: {first['msg']}") from None


def decode_payload(kind: str, payload: bytes) -> Envelope:
    """Validate the payload of a message of ``kind``; raise ``Rejected`` with the reason."""
    if len(payload) > MAX_PAYLOAD_BYTES:
        raise Rejected("size", f"{len(payload)} bytes > {MAX_PAYLOAD_BYTES}")
    try:
        obj = orjson.loads(payload)
    except orjson.JSONDecodeError:
        raise Rejected("malformed_json") from None
    if not isinstance(obj, dict):
        raise Rejected("malformed_json", "payload is not a JSON object")
    version = obj.get("v")
    if type(version) is not int or version not in SUPPORTED_VERSIONS:
        raise Rejected("unknown_version", f"v={version!r}; supported {sorted(SUPPORTED_VERSIONS)}")
    try:
        return MODEL_BY_KIND[kind].model_validate(obj)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise Rejected("schema", f"{where}: {first['msg']}") from None
