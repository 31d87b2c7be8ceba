"""A console's live link as a benchmark or a test sees it: a server-sent-events client in a
thread that records every event it reads with its arrival time, and counts the keepalives."""
from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass

import httpx

TIMEOUT = 10


@dataclass(frozen=True)
class SseEvent:
    """One server-sent event; ``received`` is the client's wall clock (s) when it arrived."""

    id: str | None
    event: str
    data: dict
    received: float


class SseClient:
    """Reads ``GET url`` as an event stream with a bearer ``token`` until ``close()``."""

    def __init__(self, url: str, token: str, last_event_id: str | None = None) -> None:
        self.url, self.token = url, token
        self.headers = {"Authorization": f"Bearer {token}", "Accept": "text/event-stream"}
        if last_event_id is not None:
            self.headers["Last-Event-ID"] = last_event_id
        self.events: list[SseEvent] = []
        self.keepalives = 0  # the stream's keepalive events, apart from its events
        self.status: int | None = None
        self.ended = False
        self._changed = threading.Condition()
        self._closing = False
        self._response = None
        self._thread = threading.Thread(target=self._read, daemon=True)
        self._thread.start()

    def _read(self) -> None:
        try:
            with httpx.Client(timeout=httpx.Timeout(5, read=60)) as client, \
                    client.stream("GET", self.url, headers=self.headers) as response:
                self._response = response
                with self._changed:
                    self.status = response.status_code
                    self._changed.notify_all()
                if response.status_code == 200:
                    self._parse(response.iter_lines())
        except Exception:  # closing the response under the reader ends it somehow
            if not self._closing:
                raise
        finally:
            with self._changed:
                self.ended = True
                self._changed.notify_all()

    def _parse(self, lines) -> None:
        fields: dict[str, str] = {}
        for line in lines:
            if line == "":
                if fields.get("event") == "keepalive":
                    self._kept_alive()
                elif "event" in fields:
                    self._add(SseEvent(fields.get("id"), fields["event"],
                                       json.loads(fields.get("data", "{}")), time.time()))
                fields = {}
            elif line.startswith(":"):
                continue  # a comment
            else:
                name, _, value = line.partition(":")
                fields[name] = value.removeprefix(" ")

    def _kept_alive(self) -> None:
        with self._changed:
            self.keepalives += 1
            self._changed.notify_all()

    def _add(self, event: SseEvent) -> None:
        with self._changed:
            self.events.append(event)
            self._changed.notify_all()

    def wait_status(self, timeout: float = TIMEOUT) -> int:
        """The answer's status code, once it came."""
        with self._changed:
            assert self._changed.wait_for(lambda: self.status is not None, timeout), \
                f"no answer from {self.url}"
            return self.status

    def wait(self, name: str, where=lambda data: True, timeout: float = TIMEOUT,
             since: int = 0) -> SseEvent:
        """The first event ``name`` (from the ``since``-th on) whose data satisfies
        ``where``, waiting for it."""
        def found():
            return next((e for e in self.events[since:] if e.event == name and where(e.data)),
                        None)

        with self._changed:
            assert self._changed.wait_for(lambda: found() is not None or self.ended, timeout), \
                f"no {name} event in {timeout}s; got {[e.event for e in self.events]}"
            event = found()
            assert event is not None, f"stream ended without {name}; got {self.events}"
            return event

    def wait_ended(self, timeout: float = TIMEOUT) -> None:
        """Wait until the server has ended the stream."""
        with self._changed:
            assert self._changed.wait_for(lambda: self.ended, timeout), \
                f"{self.url} still streams after {timeout}s"

    def names(self) -> list[str]:
        """The names of the events so far."""
        with self._changed:
            return [e.event for e in self.events]

    @property
    def last_id(self) -> str | None:
        """The id of the last event, as a browser would send it on reconnect."""
        with self._changed:
            return next((e.id for e in reversed(self.events) if e.id is not None), None)

    def close(self, wait_s: float = 5) -> None:
        """Drop the connection, as a closed laptop lid does; wait up to ``wait_s`` for the
        reader (a daemon thread) to end."""
        self._closing = True
        if self._response is not None:
            self._response.close()
        self._thread.join(wait_s)
