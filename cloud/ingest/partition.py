"""Which rooms an ingest worker reads: worker ``i`` of ``K`` owns the sites whose stable hash
mod ``K`` is ``i`` (pure; decision 80).

Each worker holds plain, non-shared subscriptions in a persistent session under one client id
per partition: Mosquitto saves those and restores them at start, so the broker queues every
room's QoS 1 messages for their worker from the moment it is back, whether or not the worker
has reconnected yet. (It saves no shared subscription, which is why the workers no longer
share ``$share/ingest/...``.)
"""
from __future__ import annotations

import re
import zlib
from collections.abc import Iterable
from dataclasses import dataclass

from protocol.topics import ROOT

_FORM = re.compile(r"^(\d{1,4})/(\d{1,4})$")


@dataclass(frozen=True, slots=True)
class Partition:
    """Worker ``index`` of ``count`` (``"0/1"``: one worker reads every room)."""

    index: int
    count: int

    @classmethod
    def parse(cls, text: str) -> Partition:
        """``"i/K"`` with 0 <= i < K; anything else is a configuration error (ValueError)."""
        match = _FORM.match(text.strip())
        if not match or not 0 <= int(match[1]) < int(match[2]):
            raise ValueError(f"ETP_INGEST_PARTITION must be i/K with 0 <= i < K, not {text!r}")
        return cls(int(match[1]), int(match[2]))

    def owns(self, site: str) -> bool:
        """Whether this partition reads ``site`` (CRC-32 of its id: the same in every process
        and every release, unlike Python's salted ``hash()``)."""
        return zlib.crc32(site.encode()) % self.count == self.index

    def filters(self, sites: Iterable[str]) -> list[str]:
        """The topic filters this partition subscribes: the whole tree when it is alone,
        else one per site it owns (empty when it owns none)."""
        if self.count == 1:
            return [f"{ROOT}/#"]
        return [f"{ROOT}/{site}/#" for site in sorted(set(sites)) if self.owns(site)]

    @property
    def client_id(self) -> str:
        """The partition's MQTT client id, the same at every start so the broker finds its
        session (and a second worker started on the same partition takes it over)."""
        return f"ingest-{self.index}-of-{self.count}"

    def __str__(self) -> str:
        return f"{self.index}/{self.count}"
