"""A durable, bounded FIFO of line-protocol chunks, kept while the telemetry store cannot
take them. When a chunk would take it past ``max_points``, the oldest chunks go first and
their points are counted in ``dropped`` (persisted), the figure to alarm on."""
from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

from etapalvelu.logs import event_log

log = event_log(__name__)


class Spool:
    """Chunks of lines in a SQLite file (WAL); ``peek``/``remove`` drain it oldest first."""

    def __init__(self, path: Path | str, max_points: int = 5_000_000) -> None:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        self.max_points = max_points
        self._db = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")  # a spooled point must survive power loss
        self._db.execute("CREATE TABLE IF NOT EXISTS chunk (id INTEGER PRIMARY KEY, "
                         "lines TEXT NOT NULL, points INTEGER NOT NULL)")
        self._db.execute("CREATE TABLE IF NOT EXISTS counter (name TEXT PRIMARY KEY, "
                         "value INTEGER NOT NULL)")
        self._lock = threading.Lock()
        self._load_totals()

    def _load_totals(self) -> None:
        self._points = self._db.execute("SELECT COALESCE(SUM(points), 0) FROM chunk").fetchone()[0]
        row = self._db.execute("SELECT value FROM counter WHERE name = 'dropped'").fetchone()
        self._dropped = row[0] if row else 0

    def append(self, lines: list[str]) -> None:
        """Keep a chunk of lines, dropping the oldest chunks when the bound would be passed."""
        clipped = max(0, len(lines) - self.max_points)  # a chunk past the bound keeps its newest
        lines = lines[clipped:]
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                dropped = self._make_room(len(lines), clipped)
                self._db.execute("INSERT INTO chunk (lines, points) VALUES (?, ?)",
                                 ("\n".join(lines), len(lines)))
            except BaseException:
                self._db.execute("ROLLBACK")
                self._load_totals()
                raise
            self._db.execute("COMMIT")
            self._points += len(lines)
        if dropped:
            log.warning("telemetry.spool_full_oldest_dropped", points=dropped,
                        dropped_total=self._dropped)

    def _make_room(self, incoming: int, clipped: int) -> int:
        dropped = clipped
        while self._points + incoming > self.max_points:
            chunk_id, points = self._db.execute(
                "SELECT id, points FROM chunk ORDER BY id LIMIT 1").fetchone()
            self._db.execute("DELETE FROM chunk WHERE id = ?", (chunk_id,))
            self._points -= points
            dropped += points
        if dropped:
            self._dropped += dropped
            self._db.execute("INSERT INTO counter (name, value) VALUES ('dropped', ?) "
                             "ON CONFLICT(name) DO UPDATE SET value = excluded.value",
                             (self._dropped,))
        return dropped

    def peek(self) -> tuple[int, list[str]] | None:
        """The oldest chunk, or None when empty."""
        with self._lock:
            row = self._db.execute("SELECT id, lines FROM chunk ORDER BY id LIMIT 1").fetchone()
        return None if row is None else (row[0], row[1].split("\n"))

    def remove(self, chunk_id: int) -> None:
        """Forget a chunk once the store has it."""
        with self._lock:
            found = self._db.execute("DELETE FROM chunk WHERE id = ? RETURNING points",
                                     (chunk_id,)).fetchone()
            if found:
                self._points -= found[0]

    def points(self) -> int:
        """Points waiting."""
        return self._points

    @property
    def dropped(self) -> int:
        """Points dropped to keep the bound, ever (persisted)."""
        return self._dropped

    def close(self) -> None:
        """Close the file."""
        with self._lock:
            self._db.close()
