"""Payload models of the wire contract (schema version 1).

Every payload is a JSON object with ``v`` (schema version), ``ts`` (device time, Unix epoch
milliseconds UTC) and ``seq`` (per-device sequence number). Models forbid unknown fields so
that a typo on a device is a counted drop, not silently ignored data.
"""
from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictFloat, StrictInt, StringConstraints

VERSION = 1
SUPPORTED_VERSIONS = frozenset({VERSION})
MAX_PAYLOAD_BYTES = 4096
MAX_METRICS = 32

HEALTH_STATES = ("ok", "degraded", "fault", "missing")
Identifier = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_-]{8,64}$")]
Code = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]{0,39}$")]
MetricName = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]{0,39}$")]
Detail = Annotated[str, StringConstraints(max_length=200)]


def _version_required(schema: dict) -> None:
    # ``v`` has a default for senders' convenience, but a message without it is refused
    schema["required"] = ["v", *[f for f in schema.get("required", []) if f != "v"]]


class Envelope(BaseModel):
    """Fields every payload carries."""

    model_config = ConfigDict(extra="forbid", frozen=True, json_schema_extra=_version_required)

    v: Literal[1] = VERSION
    ts: int = Field(ge=0, lt=2**53, description="device time, Unix epoch ms UTC")
    seq: int = Field(ge=0, lt=2**53, description="per-device sequence number")


class Status(Envelope):
    """The agent's presence (retained; the Last Will sets ``offline``).

    ``gen`` numbers the agent's connections: it rises with every connect, and the Last Will of
    a connection carries that connection's ``gen``. Status is ordered by ``(gen, state)`` with
    ``offline`` after ``online`` of the same ``gen``, never by arrival, so a late Last Will
    cannot overwrite the ``online`` of the connection that followed it. Agents of earlier
    releases leave it out; their status is taken in arrival order.
    """

    state: Literal["online", "offline"]
    version: Annotated[str, StringConstraints(max_length=40)] | None = None
    gen: int | None = Field(default=None, ge=0, lt=2**53,
                            description="connection generation, rising with every connect")


class Health(Envelope):
    """A device's current state (retained). ``code`` names the fault when not ``ok``."""

    state: Literal["ok", "degraded", "fault", "missing"]
    code: Code | None = None
    detail: Detail | None = None


class Telemetry(Envelope):
    """Periodic numbers of one device (QoS 0)."""

    metrics: dict[MetricName, StrictInt | StrictFloat] = Field(min_length=1, max_length=MAX_METRICS)


class ButtonPress(BaseModel):
    """The customer pressed the call button (summons the advisor)."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    type: Literal["button_press"]


class ButtonCancel(BaseModel):
    """A long press cancelled the call."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    type: Literal["button_cancel"]


class Occupancy(BaseModel):
    """The room became occupied or vacant."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    type: Literal["occupancy"]
    occupied: bool


EventData = Annotated[ButtonPress | ButtonCancel | Occupancy, Field(discriminator="type")]


class Event(Envelope):
    """A discrete fact (QoS 1) with a unique ``id`` used for duplicate suppression.

    ``synced`` is false when the device had no wall-clock time yet; ``ts`` then counts
    milliseconds since the device booted and the cloud uses its own receive time.
    """

    id: Identifier
    data: EventData
    synced: bool = True


class Command(Envelope):
    """Cloud to room, on ``.../cmd/{name}``; answered by an ``Ack`` with the same ``id``."""

    id: Identifier
    args: dict[Annotated[str, StringConstraints(max_length=40)], str | int | float | bool] = {}


class Ack(Envelope):
    """The room's answer to a command."""

    id: Identifier
    cmd: Code
    ok: bool
    detail: Detail | None = None


class LinkFigures(BaseModel):
    """The WebRTC link probe's figures: the metrics of a ``network`` telemetry sent after a
    probe (the agent's other network numbers travel in telemetry of their own).

    Round trip and jitter come from echoed pings on an unordered data channel without
    retransmissions, so a lost datagram is a lost ping; loss is counted per direction, because
    a round trip survives only when both legs do; the bitrate is what the cloud received of a
    paced burst on that channel, so it is capped by ``probe.burst_kbps`` of the agent's config.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)
    probe_rtt_ms: float = Field(ge=0, le=60_000, description="median round trip of the pings")
    probe_jitter_ms: float = Field(ge=0, le=60_000,
                                   description="mean change of round trip between pings")
    probe_loss_up_pct: float = Field(ge=0, le=100, description="pings the cloud did not get")
    probe_loss_down_pct: float = Field(ge=0, le=100,
                                       description="echoes of received pings that did not return")
    probe_bitrate_kbps: float = Field(ge=0, description="burst received by the cloud, kbit/s")
    probe_setup_ms: float = Field(ge=0, le=600_000,
                                  description="offer sent to the data channels open")

    @property
    def loss_pct(self) -> float:
        """The worse direction's loss."""
        return max(self.probe_loss_up_pct, self.probe_loss_down_pct)


LINK_METRICS = frozenset(LinkFigures.model_fields)


def link_figures(metrics: dict[str, int | float]) -> LinkFigures | None:
    """The probe's figures in a ``network`` telemetry, or None when it carries none; raises
    ``ValueError`` when it carries some but not a complete, valid set (the ``probe_`` names
    are the probe's: no other numbers may use them)."""
    if not LINK_METRICS & metrics.keys():
        return None
    return LinkFigures.model_validate({name: metrics.get(name) for name in LINK_METRICS})


MODEL_BY_KIND: dict[str, type[Envelope]] = {
    "status": Status,
    "health": Health,
    "telemetry": Telemetry,
    "event": Event,
    "cmd": Command,
    "ack": Ack,
}
