"""The booking system's periodic work: reminders, readiness checks, purge of personal data.

``tick`` does one round; ``etapalvelu cloud schedule`` runs it every period. Each step is
idempotent (outbox keys, checked-at marks, purge marks), so two replicas may both run it.
"""
from __future__ import annotations

import logging
from datetime import datetime, timedelta

from cloud.bookings.reminders import send_due_reminders
from cloud.bookings.settings import BookingSettings
from cloud.flows.purge import purge_personal_data
from cloud.flows.readiness import check_readiness

log = logging.getLogger(__name__)


def tick(sessionmaker, rules, settings: BookingSettings, *, now: datetime) -> dict:
    """One round of the periodic work at ``now``; returns what was done."""
    with sessionmaker() as session:
        reminders = send_due_reminders(session, rules, now=now, lead=settings.reminder_lead)
        session.commit()
        not_ready = check_readiness(session, rules, now=now,
                                    lead=timedelta(minutes=settings.readiness_lead_minutes))
        session.commit()
        purged = purge_personal_data(session, now=now, retention=settings.retention)
        session.commit()
    done = {"reminders": reminders, "not_ready": len(not_ready), "purged": purged}
    log.info("bookings tick reminders=%s not_ready=%s purged=%s", *done.values())
    return done

