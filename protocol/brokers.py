"""The broker pair as every client sees it: an ordered list of broker URLs, the next one tried
on failure, and the jittered backoff between rounds through the list.

Shared by the room agent and the cloud processes (the MicroPython firmware keeps its own copy
of the same rule in ``firmware_py/link.py``). Pure: the caller passes ``now`` (monotonic
seconds) and does the I/O.
"""
from __future__ import annotations

import random
from collections.abc import Callable
from urllib.parse import urlsplit

SCHEMES = {"mqtt": 1883, "mqtts": 8883}


def split_broker_urls(urls: str | list[str]) -> list[str]:
    """``mqtt://a:1883,mqtt://b:1883`` (or a list) as a list of URLs; refuse a URL that is
    not ``mqtt://`` or ``mqtts://`` with a host, and a list mixing the two (one TLS set-up
    serves every broker of the pair)."""
    parts = urls.split(",") if isinstance(urls, str) else list(urls)
    found = [url.strip() for url in parts if url.strip()]
    if not found:
        raise ValueError("name at least one broker, e.g. mqtts://broker.example.invalid:8883")
    for url in found:
        split = urlsplit(url)
        if split.scheme not in SCHEMES or not split.hostname:
            raise ValueError("broker url must look like mqtt://host:1883 or mqtts://host:8883")
    if len({urlsplit(url).scheme for url in found}) > 1:
        raise ValueError("the brokers of a list use one scheme (all mqtt:// or all mqtts://)")
    return found


def host_port(url: str) -> tuple[str, int]:
    """The host and port of a broker URL (the scheme's port when none is given)."""
    parts = urlsplit(url)
    return parts.hostname or "", parts.port or SCHEMES[parts.scheme]


def backoff_delay(attempt: int, low: float, high: float, rand: Callable[[], float] = random.random
                  ) -> float:
    """Delay before reconnect round ``attempt`` (0-based): exponential from ``low`` up to
    ``high``, with "equal jitter" (half fixed, half random) so a fleet that lost the broker
    together does not come back in lock-step."""
    cap = min(high, low * 2 ** min(attempt, 30))
    return max(low, cap / 2 + rand() * cap / 2)


class BrokerRotation:
    """Which broker of the list to try next, and how long to wait before it.

    A failure (refused, unreachable, keep-alive timeout, a lost connection) moves to the next
    broker of the list; within a round the move waits only a random part of ``low``, so a fleet
    moving to the standby spreads over it; once the whole list failed, the round's backoff
    (``backoff_delay``) applies. While a broker was seen within ``recent_s``, the backoff stays
    under ``recent_high``: a restarted broker is usually back in seconds, and a few cloud
    processes retrying every second do not hammer it (the rooms keep their own, longer cap).
    """

    def __init__(self, count: int, low: float, high: float, *, recent_s: float = 0.0,
                 recent_high: float | None = None, rand: Callable[[], float] = random.random
                 ) -> None:
        self.count, self.low, self.high = max(1, count), low, high
        self.recent_s, self.recent_high, self._rand = recent_s, recent_high, rand
        self.index = 0  # the broker tried or connected now
        self.round = 0  # rounds through the whole list that failed since the last connection
        self._tried = 0  # brokers tried in the current round
        self._seen_at: float | None = None

    def connected(self, now: float) -> None:
        """A broker accepted us: the next failure starts a new round from it."""
        self.round, self._tried, self._seen_at = 0, 0, now

    def lost(self, now: float) -> float:
        """The connection to the current broker ended: the broker was there until now."""
        self._seen_at = now
        return self.failed(now)

    def failed(self, now: float) -> float:
        """An attempt failed: move to the next broker; return the seconds to wait first."""
        self.index = (self.index + 1) % self.count
        self._tried += 1
        if self._tried < self.count:
            return self._rand() * self.low
        self._tried = 0
        recent = self._seen_at is not None and now - self._seen_at < self.recent_s
        high = min(self.high, self.recent_high) if recent and self.recent_high else self.high
        delay = backoff_delay(self.round, self.low, high, self._rand)
        self.round += 1
        return delay
