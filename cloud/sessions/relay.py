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
import threading
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
    """The live bus within one process, also between apps served on event loops of their own
    (two replicas in one test): each subscriber has a bounded queue on its own loop; one too
    slow to keep up loses the overflow (counted in ``dropped``), never the others."""

    def __init__(self, queue_max: int = 1000) -> None:
        self._queues: dict[str, set[tuple[asyncio.AbstractEventLoop, asyncio.Queue]]] = \
            defaultdict(set)
        self._queue_max = queue_max
        self._lock = threading.Lock()
        self.dropped = 0

    async def publish(self, channel: str, event: dict) -> None:
        """Hand ``event`` to every subscriber of ``channel``."""
        with self._lock:
            subscribers = list(self._queues.get(channel, ()))
        here = asyncio.get_running_loop()
        for loop, queue in subscribers:
            if loop is here:
                self._put(channel, queue, event)
            else:
                loop.call_soon_threadsafe(self._put, channel, queue, event)

    def _put(self, channel: str, queue: asyncio.Queue, event: dict) -> None:
        try:
            queue.put_nowait(event)
        except asyncio.QueueFull:
            self.dropped += 1
            log.warning("live_bus.dropped channel=%s dropped=%s", channel, self.dropped)

    @asynccontextmanager
    async def subscribe(self, channel: str) -> AsyncIterator[AsyncIterator[dict]]:
        """Receive the channel's events published from now on, until the block ends."""
        subscriber = (asyncio.get_running_loop(), asyncio.Queue(self._queue_max))
        with self._lock:
            self._queues[channel].add(subscriber)
        try:
            yield _drain(subscriber[1])
        finally:
            with self._lock:
                self._queues[channel].discard(subscriber)
                if not self._queues[channel]:
                    del self._queues[channel]


async def _drain(queue: asyncio.Queue) -> AsyncIterator[dict]:
    while True:
        yield await queue.get()


def session_channel(session_id: int) -> str:
    """The bus channel of one session's signalling."""
    return f"session/{session_id}"
