"""The ingest worker: broker -> triage -> device twin (SQL) and telemetry (InfluxDB).

paho's network thread only stamps and queues messages; a processing thread takes them in
batches, writes the twin in one transaction, and only then acknowledges the QoS 1 messages,
so a crash never loses an accepted event: the broker delivers it again and the event id
suppresses the duplicate. Several workers split the rooms by site (``ingest_partition``,
``cloud.ingest.partition``), each with plain subscriptions in a persistent session of its
partition, which the broker keeps across its own restarts.

The inbox is bounded (``ingest_inbox_max``): while it is full, for instance because the
database is away and the batch at its head is being retried, the network thread stops reading
the socket. The broker then holds the rest within its own bounds and waits for our PUBACKs.
Everything that touches the database or publishes runs on the processing thread, never on
paho's: the resend request after a reconnect and the retention of ``twin_event`` too.
"""
from __future__ import annotations

import gc
import threading
import time
from collections import Counter, deque
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import paho.mqtt.client as mqtt
from sqlalchemy import func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Engine

from cloud.commands import resend_commands
from cloud.db import make_engine
from cloud.ingest.models import IngestCounter
from cloud.ingest.partition import Partition
from cloud.ingest.triage import RawMessage, triage
from cloud.mqtt import connect, make_client
from cloud.registry import Registry
from cloud.runtime.broker import LinkRecorder
from cloud.settings import CloudSettings
from cloud.telemetry.lines import event_line, health_line, status_line, telemetry_line
from cloud.telemetry.writer import TelemetryWriter
from cloud.twin.batch import TwinBatch, summarize
from cloud.twin.service import apply_batch, existing_event_ids, purge_events
from etapalvelu.logs import event_log
from protocol.codec import Received
from protocol.payloads import Health, Telemetry

log = event_log(__name__)
COUNTER = IngestCounter.__table__
RETENTION_EVERY_S = 3600.0  # how often a worker purges events past their retention
PURGE_CHUNK = 10_000  # events deleted per transaction, between batches


class IngestWorker:
    """One ingest worker; ``start()`` connects and returns, ``stop()`` drains and closes."""

    def __init__(self, settings: CloudSettings, registry: Registry, *,
                 engine: Engine | None = None, flush_s: float = 0.02, max_batch: int = 5000,
                 on_commit: Callable[[list[Received], float], None] | None = None,
                 on_events: Callable | None = None,
                 on_rooms_changed: Callable[[set[tuple[str, str]]], None] | None = None
                 ) -> None:
        self.settings, self.name = settings, settings.ingest_name
        # on_events(conn, new events) runs in the batch's transaction and may return what
        # to do once it committed (the summon loop: calls opened, then published)
        self._on_events = on_events
        # on_rooms_changed(rooms) runs after the commit with the rooms whose presence or a
        # device's state changed (the status page hears them on the live bus)
        self._on_rooms_changed = on_rooms_changed
        self._devices = registry.devices
        self.partition = Partition.parse(settings.ingest_partition)
        self.filters = self.partition.filters(registry.sites)
        self._rooms = [(site, room) for site, room, _ in registry.rooms()
                       if self.partition.owns(site)]
        self._lost_at_ms: int | None = None
        self._subscribed = False  # this process's filters are in the broker's session
        self._engine = engine or make_engine(settings.database_url)
        self._flush_s, self._max_batch, self._on_commit = flush_s, max_batch, on_commit
        self._inbox: deque[RawMessage] = deque()
        self._inbox_max = settings.ingest_inbox_max
        self._wake = threading.Event()
        self._resend_due = False  # set on paho's thread, served on the processing thread
        self._purge_at = 0.0  # monotonic time of the next retention run
        self._running = False
        self.counts: Counter = Counter()
        self._unsaved: Counter = Counter()
        self._counts_saved_at = 0.0
        self.connected = threading.Event()
        # the link as the engine and the consoles read it (``cloud.runtime.broker``)
        self.link = LinkRecorder(self._engine, self.name, refresh_s=settings.heartbeat_s)
        self.telemetry = self._telemetry_writer(settings)
        self._spool_dropped = self.telemetry.spool_dropped if self.telemetry else 0
        self._client = make_client(settings, self.partition.client_id, persistent=True,
                                   manual_ack=True)
        self._client.on_connect = self._on_connect
        self._client.on_disconnect = self._on_disconnect
        self._client.on_message = self._on_message
        self._client.on_raw_message = self._on_raw_message
        self._client.on_subscribe = self._on_subscribe
        self._client.reading_paused = self.inbox_full
        self._thread = threading.Thread(target=self._process_loop, name=f"{self.name}-batches",
                                        daemon=True)

    @staticmethod
    def _telemetry_writer(settings: CloudSettings) -> TelemetryWriter | None:
        if not settings.influx_url:
            log.info("ingest.telemetry_off", reason="no InfluxDB URL configured (set ETP_INFLUX_URL)")
            return None
        return TelemetryWriter(url=settings.influx_url, org=settings.influx_org,
                               token=settings.influx_token.get_secret_value(),
                               bucket=settings.influx_bucket, spool_file=settings.spool_file,
                               spool_max_points=settings.spool_max_points)

    def start(self) -> IngestWorker:
        self._running = True
        if self.telemetry:
            self.telemetry.start()
        self._thread.start()
        self.link.start()
        connect(self._client, self.settings, persistent=True, receive_maximum=self._inbox_max)
        self._client.loop_start()
        return self

    def stop(self, timeout: float = 10) -> None:
        """Stop receiving, process what was received, save counters."""
        self.link.stop()  # first: a stop on purpose is no lost link
        self._client.disconnect()
        self._client.loop_stop()
        self._running = False
        self._wake.set()
        self._thread.join(timeout)
        self._save_counts(force=True)
        if self.telemetry:
            self.telemetry.stop()

    @property
    def alive(self) -> bool:
        """Whether the processing thread runs (without it the inbox would only grow)."""
        return self._thread.is_alive()

    def backlog(self) -> int:
        """Messages received and not yet processed."""
        return len(self._inbox)

    def inbox_full(self) -> bool:
        """Whether the inbox holds its bound: the network thread reads nothing meanwhile."""
        return len(self._inbox) >= self._inbox_max

    # paho's network thread -------------------------------------------------------------
    def _on_connect(self, client, _userdata, flags, reason_code, _properties) -> None:
        if reason_code.is_failure:
            log.error("ingest.connect_refused", worker=self.name, reason=reason_code)
            self.link.down()
            return
        log.info("ingest.connected", worker=self.name, partition=str(self.partition),
                 session=bool(flags.session_present), filters=len(self.filters))
        if not self.filters:  # K workers, fewer sites: this one owns none (yet)
            log.warning("ingest.partition_empty", worker=self.name, partition=str(self.partition))
            self._receiving()
            return
        if flags.session_present and self._subscribed:
            # the broker kept the session with this process's subscriptions and delivers
            # what it queued; subscribing again would make it send every retained status
            # and health of the fleet once more [MQTT-3.3.1-6], 50,000 messages at 10,000
            # rooms in the backlog of a broker restart (decision 87)
            self._receiving()
            return
        # a new session, or the first connect of this process (its filters may have changed)
        client.subscribe([(topic_filter, 1) for topic_filter in self.filters])

    def _on_subscribe(self, _client, _userdata, _mid, reason_codes, _properties) -> None:
        if any(code.is_failure for code in reason_codes):
            log.error("ingest.subscription_refused", worker=self.name, reasons=reason_codes)
            return
        self._subscribed = True
        self._receiving()

    def _receiving(self) -> None:
        """Subscribed: ready, and the rooms are asked for what may have been missed."""
        self.connected.set()  # receiving from here on
        self.link.up()
        self._resend_due = True
        self._wake.set()

    def _on_disconnect(self, _client, _userdata, _flags, reason_code, _properties) -> None:
        if self.connected.is_set():  # the first loss counts: what came after may be lost
            self._lost_at_ms = time.time_ns() // 1_000_000
        self.connected.clear()
        self.link.down()
        if self._running:
            log.warning("ingest.disconnected", worker=self.name, reason=reason_code)

    def _on_message(self, _client, _userdata, msg: mqtt.MQTTMessage) -> None:
        self._on_raw_message(msg._topic, msg.payload, msg.qos, msg.mid, msg.retain)

    def _on_raw_message(self, topic: bytes, payload: bytes, qos: int, mid: int,
                        retain: bool) -> None:
        # a topic that is not UTF-8 becomes one that triage drops as a bad topic
        self._inbox.append(RawMessage(topic.decode("utf-8", "replace"), payload,
                                      time.time_ns() // 1_000_000, mid, qos, bool(retain)))
        # an event (a press: someone waits in the room) does not wait for the batch; events
        # are rare beside the telemetry, so the batching still holds
        if topic.endswith(b"/event") or len(self._inbox) >= self._max_batch:
            self._wake.set()

    # processing thread -----------------------------------------------------------------
    def _process_loop(self) -> None:
        while self._running or self._inbox:
            self._wake.wait(self._flush_s)
            self._wake.clear()
            if self._resend_due:
                self._resend_due = False
                self._ask_resend()
            while self._inbox:
                batch = [self._inbox.popleft()
                         for _ in range(min(self._max_batch, len(self._inbox)))]
                self._process_with_retry(batch)
            self._count_spool_drops()
            self._save_counts()
            if self._running and time.monotonic() >= self._purge_at:
                self._purge_expired_events()

    def _ask_resend(self) -> None:
        """Ask every room to send again what it delivered since this worker may have missed
        messages (a loss, or a start after being away)."""
        since = self._lost_at_ms if self._lost_at_ms is not None else self._last_saved_ms()
        if since is None:
            return
        for topic, payload in resend_commands(self._rooms, since):
            self._client.publish(topic, payload, qos=1)
        log.info("ingest.resend_asked", rooms=len(self._rooms), since_ms=since)

    def _purge_expired_events(self) -> None:
        """Delete one chunk of events past their retention; the next chunk follows the next
        round of batches, so ingest never waits long behind the purge."""
        before = datetime.now(UTC) - timedelta(
            days=self.settings.twin_event_retention_days)
        try:
            with self._engine.begin() as conn:
                purged = purge_events(db=conn, before=before, limit=PURGE_CHUNK)
        except Exception:
            log.exception("ingest.purge_failed", worker=self.name)
            self._purge_at = time.monotonic() + 60
            return
        if purged:
            log.info("ingest.expired_events_purged", worker=self.name, events=purged)
        self._purge_at = time.monotonic() + (0 if purged == PURGE_CHUNK else RETENTION_EVERY_S)

    def _process_with_retry(self, batch: list[RawMessage]) -> None:
        delay = 0.1
        while True:
            try:
                self._process(batch)
                return
            except Exception:  # the database is away: keep the batch, unacknowledged
                if not self._running:  # stopping: the broker delivers it again later
                    log.error("ingest.batch_left_unacknowledged", worker=self.name, size=len(batch))
                    return
                log.exception("ingest.batch_failed", worker=self.name, size=len(batch),
                              retry_in_s=round(delay, 1))
                time.sleep(delay)
                delay = min(delay * 2, 10.0)

    def _process(self, batch: list[RawMessage]) -> None:
        result = triage(batch, self._devices)
        with self._engine.begin() as conn:
            event_ids = [a.message.payload.id for a in result.accepted
                         if a.message.topic.kind == "event"]
            twin = summarize(result.accepted, existing_event_ids(conn, event_ids))
            apply_batch(conn, twin)
            after = self._on_events(conn, twin.events) if self._on_events and twin.events \
                else None
        committed = time.time()
        self._client.ack_many([raw.mid for raw in batch if raw.qos == 1])
        if after is not None:
            after()
        if self._on_rooms_changed and twin.changed_rooms:
            self._on_rooms_changed(twin.changed_rooms)
        if self.telemetry:
            self.telemetry.submit(_lines(result.accepted, twin))
        if twin.duplicate_events:
            result.counts["duplicate_event"] += twin.duplicate_events
        self.counts.update(result.counts)
        self._unsaved.update(result.counts)
        if self._on_commit:
            self._on_commit(result.accepted, committed)

    def _count_spool_drops(self) -> None:
        """Telemetry points the full spool dropped become the counter ``spool_dropped``
        (``etp_ingest_messages_total{outcome="spool_dropped"}``, the figure to alarm on)."""
        if self.telemetry is None:
            return
        dropped = self.telemetry.spool_dropped
        if dropped > self._spool_dropped:
            delta, self._spool_dropped = dropped - self._spool_dropped, dropped
            self.counts["spool_dropped"] += delta
            self._unsaved["spool_dropped"] += delta

    def _last_saved_ms(self) -> int | None:
        """When this worker last saved its counters: it was receiving until about then."""
        try:
            with self._engine.connect() as conn:
                last = conn.scalar(select(func.max(COUNTER.c.updated_at))
                                   .where(COUNTER.c.worker == self.name))
        except Exception:
            log.exception("ingest.last_time_unread", worker=self.name)
            return None
        return None if last is None else int(last.timestamp() * 1000)

    def _save_counts(self, force: bool = False) -> None:
        if not self._unsaved or (not force and time.monotonic() - self._counts_saved_at < 1.0):
            return
        deltas, self._unsaved = self._unsaved, Counter()
        now = datetime.now(UTC)
        rows = [{"worker": self.name, "outcome": k, "count": v, "updated_at": now}
                for k, v in deltas.items()]
        try:
            with self._engine.begin() as conn:
                dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
                stmt = dialect.insert(COUNTER)
                conn.execute(stmt.on_conflict_do_update(
                    index_elements=["worker", "outcome"],
                    set_={"count": COUNTER.c.count + stmt.excluded.count,
                          "updated_at": stmt.excluded.updated_at}), rows)
        except Exception:
            self._unsaved.update(deltas)
            log.exception("ingest.counters_unsaved", worker=self.name)
        self._counts_saved_at = time.monotonic()


def retire_partition(settings: CloudSettings, partition: Partition,
                     timeout_s: float = 10.0) -> bool:
    """Remove a former partition's session (after ``K`` changed) from the broker, which would
    otherwise queue its sites' messages for nobody: connect once under its client id with a
    clean session [MQTT-3.1.2-6]. Whether the broker accepted the connection."""
    client = make_client(settings, partition.client_id)
    accepted = threading.Event()
    client.on_connect = lambda _c, _u, _f, reason, _p: (
        None if reason.is_failure else accepted.set())
    connect(client, settings)
    client.loop_start()
    try:
        return accepted.wait(timeout_s)
    finally:
        client.disconnect()
        client.loop_stop()


def tune_garbage_collector() -> None:
    """For a process that mostly ingests: fewer collections of the young generation.

    A batch allocates thousands of short-lived objects; with the default threshold (700) the
    collector runs every few hundred messages and, with many live objects, costs about as much
    as decoding itself. Objects alive at start are frozen out of collection.
    """
    gc.freeze()
    gc.set_threshold(50_000, 20, 100)


def _lines(accepted: list[Received], twin: TwinBatch) -> list[str]:
    lines = []
    for item in accepted:
        topic, payload = item.message.topic, item.message.payload
        if isinstance(payload, Telemetry):
            lines.append(telemetry_line(topic.site, topic.room, topic.device, payload))
        elif isinstance(payload, Health) and not item.retained:
            lines.append(health_line(topic.site, topic.room, topic.device, payload))
    for (site, room, device), event, received_ms in twin.events.values():
        lines.append(event_line(site, room, device, event, received_ms))
    for (site, room), state, received_ms in twin.presence:
        lines.append(status_line(site, room, state, received_ms))
    return lines
