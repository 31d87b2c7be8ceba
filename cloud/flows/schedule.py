"""One round of the booking schedule, a journey across domains: bookings' due reminders ->
readiness before each visit (``flows.readiness``: twin, incidents, accounts, notify) -> the
purge of personal data after retention (``flows.purge``: bookings, notify) -> the end of
video sessions past their slot (``flows.sessions``: sessions, bookings) -> the feedback text
message after each ended visit (``flows.feedback_sms``: bookings, sessions, notify) -> the statistics
of the finished days (``stats.daily``: occupancy kept, aggregates to InfluxDB) -> the rooms'
coming visits to their agents (``flows.probe_schedule``), when the process has a bus. Beside it,
every few seconds, ``calls_round``: the call-button calls' escalation (``flows.summon``).

``tick`` does one round; ``etapalvelu cloud schedule`` runs it every period. Each step is
idempotent (outbox keys, checked-at marks, purge marks), so two replicas may both run it, and
each step commits on its own, so a failing step keeps what the earlier ones did.
"""
from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy.orm import sessionmaker

from cloud.bookings.rules import BookingRules
from cloud.bookings.settings import BookingSettings
from cloud.flows.feedback_sms import ask_after_visits
from cloud.flows.probe_schedule import tell_agents
from cloud.flows.purge import purge_personal_data
from cloud.flows.readiness import check_readiness
from cloud.flows.reminders import send_due_reminders
from cloud.flows.sessions import end_overdue_sessions
from cloud.flows.summon import escalation_round
from etapalvelu.logs import event_log

log = event_log(__name__)


def tick(sessions: sessionmaker, rules: BookingRules, settings: BookingSettings, *,
         now: datetime, statistics=None, bus=None, probe_horizon: timedelta | None = None
         ) -> dict:
    """One round of the schedule at ``now``; returns what was done. ``statistics``: the
    ``DailyStatistics`` step, when the process runs it; ``bus`` and ``probe_horizon``: tell
    the agents their rooms' coming visits."""
    with sessions() as session:
        reminders = send_due_reminders(session, rules, now=now, lead=settings.reminder_lead)
        session.commit()
        not_ready = check_readiness(session, rules, now=now,
                                    lead=timedelta(minutes=settings.readiness_lead_minutes))
        session.commit()
        purged = purge_personal_data(session, now=now, retention=settings.retention)
        session.commit()
        done = {"reminders": reminders, "not_ready": len(not_ready), "purged": purged,
                "sessions_ended": end_overdue_sessions(sessions, now=now)}
        done["feedback_asked"] = ask_after_visits(session, rules, now=now,
                                                  public_url=settings.public_url)
        session.commit()
        if statistics is not None:
            done["stats_points"] = statistics.run(session, now=now)
            session.commit()
        if bus is not None and probe_horizon is not None:
            done["agents_told"] = tell_agents(session, bus, now=now, horizon=probe_horizon)
    log.info("schedule.tick", **done)
    return done


def calls_round(sessions: sessionmaker, bus, registry, settings, *, now: datetime) -> dict:
    """One escalation round of the open calls (``settings``: ``CallSettings``): second
    alerts and timeouts on the live ``bus``, SMS to the sites' backup numbers."""
    return escalation_round(sessions, bus=bus, registry=registry, rules=settings.rules(),
                            now=now, language=settings.sms_language)
