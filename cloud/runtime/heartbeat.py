"""Liveness and readiness of the worker processes.

Each process checks its own components every ``heartbeat_s`` (``Health``: alive, ready, a
short detail), writes one ``runtime_heartbeat`` row per component and tells systemd
(``READY=1`` once every component is ready, ``WATCHDOG=1`` while every one is alive). A
component that is no longer alive ends the process with exit status 1, so systemd restarts it;
a database that cannot be written only costs the row (the worker itself may still be fine).
"""
from __future__ import annotations

import os
import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from cloud.runtime.models import ProcessBeat
from etapalvelu.logs import event_log

log = event_log(__name__)


@dataclass(frozen=True, slots=True)
class Health:
    """What a component says of itself: ``alive`` (else restart the process), ``ready``
    (doing its work), ``detail`` (e.g. ``leading``, ``backlog=3``; never personal data)."""

    alive: bool
    ready: bool
    detail: str = ""


Probe = Callable[[], Health]


@dataclass(frozen=True, slots=True)
class Component:
    """One component of a process, as the heartbeat reports it."""

    name: str
    kind: str
    probe: Probe


@dataclass(frozen=True, slots=True)
class ProcessStatus:
    """A heartbeat row read back: ``fresh`` when it beat within the staleness bound."""

    name: str
    kind: str
    host: str
    pid: int
    ready: bool
    detail: str
    age_s: float
    stopped: bool
    fresh: bool


def sd_notify(message: str) -> bool:
    """Send ``message`` to systemd's notify socket (``Type=notify`` units); False when the
    process does not run under systemd."""
    address = os.environ.get("NOTIFY_SOCKET")
    if not address:
        return False
    if address.startswith("@"):  # an abstract socket
        address = "\0" + address[1:]
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC) as sock:
            sock.connect(address)
            sock.sendall(message.encode())
    except OSError as exc:
        log.warning("runtime.sd_notify_failed", error=type(exc).__name__)
        return False
    return True


def record_beat(session: Session, *, name: str, kind: str, health: Health, started_at: datetime,
                now: datetime) -> None:
    """Write the heartbeat of component ``name`` (only its own process writes its row)."""
    row = session.get(ProcessBeat, name)
    if row is None:
        row = ProcessBeat(name=name)
        session.add(row)
    row.kind, row.host, row.pid = kind, socket.gethostname()[:100], os.getpid()
    row.started_at, row.beat_at, row.stopped_at = started_at, now, None
    row.ready, row.detail = health.ready, health.detail[:200]


def record_stop(session: Session, *, name: str, now: datetime) -> None:
    """Mark component ``name`` as stopped on purpose (not a crash)."""
    row = session.get(ProcessBeat, name)
    if row is not None:
        row.stopped_at, row.ready, row.beat_at = now, False, now


def process_status(session: Session, *, now: datetime,
                   stale_after: timedelta) -> list[ProcessStatus]:
    """Every component's last heartbeat, by kind and name."""
    rows = session.scalars(select(ProcessBeat).order_by(ProcessBeat.kind, ProcessBeat.name))
    return [ProcessStatus(r.name, r.kind, r.host, r.pid, r.ready, r.detail,
                          (now - r.beat_at).total_seconds(), r.stopped_at is not None,
                          r.stopped_at is None and now - r.beat_at <= stale_after)
            for r in rows]


class Heartbeat:
    """Checks the components every ``interval_s`` in a thread; ``on_dead`` is called (once)
    when one of them is no longer alive."""

    def __init__(self, sessions: sessionmaker, components: list[Component], *,
                 interval_s: float, on_dead: Callable[[str], None]) -> None:
        self.sessions, self.components = sessions, components
        self.interval_s, self.on_dead = interval_s, on_dead
        self.started_at = datetime.now(UTC)
        self.ready = threading.Event()  # every component ready at least once
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="heartbeat", daemon=True)

    def start(self) -> Heartbeat:
        """Beat until ``stop()``."""
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop beating and mark every component stopped."""
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(self.interval_s + 10)
        try:
            with self.sessions() as session:
                for component in self.components:
                    record_stop(session, name=component.name, now=datetime.now(UTC))
                session.commit()
        except Exception as exc:  # noqa: BLE001 - the row goes stale instead
            log.warning("runtime.heartbeat_stop_unrecorded", error=type(exc).__name__)

    def beat(self) -> dict[str, Health]:
        """Check every component once, record it and tell systemd; returns what each said."""
        healths = {c.name: _checked(c) for c in self.components}
        try:
            with self.sessions() as session:
                now = datetime.now(UTC)
                for component in self.components:
                    record_beat(session, name=component.name, kind=component.kind,
                                health=healths[component.name], started_at=self.started_at,
                                now=now)
                session.commit()
        except Exception as exc:  # noqa: BLE001 - e.g. the database is down for a while
            log.warning("runtime.heartbeat_unrecorded", error=type(exc).__name__)
        dead = [name for name, health in healths.items() if not health.alive]
        if dead:
            log.error("runtime.component_dead", components=dead)
            self.on_dead(dead[0])
            return healths
        if not self.ready.is_set() and all(h.ready for h in healths.values()):
            self.ready.set()
            sd_notify("READY=1")
            log.info("runtime.ready", components=list(healths))
        sd_notify("WATCHDOG=1")
        return healths

    def _run(self) -> None:
        while not self._stop.is_set():
            self.beat()
            self._stop.wait(self.interval_s)


def _checked(component: Component) -> Health:
    try:
        return component.probe()
    except Exception as exc:  # noqa: BLE001 - a probe that fails says "not alive"
        return Health(False, False, f"probe failed: {type(exc).__name__}")
