"""The cloud's contact with the rooms' broker, as its ingest workers see it.

Each ingest worker records its link (``LinkRecorder``: on connect, on loss, and every
``refresh_s`` while it runs) in ``runtime_broker_link``; the engine and every API replica read
the rows back (``broker_contact``). While a live worker has lost its link the twin is a stale
picture (after ``kill -9`` of the broker it would show every room online, after a graceful
stop every room offline): the engine judges no room by it, and the consoles and the status
page say that the cloud has lost contact instead of showing the rooms.
"""
from __future__ import annotations

import threading
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from cloud.runtime.models import BrokerLinkRow
from etapalvelu.logs import event_log

log = event_log(__name__)
LINK_STALE = timedelta(seconds=60)  # a worker's row counts while refreshed within this


@dataclass(frozen=True, slots=True)
class Link:
    """One worker's link as recorded: up or down ``since``, last refreshed ``beat_at``;
    ``recovered`` when it is up again after a loss (not a worker's first connect)."""

    connected: bool
    since: datetime
    beat_at: datetime
    stopped: bool = False
    recovered: bool = False


@dataclass(frozen=True, slots=True)
class Contact:
    """The cloud's contact with the broker: ``lost_since`` while a live worker has lost its
    link, else None; ``back_at`` when the last live worker's link came (back) up."""

    lost_since: datetime | None = None
    back_at: datetime | None = None  # the last recovery of a live worker's link

    @property
    def lost(self) -> bool:
        """Whether the cloud hears nothing (or only part) of the rooms now."""
        return self.lost_since is not None

    def settled(self, now: datetime, grace: timedelta) -> bool:
        """Whether the twin can be trusted again at ``now``: the link holds and came back at
        least ``grace`` ago (the rooms' agents reconnect with their own backoff)."""
        return not self.lost and (self.back_at is None or now - self.back_at >= grace)


def contact_of(links: Iterable[Link], now: datetime, stale_after: timedelta) -> Contact:
    """The contact that ``links`` say, pure. Only live workers count (not stopped, refreshed
    within ``stale_after``): a worker that is gone is its heartbeat's matter, and no row at all
    (no ingest yet, a unit test) says nothing is lost."""
    live = [link for link in links if not link.stopped and now - link.beat_at <= stale_after]
    down = [link.since for link in live if not link.connected]
    if down:
        return Contact(lost_since=min(down))
    back = [link.since for link in live if link.recovered]
    return Contact(back_at=max(back) if back else None)


def broker_contact(session: Session, *, now: datetime, stale_after: timedelta) -> Contact:
    """The cloud's contact with the broker at ``now``, from every worker's row."""
    rows = session.scalars(select(BrokerLinkRow))
    return contact_of((Link(r.connected, r.since, r.beat_at, r.stopped_at is not None,
                            r.lost_at is not None) for r in rows), now, stale_after)


def lost_since(session: Session, *, now: datetime) -> datetime | None:
    """Since when the cloud has lost the rooms' broker (None: it has not), for the pages."""
    return broker_contact(session, now=now, stale_after=LINK_STALE).lost_since


def record_link(session: Session, *, name: str, connected: bool, changed_at: datetime,
                now: datetime) -> None:
    """Write worker ``name``'s link: ``since`` moves (to ``changed_at``) only when
    ``connected`` changes; a loss is remembered until the worker stops."""
    row = session.get(BrokerLinkRow, name)
    if row is None or row.stopped_at is not None:  # a worker's start: no loss behind it
        row = session.merge(BrokerLinkRow(name=name, connected=connected, since=changed_at,
                                          lost_at=None))
    elif row.connected != connected:
        row.connected, row.since = connected, changed_at
    if not connected and row.since == changed_at:
        row.lost_at = changed_at
    row.beat_at, row.stopped_at = now, None


def record_link_stopped(session: Session, *, name: str, now: datetime) -> None:
    """Worker ``name`` stopped on purpose: its row no longer speaks for the cloud."""
    row = session.get(BrokerLinkRow, name)
    if row is not None:
        row.stopped_at, row.beat_at = now, now


class LinkRecorder:
    """Records one worker's link from its MQTT callbacks without blocking them: ``up()`` and
    ``down()`` only note the change, a thread of its own writes it at once and refreshes the
    row every ``refresh_s`` (a database that is down costs the row, never the worker)."""

    def __init__(self, engine: Engine, name: str, *, refresh_s: float = 10.0) -> None:
        self.engine, self.name, self.refresh_s = engine, name, refresh_s
        self._state: tuple[bool, datetime] | None = None  # connected, since when
        self._changed = threading.Event()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"{name}-link", daemon=True)

    def start(self) -> LinkRecorder:
        """Write from now on (the first row once the worker has connected or failed to)."""
        self._thread.start()
        return self

    def up(self) -> None:
        """The worker receives from the broker again (its subscription is granted)."""
        self._note(True)

    def down(self) -> None:
        """The worker lost the broker."""
        self._note(False)

    def stop(self) -> None:
        """Stop writing and mark the row stopped."""
        self._stop.set()
        self._changed.set()
        if self._thread.is_alive():
            self._thread.join(5)
        self._write(lambda s, now: record_link_stopped(s, name=self.name, now=now))

    def _note(self, connected: bool) -> None:
        self._state = (connected, datetime.now(UTC))
        self._changed.set()

    def _run(self) -> None:
        while not self._stop.is_set():
            self._changed.wait(self.refresh_s)
            self._changed.clear()
            state = self._state
            if state is not None and not self._stop.is_set():
                self._write(lambda s, now, state=state: record_link(
                    s, name=self.name, connected=state[0], changed_at=state[1], now=now))

    def _write(self, change) -> None:
        try:
            with Session(self.engine) as session:
                change(session, datetime.now(UTC))
                session.commit()
        except Exception as exc:  # noqa: BLE001 - the row goes stale instead
            log.warning("runtime.broker_link_unrecorded", error=type(exc).__name__)
