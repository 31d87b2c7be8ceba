"""A durable FIFO of line-protocol chunks, kept while the telemetry store cannot take them."""
from __future__ import annotations

import sqlite3
import threading
from pathlib import Path


class Spool:
    """Chunks of lines in a SQLite file (WAL); ``peek``/``remove`` drain it oldest first."""

    def __init__(self, path: Path | str) -> None:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")  # a spooled point must survive power loss
        self._db.execute("CREATE TABLE IF NOT EXISTS chunk (id INTEGER PRIMARY KEY, "
                         "lines TEXT NOT NULL, points INTEGER NOT NULL)")
        self._lock = threading.Lock()

    def append(self, lines: list[str]) -> None:
        """Keep a chunk of lines."""
        with self._lock:
            self._db.execute("INSERT INTO chunk (lines, points) VALUES (?, ?)",
                             ("\n".join(lines), len(lines)))

    def peek(self) -> tuple[int, list[str]] | None:
        """The oldest chunk, or None when empty."""
        with self._lock:
            row = self._db.execute("SELECT id, lines FROM chunk ORDER BY id LIMIT 1").fetchone()
        return None if row is None else (row[0], row[1].split("\n"))

    def remove(self, chunk_id: int) -> None:
        """Forget a chunk once the store has it."""
        with self._lock:
            self._db.execute("DELETE FROM chunk WHERE id = ?", (chunk_id,))

    def points(self) -> int:
        """Points waiting."""
        with self._lock:
            return self._db.execute("SELECT COALESCE(SUM(points), 0) FROM chunk").fetchone()[0]

    def close(self) -> None:
        with self._lock:
            self._db.close()
