"""What the staff's pages say about the cloud's link to the rooms' broker: the one banner.

Two facts, told apart: ``lost_since``, since when an ingest worker has lost the broker (the
twin hears nothing of the rooms, so rooms and devices read "unknown"; ``cloud.runtime.broker``
reads the workers' rows), and ``replica_lost_since``, since when this API replica's own live
bus has lost it (the twin is current, but the page's live pushes, call alerts included, have
stopped). A page shows ``broker_notice`` when it is rendered; the live stream
(``/api/live/events``) says it as a ``broker_link`` event after every ``hello`` and again at
each change, which ``BrokerLinkWatch`` finds with one query per replica every few seconds
while the replica holds any stream (docs/consoles-live.md).
"""
from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from fastapi import Request

from cloud.live.bus import LiveBus
from cloud.runtime.broker import lost_since
from etapalvelu.logs import event_log

log = event_log(__name__)
CHANNEL = "runtime/broker-link"  # delivered in-process only (``LiveBus.announce``)
EVENT = "broker_link"


@dataclass(frozen=True, slots=True)
class BrokerNotice:
    """The banner's facts: None where the link holds."""

    lost_since: datetime | None = None
    replica_lost_since: datetime | None = None

    def __bool__(self) -> bool:
        return self.lost_since is not None or self.replica_lost_since is not None

    def data(self) -> dict:
        """The ``broker_link`` event's data: each instant in ISO 8601, or null."""
        return {"lost_since": _iso(self.lost_since),
                "replica_lost_since": _iso(self.replica_lost_since)}


def _iso(instant: datetime | None) -> str | None:
    return instant.isoformat() if instant is not None else None


def notice_of(session, bus: LiveBus | None, now: datetime) -> BrokerNotice:
    """The notice at ``now``: the workers' rows in ``session`` and ``bus``'s own link."""
    return BrokerNotice(lost_since=lost_since(session, now=now),
                        replica_lost_since=bus.lost_since if bus is not None else None)


def broker_notice(request: Request, session, now: datetime) -> BrokerNotice:
    """The notice a page rendered for ``request`` shows (the template context ``broker``)."""
    return notice_of(session, getattr(request.app.state, "live_bus", None), now)


class BrokerLinkWatch:
    """One task per API replica: every ``poll_s``, while the replica holds a live stream, it
    reads the notice (one query, shared by every stream) and announces a change to the
    streams on ``CHANNEL``."""

    def __init__(self, bus: LiveBus, read: Callable[[], BrokerNotice], poll_s: float) -> None:
        self.bus, self.read, self.poll_s = bus, read, poll_s
        self.shown: BrokerNotice | None = None
        self._task: asyncio.Task | None = None

    def start(self) -> BrokerLinkWatch:
        """Start watching on the running loop."""
        self._task = asyncio.get_running_loop().create_task(self._run())
        return self

    async def stop(self) -> None:
        """Stop watching."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self.poll_s)
            if not self.bus.subscriber_count():
                self.shown = None  # nobody to tell; the next stream starts from a read
                continue
            try:
                notice = await asyncio.to_thread(self.read)
            except Exception as exc:  # noqa: BLE001 - a store that is down costs a round
                log.warning("live.broker_link_unread", error=type(exc).__name__)
                continue
            if notice != self.shown:
                self.shown = notice
                self.bus.announce(CHANNEL, {"type": EVENT, "data": notice.data()})
