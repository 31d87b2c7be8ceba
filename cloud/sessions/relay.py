"""The live bus as the signalling sees it, and an in-process implementation of it.

The platform's live bus (``app.state.live_bus``) fans events out between API replicas
through the MQTT broker: ``await bus.publish(channel, event)`` and ``bus.subscribe(channel)``,
an async context manager yielding an async iterator of event dicts. The signalling uses only
that interface, on the channel ``session/<id>``; ``LocalBus`` serves one process (the demo,
the tests, a single replica) until an app is given the broker-backed one.
"""
from __future__ import annotations

import asyncio
import logging
from collections import defaultdict
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Protocol

log = logging.getLogger(__name__)


class LiveBus(Protocol):
    """What the signalling needs of the live bus."""

    async def publish(self, channel: str, event: dict) -> None:
        """Send ``event`` to every subscriber of ``channel`` on every replica."""

    def subscribe(self, channel: str):
        """An async context manager yielding an async iterator of the channel's events."""


class LocalBus:
    """The live bus within one process: each subscriber has a bounded queue; a subscriber
    too slow to keep up loses the overflow (counted in ``dropped``), never the others."""

    def __init__(self, queue_max: int = 1000) -> None:
        self._queues: dict[str, set[asyncio.Queue]] = defaultdict(set)
        self._queue_max = queue_max
        self.dropped = 0

    async def publish(self, channel: str, event: dict) -> None:
        """Hand ``event`` to every subscriber of ``channel``."""
        for queue in list(self._queues.get(channel, ())):
            try:
                queue.put_nowait(event)
            except asyncio.QueueFull:
                self.dropped += 1
                log.warning("live_bus.dropped channel=%s dropped=%s", channel, self.dropped)

    @asynccontextmanager
    async def subscribe(self, channel: str) -> AsyncIterator[AsyncIterator[dict]]:
        """Receive the channel's events published from now on, until the block ends."""
        queue: asyncio.Queue = asyncio.Queue(self._queue_max)
        self._queues[channel].add(queue)
        try:
            yield _drain(queue)
        finally:
            self._queues[channel].discard(queue)
            if not self._queues[channel]:
                del self._queues[channel]


async def _drain(queue: asyncio.Queue) -> AsyncIterator[dict]:
    while True:
        yield await queue.get()


def session_channel(session_id: int) -> str:
    """The bus channel of one session's signalling."""
    return f"session/{session_id}"
