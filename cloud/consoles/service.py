"""Service functions of the consoles' own table, the advisors' task-time log. Keyword-only;
the caller commits. Days are local (Europe/Helsinki) calendar days."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import case, select
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from cloud.consoles.models import TaskEntry
from cloud.consoles.rules import MAX_DAY_MINUTES, TASKS, clamp_minutes
from cloud.sites.hours import HELSINKI

__all__ = ["TaskTime", "add_minutes", "day_minutes", "local_day", "set_minutes",
           "task_entries_between"]


@dataclass(frozen=True)
class TaskTime:
    """Minutes of one task by one advisor at one site on one local day."""

    site: str
    advisor_id: int
    task: str
    day: date
    minutes: int


def _known(task: str) -> None:
    if task not in TASKS:
        raise ValueError(f"unknown task {task!r}; one of {', '.join(TASKS)}")


def _upsert(db: Session, *, site: str, advisor_id: int, day: date, task: str, now: datetime,
            minutes: int, add: bool) -> None:
    insert = postgresql_insert if db.get_bind().dialect.name == "postgresql" else sqlite_insert
    table = TaskEntry.__table__
    total = table.c.minutes + minutes if add else minutes
    # one statement: two taps at once both count (the row lock of the conflict orders them)
    db.execute(insert(table).values(site=site, advisor_id=advisor_id, day=day, task=task,
                                    minutes=clamp_minutes(minutes), updated_at=now)
               .on_conflict_do_update(index_elements=["site", "advisor_id", "day", "task"],
                                      set_={"minutes": _bounded(total), "updated_at": now}))


def _bounded(expression):
    return case((expression < 0, 0), (expression > MAX_DAY_MINUTES, MAX_DAY_MINUTES),
                else_=expression)


def add_minutes(db: Session, *, site: str, advisor_id: int, day: date, task: str,
                minutes: int, now: datetime) -> None:
    """Add ``minutes`` (a tap: +5, +15) to the advisor's task of ``day``."""
    _known(task)
    _upsert(db, site=site, advisor_id=advisor_id, day=day, task=task, now=now,
            minutes=minutes, add=True)


def set_minutes(db: Session, *, site: str, advisor_id: int, day: date, task: str,
                minutes: int, now: datetime) -> None:
    """Set the advisor's minutes of a task on ``day`` (a correction), within 0..24 h."""
    _known(task)
    _upsert(db, site=site, advisor_id=advisor_id, day=day, task=task, now=now,
            minutes=minutes, add=False)


def day_minutes(db: Session, *, site: str, advisor_id: int, day: date) -> dict[str, int]:
    """The advisor's minutes per task on ``day`` at ``site`` (every task, zero when none)."""
    rows = db.execute(select(TaskEntry.task, TaskEntry.minutes).where(
        TaskEntry.site == site, TaskEntry.advisor_id == advisor_id, TaskEntry.day == day))
    recorded = dict(rows.all())
    return {task: recorded.get(task, 0) for task in TASKS}


def local_day(value: date | datetime) -> date:
    """A day as given, or the Helsinki calendar day of an aware instant."""
    return value.astimezone(HELSINKI).date() if isinstance(value, datetime) else value


def task_entries_between(*, db: Session, start: date | datetime, end: date | datetime,
                         site: str | None = None) -> list[TaskTime]:
    """Every recorded task time of the local days in [start, end) (days, or instants taken
    as their Helsinki days), optionally of one site, ordered by site, day, advisor and the
    task list: what the statistics and the exports read."""
    start, end = local_day(start), local_day(end)
    query = select(TaskEntry).where(TaskEntry.day >= start, TaskEntry.day < end,
                                    TaskEntry.minutes > 0)
    if site is not None:
        query = query.where(TaskEntry.site == site)
    rows = [TaskTime(e.site, e.advisor_id, e.task, e.day, e.minutes) for e in db.scalars(query)]
    order = {task: i for i, task in enumerate(TASKS)}
    return sorted(rows, key=lambda r: (r.site, r.day, r.advisor_id, order.get(r.task, 99)))
