"""The durable outbox: every message the agent sends is written here first.

A message leaves the outbox only once it is delivered: a QoS 1 message when the broker's
PUBACK arrives, a QoS 0 message when it was handed to the socket of a live connection. The
store is a SQLite file in WAL mode, so it survives an agent restart and a power cut.

The outbox is bounded by bytes. When a new message does not fit, room is made by dropping,
oldest first, telemetry, then health reports that a newer report of the same device already
supersedes. Events and command answers are never dropped: if nothing droppable is left, the
new event is refused with ``OutboxFull`` (the caller logs and reports it). Every dropped
telemetry point is counted in a persisted counter.

Rows are replayed in insertion order, so order per device is kept. The outbox also persists the
last sequence number used per device, in the same transaction as the message carrying it, so
``seq`` continues across restarts without gaps, and the last connection generation handed out
(``next_connection``), which orders the agent's ``online``/``offline`` at the cloud.
"""
from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from etapalvelu.logs import event_log

log = event_log(__name__)

# Bytes counted per row beyond topic and payload: the row's own columns and b-tree overhead.
ROW_OVERHEAD = 48
DROPPABLE_KINDS = ("telemetry", "health")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS message (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    device TEXT NOT NULL,
    kind TEXT NOT NULL,
    topic TEXT NOT NULL,
    payload BLOB NOT NULL,
    qos INTEGER NOT NULL,
    retain INTEGER NOT NULL,
    size INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS message_kind ON message (kind, id);
CREATE TABLE IF NOT EXISTS counter (name TEXT PRIMARY KEY, value INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS sent (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    device TEXT NOT NULL,
    topic TEXT NOT NULL,
    payload BLOB NOT NULL,
    qos INTEGER NOT NULL,
    size INTEGER NOT NULL,
    sent_at REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS sent_time ON sent (sent_at);
"""
# Delivered events are kept this long (and at most this many) for the cloud's ``resend``.
SENT_KEEP_S = 3600.0
SENT_KEEP_ROWS = 50_000


WAL_LIMIT_BYTES = 1024 * 1024


class OutboxFull(RuntimeError):
    """An event (or command answer) did not fit and nothing droppable was left to make room,
    or the disk under the outbox is full."""


def _disk_full(exc: sqlite3.OperationalError) -> bool:
    return getattr(exc, "sqlite_errorcode", None) == sqlite3.SQLITE_FULL


@dataclass(frozen=True, slots=True)
class Pending:
    """A message on its way into the outbox."""

    device: str
    kind: str
    topic: str
    payload: bytes
    qos: int
    retain: bool
    seq: int | None = None

    @property
    def size(self) -> int:
        """Bytes this message counts against the bound."""
        return len(self.payload) + len(self.topic) + ROW_OVERHEAD


@dataclass(frozen=True, slots=True)
class Stored:
    """A message in the outbox, ready to publish; ``row`` identifies it for ``remove``."""

    row: int
    topic: str
    payload: bytes
    qos: int
    retain: bool


class Outbox:
    """A bounded, durable FIFO of outgoing messages; safe to use from several threads."""

    def __init__(self, path: Path | str, max_bytes: int = 50 * 1024 * 1024,
                 synchronous: str = "FULL") -> None:
        if synchronous not in ("FULL", "NORMAL"):
            raise ValueError("synchronous must be FULL or NORMAL")
        self.path = Path(path)
        self.max_bytes = max_bytes
        self.synchronous = synchronous
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        # a small log on a small disk: fold it in every 100 pages and keep at most 1 MiB of
        # it afterwards (SQLite's defaults, 1,000 pages and no limit, can hold a terminal's
        # last free megabytes for good)
        self._db.execute("PRAGMA wal_autocheckpoint=100")
        self._db.execute(f"PRAGMA journal_size_limit={WAL_LIMIT_BYTES}")
        # Additions run with FULL by default: the WAL is fsynced before ``put`` returns, because
        # an event accepted here must survive a power cut, not only an agent crash (NORMAL in
        # WAL mode never corrupts the file but may lose the last commits on power loss).
        # Removals always run with NORMAL: losing one to a power cut only re-sends a delivered
        # message, which the cloud suppresses by event id and sequence number anyway.
        self._db.executescript(_SCHEMA)
        self._last_row = 0
        self._load_totals()

    # -- reading state ---------------------------------------------------------------------
    @property
    def bytes(self) -> int:
        """Bytes held, as counted against ``max_bytes``."""
        return self._bytes

    @property
    def last_row(self) -> int:
        """Row id of the newest message ever added (grows monotonically)."""
        return self._last_row

    @property
    def dropped(self) -> int:
        """Messages dropped to make room, ever (persisted)."""
        return self._dropped

    @property
    def refused(self) -> int:
        """Events refused because the outbox was full of undroppable messages, ever."""
        return self._refused

    def __len__(self) -> int:
        return self._count

    def last_seq(self, device: str) -> int | None:
        """The highest sequence number stored for the device, or None if none yet."""
        return self._seqs.get(device)

    # -- writing ---------------------------------------------------------------------------
    def put(self, messages: list[Pending]) -> None:
        """Store messages in one transaction, dropping old telemetry when full.

        Raises ``OutboxFull`` after storing every message that fit when an undroppable
        message did not; a telemetry point that does not fit is dropped and counted instead.
        """
        try:
            refused = self._put(messages)
        except sqlite3.OperationalError as exc:
            if not _disk_full(exc):
                raise
            # nothing of this transaction was stored: the caller hears it, as with a full
            # outbox, and the agent keeps running (the counter is saved with the next put)
            self._refused += len(messages)
            raise OutboxFull(f"the disk under the outbox is full; {len(messages)} message(s) "
                             "refused") from None
        if refused:
            raise OutboxFull(f"outbox full ({self._bytes} of {self.max_bytes} bytes, only "
                             f"undroppable messages left); {refused} message(s) refused")

    def _put(self, messages: list[Pending]) -> int:
        refused = 0
        with self._lock, self._transaction(sync=self.synchronous):
            for message in messages:
                if not self._fits(message):
                    if message.kind in DROPPABLE_KINDS:
                        self._dropped += 1
                        continue
                    refused += 1
                    continue
                cursor = self._db.execute(
                    "INSERT INTO message (device, kind, topic, payload, qos, retain, size)"
                    " VALUES (?, ?, ?, ?, ?, ?, ?)",
                    (message.device, message.kind, message.topic, message.payload, message.qos,
                     int(message.retain), message.size))
                self._last_row = cursor.lastrowid
                self._bytes += message.size
                self._count += 1
                if message.seq is not None:
                    self._remember_seq(message.device, message.seq)
            self._refused += refused
            self._save_counter("dropped", self._dropped)
            self._save_counter("refused", self._refused)
        return refused

    def next_connection(self, now_ms: int) -> int:
        """The generation of a new connection: above every earlier one, persisted before it is
        used. It starts from the clock, so an agent whose outbox was lost still outranks the
        Last Will of its previous life."""
        with self._lock, self._transaction(sync=self.synchronous):
            gen = max(self._counter("connection") + 1, now_ms)
            self._save_counter("connection", gen)
        return gen

    def note_seq(self, device: str, seq: int) -> None:
        """Persist a sequence number used by a message that bypassed the outbox."""
        with self._lock, self._transaction(sync=self.synchronous):
            self._remember_seq(device, seq)

    def pending(self, after_row: int = 0, limit: int = 100) -> list[Stored]:
        """The oldest messages with a row id above ``after_row``, in order."""
        with self._lock:
            rows = self._db.execute(
                "SELECT id, topic, payload, qos, retain FROM message WHERE id > ?"
                " ORDER BY id LIMIT ?", (after_row, limit)).fetchall()
        return [Stored(row, topic, bytes(payload), qos, bool(retain))
                for row, topic, payload, qos, retain in rows]

    def remove(self, rows: list[int], now: float | None = None) -> None:
        """Forget delivered messages (rows already dropped are ignored). Delivered events move
        to the sent log, from which ``resend`` can queue them again."""
        if not rows:
            return
        now = time.time() if now is None else now
        with self._lock, self._transaction(sync="NORMAL"):
            for row in rows:
                found = self._db.execute(
                    "DELETE FROM message WHERE id = ? RETURNING size, kind, device, topic,"
                    " payload, qos", (row,)).fetchone()
                if found:
                    size, kind, device, topic, payload, qos = found
                    self._bytes -= size
                    self._count -= 1
                    if kind == "event":
                        self._db.execute(
                            "INSERT INTO sent (device, topic, payload, qos, size, sent_at)"
                            " VALUES (?, ?, ?, ?, ?, ?)", (device, topic, payload, qos, size, now))
            self._prune_sent(now)

    def resend(self, seconds: float, now: float | None = None) -> int:
        """Queue again every event delivered in the last ``seconds``; return how many.

        The cloud asks for this after it may have missed messages the broker accepted (a
        broker restart that lost its subscription); it drops the duplicates by event id.
        """
        now = time.time() if now is None else now
        with self._lock, self._transaction(sync=self.synchronous):
            rows = self._db.execute(
                "SELECT device, topic, payload, qos, size FROM sent WHERE sent_at >= ?"
                " ORDER BY id", (now - seconds,)).fetchall()
            for device, topic, payload, qos, size in rows:
                cursor = self._db.execute(
                    "INSERT INTO message (device, kind, topic, payload, qos, retain, size)"
                    " VALUES (?, 'event', ?, ?, ?, 0, ?)", (device, topic, payload, qos, size))
                self._last_row = cursor.lastrowid
                self._bytes += size
                self._count += 1
        return len(rows)

    def _prune_sent(self, now: float) -> None:
        self._db.execute("DELETE FROM sent WHERE sent_at < ? OR id <= (SELECT MAX(id) FROM sent)"
                         " - ?", (now - SENT_KEEP_S, SENT_KEEP_ROWS))

    def close(self) -> None:
        """Close the database (checkpointing the WAL)."""
        with self._lock:
            self._db.close()

    # -- internals -------------------------------------------------------------------------
    @contextmanager
    def _transaction(self, sync: str) -> Iterator[None]:
        self._db.execute(f"PRAGMA synchronous={sync}")
        self._db.execute("BEGIN IMMEDIATE")
        try:
            yield
            self._db.execute("COMMIT")  # may fail too (a full disk): then roll back as well
        except BaseException:
            if self._db.in_transaction:
                self._db.execute("ROLLBACK")
            self._load_totals()  # the in-memory totals followed the rolled-back writes
            raise

    def _fits(self, message: Pending) -> bool:
        need = self._bytes + message.size - self.max_bytes
        if need <= 0:
            return True
        need -= self._drop_oldest("SELECT id, size FROM message WHERE kind = 'telemetry'"
                                  " ORDER BY id LIMIT 512", need)
        if need > 0:
            need -= self._drop_oldest(
                "SELECT id, size FROM message AS m WHERE kind = 'health' AND EXISTS"
                " (SELECT 1 FROM message AS n WHERE n.kind = 'health'"
                " AND n.device = m.device AND n.id > m.id) ORDER BY id LIMIT 512", need)
        return need <= 0

    def _drop_oldest(self, query: str, need: int) -> int:
        """Delete rows from ``query`` in order until ``need`` bytes are freed; return freed."""
        freed = 0
        while freed < need:
            batch = self._db.execute(query).fetchall()
            if not batch:
                break
            for row, size in batch:
                if freed >= need:
                    break
                self._db.execute("DELETE FROM message WHERE id = ?", (row,))
                freed += size
                self._bytes -= size
                self._count -= 1
                self._dropped += 1
        if freed:
            log.warning("edge.outbox_dropped", freed_bytes=freed, dropped_total=self._dropped)
        return freed

    def _load_totals(self) -> None:
        total, count, last = self._db.execute(
            "SELECT COALESCE(SUM(size), 0), COUNT(*), COALESCE(MAX(id), 0) FROM message").fetchone()
        self._bytes, self._count = total, count
        self._last_row = max(self._last_row, last)
        self._seqs = {name[4:]: value for name, value in self._db.execute(
            "SELECT name, value FROM counter WHERE name LIKE 'seq:%'")}
        self._dropped = self._counter("dropped")
        self._refused = self._counter("refused")

    def _remember_seq(self, device: str, seq: int) -> None:
        if seq > self._seqs.get(device, -1):
            self._seqs[device] = seq
            self._save_counter(f"seq:{device}", seq)

    def _counter(self, name: str) -> int:
        row = self._db.execute("SELECT value FROM counter WHERE name = ?", (name,)).fetchone()
        return row[0] if row else 0

    def _save_counter(self, name: str, value: int) -> None:
        self._db.execute("INSERT INTO counter (name, value) VALUES (?, ?) ON CONFLICT(name)"
                         " DO UPDATE SET value = excluded.value", (name, value))
