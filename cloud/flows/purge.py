"""The purge of customers' personal data after retention, across bookings and notify.

Bookings null the personal fields of visits that ended before the retention and name the
messages sent about them; notify blanks every column of those messages that can hold an
address. Both steps run in the caller's transaction, so a purge is all or nothing.
"""
from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from cloud.bookings.purge import purge_bookings
from cloud.notify import forget_recipients
from etapalvelu.logs import event_log

log = event_log(__name__)


def purge_personal_data(session: Session, *, now: datetime, retention: timedelta) -> int:
    """Remove the personal data of bookings that ended before ``now - retention`` and of their
    messages (the caller commits); returns how many bookings were purged."""
    references = purge_bookings(session, now=now, retention=retention)
    forget_recipients(session, references=references)
    log.info("purge.done", bookings=len(references))
    return len(references)
