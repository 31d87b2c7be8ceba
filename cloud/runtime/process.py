"""The run loop of a worker process: start its services, beat, stop on SIGTERM.

Exit status: 0 after SIGTERM/SIGINT and a clean stop (every service finished its batch and
handed back its lease); 1 when a component died (systemd's ``Restart=`` brings it back);
``EX_CONFIG`` (78) for settings that cannot work, which the units list in
``RestartPreventExitStatus`` so a bad deploy does not restart in a loop.
"""
from __future__ import annotations

import signal
import threading
from collections.abc import Callable
from typing import Protocol

from sqlalchemy.orm import sessionmaker

from cloud.runtime.heartbeat import Component, Heartbeat, sd_notify
from etapalvelu.logs import event_log

log = event_log(__name__)
EX_OK, EX_FAILURE, EX_CONFIG = 0, 1, 78


class Service(Protocol):
    """Anything the run loop stops: ingest and notify workers, the engine, the schedule."""

    def stop(self) -> None:
        """Finish the work in hand and stop."""


class StopSignal:
    """SIGTERM and SIGINT set it; ``failed`` says whether a component died instead."""

    def __init__(self) -> None:
        self.event = threading.Event()
        self.failed: str | None = None

    def install(self) -> StopSignal:
        """Handle SIGTERM and SIGINT (call from the main thread)."""
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, self._on_signal)
        return self

    def _on_signal(self, signum, _frame) -> None:
        log.info("runtime.stopping", signal=signal.Signals(signum).name)
        self.event.set()

    def component_died(self, name: str) -> None:
        """A heartbeat found ``name`` dead: stop with a failure status."""
        self.failed = self.failed or name
        self.event.set()


def run_until_stopped(start: Callable[[], tuple[list[Service], list[Component]]],
                      sessions: sessionmaker, *, heartbeat_s: float) -> int:
    """Start the services, beat until SIGTERM/SIGINT or a dead component, stop them in
    order; return the exit status."""
    stop = StopSignal().install()
    services, components = start()
    heartbeat = Heartbeat(sessions, components, interval_s=heartbeat_s,
                          on_dead=stop.component_died).start()
    stop.event.wait()
    sd_notify("STOPPING=1")
    heartbeat.stop()
    for service in services:
        service.stop()
    if stop.failed:
        log.error("runtime.stopped", status="failed", component=stop.failed)
        return EX_FAILURE
    log.info("runtime.stopped", status="clean")
    return EX_OK
