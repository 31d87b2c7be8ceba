"""Structured logs of the cloud processes: one ``key=value`` line per record.

The messages themselves are ``event key=value ...`` (``ingest connected worker=...``); the
line adds the time, level, logger and process name. Under systemd the journal keeps them.
"""
from __future__ import annotations

import logging
import os
import sys
from datetime import UTC, datetime


class KeyValueFormatter(logging.Formatter):
    """``ts=... level=INFO logger=cloud.x process=engine@host msg...``; tracebacks follow
    on their own lines."""

    def __init__(self, process: str) -> None:
        super().__init__()
        self.process = process

    def format(self, record: logging.LogRecord) -> str:
        ts = datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds")
        line = (f"ts={ts.replace('+00:00', 'Z')} level={record.levelname} "
                f"logger={record.name} process={self.process} {record.getMessage()}")
        if record.exc_info:
            line += "\n" + self.formatException(record.exc_info)
        return line


def setup_logging(level: str, process: str) -> None:
    """Log ``key=value`` lines to standard error for ``process`` (e.g. ``engine@host``)."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(KeyValueFormatter(process))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    logging.getLogger("alembic").setLevel(logging.WARNING)
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
