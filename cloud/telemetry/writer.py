"""Writes line protocol to InfluxDB (``/api/v2/write``) in batches, through a durable spool.

While the store is unreachable or refuses with a server error, chunks go to the spool and are
retried with jittered exponential backoff, oldest first. The spool is bounded
(``spool_max_points``): an outage longer than it holds drops the oldest points, counted in
``spool_dropped`` (the ingest counters and ``/metrics`` show it). A point the store rejects as
invalid (4xx) is counted and logged, not retried forever.
"""
from __future__ import annotations

import queue
import random
import threading
import time
from pathlib import Path

from influxdb_client import InfluxDBClient, WritePrecision
from influxdb_client.client.exceptions import InfluxDBError
from influxdb_client.client.write_api import SYNCHRONOUS

from cloud.telemetry.spool import Spool
from etapalvelu.logs import event_log

log = event_log(__name__)
CHUNK = 5000


class TelemetryWriter:
    """A background thread that batches lines and writes them, spooling on failure."""

    def __init__(self, *, url: str, token: str, org: str, bucket: str, spool_file: Path,
                 spool_max_points: int = 5_000_000, flush_s: float = 0.2,
                 backoff_max_s: float = 10.0) -> None:
        self._client = InfluxDBClient(url=url, token=token or "unused", org=org, timeout=10_000,
                                      retries=False)
        self._write = self._client.write_api(write_options=SYNCHRONOUS)
        self._bucket, self._org = bucket, org
        self._spool = Spool(spool_file, spool_max_points)
        self._queue: queue.SimpleQueue[list[str] | None] = queue.SimpleQueue()
        self._flush_s, self._backoff_max_s = flush_s, backoff_max_s
        self._backoff_s = 0.0
        self._retry_at = 0.0
        self.written = self.rejected = 0
        self._thread = threading.Thread(target=self._run, name="telemetry-writer", daemon=True)

    def start(self) -> TelemetryWriter:
        self._thread.start()
        return self

    def submit(self, lines: list[str]) -> None:
        """Queue lines for writing (never blocks the caller)."""
        if lines:
            self._queue.put(lines)

    def spooled_points(self) -> int:
        """Points waiting in the spool for the store to come back."""
        return self._spool.points()

    @property
    def spool_dropped(self) -> int:
        """Points dropped from the full spool, ever: above zero, history was lost."""
        return self._spool.dropped

    def stop(self, timeout: float = 10) -> None:
        """Write or spool everything queued, then stop."""
        self._queue.put(None)
        self._thread.join(timeout)
        self._client.close()
        self._spool.close()

    def _run(self) -> None:
        stopping = False
        while not stopping:
            lines, stopping = self._collect()
            if lines:
                self._deliver(lines)
            self._drain_spool(final=stopping)

    def _collect(self) -> tuple[list[str], bool]:
        lines: list[str] = []
        deadline = time.monotonic() + self._flush_s
        while len(lines) < CHUNK:
            try:
                item = self._queue.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                break
            if item is None:
                return lines, True
            lines.extend(item)
        return lines, False

    def _deliver(self, lines: list[str]) -> None:
        for start in range(0, len(lines), CHUNK):
            chunk = lines[start:start + CHUNK]
            if self._spool.points() or time.monotonic() < self._retry_at or not self._send(chunk):
                self._spool.append(chunk)  # keep order behind what waits already

    def _drain_spool(self, final: bool) -> None:
        while time.monotonic() >= self._retry_at or final:
            head = self._spool.peek()
            if head is None:
                return
            chunk_id, lines = head
            if not self._send(lines):
                return
            self._spool.remove(chunk_id)

    def _send(self, lines: list[str]) -> bool:
        """Write one chunk; False when the store is unavailable (the chunk must be kept)."""
        try:
            self._write.write(self._bucket, self._org, record=lines,
                              write_precision=WritePrecision.MS)
        except InfluxDBError as exc:
            status = getattr(exc.response, "status", None)
            if status is not None and 400 <= status < 500 and status not in (401, 403, 429):
                self.rejected += len(lines)
                log.error("telemetry.rejected", status=status, points=len(lines), reason=str(exc)[:200])
                return True
            return self._failed(exc)
        except Exception as exc:  # connection refused, timeout: the store is away
            return self._failed(exc)
        self.written += len(lines)
        if self._backoff_s:
            log.info("telemetry.store_reachable", spooled=self._spool.points())
        self._backoff_s = 0.0
        return True

    def _failed(self, exc: Exception) -> bool:
        if not self._backoff_s:
            log.warning("telemetry.store_unavailable", spooling=True, error=type(exc).__name__)
        self._backoff_s = min(self._backoff_max_s, max(0.25, self._backoff_s * 2))
        self._retry_at = time.monotonic() + self._backoff_s * random.uniform(0.5, 1.0)
        return False
