"""Test-only tables behind the statistics' source seams (calls, video sessions, feedback and
the text messages asking for it, the task-time log), with the exact fields the real services provide: the statistics read
them through ``Sources`` as they will read the services, in the same database and session."""
from __future__ import annotations

from sqlalchemy import Boolean, Column, Date, Integer, MetaData, String, Table, select

from cloud.db import Instant
from cloud.stats.facts import Sources

metadata = MetaData()
CALLS = Table("test_stats_call", metadata, Column("id", Integer, primary_key=True),
              Column("site", String(32)), Column("room", String(32)),
              Column("pressed_at", Instant), Column("acknowledged_at", Instant),
              Column("escalation_level", Integer), Column("cleared_at", Instant),
              Column("clear_reason", String(32)))
SESSIONS = Table("test_stats_session", metadata, Column("id", Integer, primary_key=True),
                 Column("site", String(32)), Column("room", String(32)),
                 Column("authority", String(32)), Column("service", String(64)),
                 Column("booking_id", Integer), Column("started_at", Instant),
                 Column("ended_at", Instant))
FEEDBACK = Table("test_stats_feedback", metadata, Column("id", Integer, primary_key=True),
                 Column("giver", String(16)), Column("score", Integer),
                 Column("site", String(32)), Column("authority", String(32)),
                 Column("given_at", Instant),
                 Column("channel", String(16), nullable=False, default="terminal"))
ASKS = Table("test_stats_feedback_ask", metadata, Column("id", Integer, primary_key=True),
             Column("site", String(32)), Column("authority", String(32)),
             Column("giver", String(16), default="customer"),
             Column("channel", String(16), default="sms"),
             Column("answered", Boolean), Column("at", Instant))
TASKS = Table("test_stats_task", metadata, Column("id", Integer, primary_key=True),
              Column("site", String(32)), Column("advisor_id", Integer),
              Column("task", String(32)), Column("day", Date), Column("minutes", Integer))


def calls_between(*, db, start, end):
    """Calls pressed in [start, end)."""
    c = CALLS.c
    return db.execute(select(CALLS).where(c.pressed_at >= start, c.pressed_at < end)).all()


def sessions_between(*, db, start, end):
    """Sessions started in [start, end)."""
    c = SESSIONS.c
    return db.execute(select(SESSIONS).where(c.started_at >= start, c.started_at < end)).all()


def feedback_between(*, db, start, end):
    """Feedback given in [start, end): the rows carry no time, as the service's do not."""
    c = FEEDBACK.c
    return db.execute(select(c.giver, c.score, c.site, c.authority, c.channel).where(
        c.given_at >= start, c.given_at < end)).all()


def feedback_asks_between(*, db, start, end):
    """Text messages asking for feedback sent in [start, end), each answered or not."""
    c = ASKS.c
    return db.execute(select(c.site, c.authority, c.giver, c.channel, c.answered).where(
        c.at >= start, c.at < end)).all()


def task_entries_between(*, db, start, end):
    """Task entries of the local days in [start, end)."""
    c = TASKS.c
    return db.execute(select(TASKS).where(c.day >= start.date(), c.day <= end.date())).all()


SOURCES = Sources(calls=calls_between, sessions=sessions_between, feedback=feedback_between,
                  task_entries=task_entries_between, feedback_asks=feedback_asks_between)
