"""Reads of the ingest domain's tables for other parts (the API, the metrics)."""
from __future__ import annotations

from sqlalchemy import Connection, Row, select
from sqlalchemy.orm import Session

from cloud.ingest.models import IngestCounter

COUNTER = IngestCounter.__table__


def counters(*, db: Connection | Session) -> list[Row]:
    """Every worker's message count by outcome, as rows of ``(worker, outcome, count)``."""
    return db.execute(select(COUNTER.c.worker, COUNTER.c.outcome, COUNTER.c.count)).all()
