"""Pure summary of a batch of accepted messages into what the twin must change.

Several messages of one device in a batch become one row update; the newest health (by the
device's sequence number), the newest occupancy (likewise) and the latest agent status (by
connection generation, see ``status_supersedes``) win.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from protocol.codec import Received
from protocol.payloads import Event, Health, LinkFigures, Occupancy, Status, Telemetry, link_figures

DeviceKey = tuple[str, str, str]
RoomKey = tuple[str, str]


def status_supersedes(status: Status, stored_gen: int | None, stored_online: bool) -> bool:
    """Whether ``status`` replaces the stored one: the later connection wins and, within one
    connection, its ``offline`` follows its ``online``. Without generations on either side
    (agents of earlier releases), arrival order decides."""
    if status.gen is None or stored_gen is None:
        return True
    return (status.gen, status.state == "offline") > (stored_gen, not stored_online)


def is_newer(seq: int, ts: int, stored_seq: int | None, stored_ts: int | None) -> bool:
    """Whether a device's reading ``(seq, ts)`` is newer than the stored one; a device whose
    counter restarted (a new outbox) is recognised by its later device time."""
    if stored_seq is None:
        return True
    return seq > stored_seq or (stored_ts is not None and ts > stored_ts)


# How long the least-delayed recent message holds the skew reading (see ``lower_skew``): a
# backlog shorter than this never reads as skew; a clock that falls behind shows after it.
SKEW_WINDOW_MS = 300_000
# a message this close above the reading confirms it (network jitter, a clock's slow drift)
SKEW_TOLERANCE_MS = 1_000


def lower_skew(reading: int | None, confirmed_ms: int | None, sample: int, at_ms: int
               ) -> tuple[int, int]:
    """The clock-skew reading ``(skew ms, confirmed at ms)`` after one message's sample
    (cloud receive time - device time, received at ``at_ms``).

    Queueing anywhere between the device and the ingest only adds to a sample, never takes
    from it, so the reading is the lowest sample of the last ``SKEW_WINDOW_MS``: a lower
    sample replaces it at once, one within ``SKEW_TOLERANCE_MS`` above confirms it, and only
    when none confirmed it for the window does a higher sample replace it."""
    if reading is None or confirmed_ms is None or sample <= reading \
            or at_ms - confirmed_ms > SKEW_WINDOW_MS:
        return sample, at_ms
    if sample <= reading + SKEW_TOLERANCE_MS:
        return reading, max(confirmed_ms, at_ms)
    return reading, confirmed_ms


@dataclass(slots=True)
class DeviceSeen:
    """Aggregates of one device's messages in a batch (commutative, so workers can merge;
    the skew reading merges by ``lower_skew``)."""

    last_seen_ms: int
    device_ts: int
    seq_min: int
    seq_max: int
    seq_count: int = 0
    duplicates: int = 0
    skew_ms: int | None = None
    skew_confirmed_ms: int | None = None

    def add(self, seq: int, ts: int, received_ms: int, synced: bool) -> None:
        self.seq_min = min(self.seq_min, seq)
        self.seq_max = max(self.seq_max, seq)
        self.seq_count += 1
        self.last_seen_ms = max(self.last_seen_ms, received_ms)
        if synced:
            self.device_ts = max(self.device_ts, ts)
            self.skew_ms, self.skew_confirmed_ms = lower_skew(
                self.skew_ms, self.skew_confirmed_ms, received_ms - ts, received_ms)


@dataclass
class TwinBatch:
    """What one batch changes in the twin."""

    seen: dict[DeviceKey, DeviceSeen] = field(default_factory=dict)
    health: dict[DeviceKey, tuple[Health, int]] = field(default_factory=dict)
    status: dict[RoomKey, tuple[Status, int]] = field(default_factory=dict)
    occupancy: dict[RoomKey, tuple[Event, int]] = field(default_factory=dict)
    events: dict[str, tuple[DeviceKey, Event, int]] = field(default_factory=dict)
    # a room's newest link probe: (figures, seq, device ts, received ms)
    links: dict[RoomKey, tuple[LinkFigures, int, int, int]] = field(default_factory=dict)
    duplicate_events: int = 0
    # presence changes the twin applied: (room, state, received_ms), for the telemetry store
    presence: list[tuple[RoomKey, str, int]] = field(default_factory=list)
    # rooms whose presence or a device's state the twin changed: what the status page shows
    changed_rooms: set[RoomKey] = field(default_factory=set)


def summarize(accepted: list[Received], existing_event_ids: set[str]) -> TwinBatch:
    """Fold accepted messages into a ``TwinBatch``; events already stored count as duplicates."""
    batch = TwinBatch()
    for item in accepted:
        topic, payload = item.message.topic, item.message.payload
        key = (topic.site, topic.room, topic.device)
        if isinstance(payload, Event):
            if payload.id in existing_event_ids or payload.id in batch.events:
                batch.duplicate_events += 1
                _seen(batch, key, payload, item.received_ms, synced=payload.synced).duplicates += 1
                continue
            batch.events[payload.id] = (key, payload, item.received_ms)
            if isinstance(payload.data, Occupancy):
                _newest_occupancy(batch, (topic.site, topic.room), payload, item.received_ms)
        elif isinstance(payload, Health):
            current = batch.health.get(key)
            if current is None or payload.seq >= current[0].seq:
                batch.health[key] = (payload, item.received_ms)
        elif isinstance(payload, Status):
            room, current = (topic.site, topic.room), batch.status.get((topic.site, topic.room))
            if current is None or status_supersedes(payload, current[0].gen,
                                                    current[0].state == "online"):
                batch.status[room] = (payload, item.received_ms)
            continue  # presence is per connection, outside the device's sequence
        elif isinstance(payload, Telemetry) and topic.device == "network":
            _newest_link(batch, (topic.site, topic.room), payload, item.received_ms)
        if item.retained:
            continue  # old state replayed by the broker: says nothing of the device now
        synced = payload.synced if isinstance(payload, Event) else True
        _seen(batch, key, payload, item.received_ms, synced).add(
            payload.seq, payload.ts, item.received_ms, synced)
    return batch


def _newest_occupancy(batch: TwinBatch, room: RoomKey, event: Event, received_ms: int) -> None:
    current = batch.occupancy.get(room)
    if current is None or is_newer(event.seq, event.ts, current[0].seq, current[0].ts):
        batch.occupancy[room] = (event, received_ms)


def _newest_link(batch: TwinBatch, room: RoomKey, payload: Telemetry, received_ms: int) -> None:
    figures = link_figures(payload.metrics)  # decoding checked them: complete or absent
    current = batch.links.get(room)
    if figures is not None and (current is None or is_newer(payload.seq, payload.ts,
                                                            current[1], current[2])):
        batch.links[room] = (figures, payload.seq, payload.ts, received_ms)


def _seen(batch: TwinBatch, key: DeviceKey, payload, received_ms: int, synced: bool) -> DeviceSeen:
    seen = batch.seen.get(key)
    if seen is None:
        seen = batch.seen[key] = DeviceSeen(
            last_seen_ms=received_ms, device_ts=payload.ts if synced else -1,
            seq_min=payload.seq, seq_max=payload.seq)
    return seen
