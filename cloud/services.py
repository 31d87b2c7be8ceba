"""The cloud's background services in one process: ingest, incident engine, notifications and
the booking system's periodic work. ``etapalvelu cloud run`` and the demo start them here;
a production installation runs each as its own process (docs/operations.md)."""
from __future__ import annotations

import logging
import threading
from datetime import UTC, datetime

from cloud.db import make_engine, make_sessionmaker
from cloud.registry import Registry
from cloud.settings import CloudSettings

log = logging.getLogger(__name__)


class Periodic:
    """Call ``work(now)`` every ``period_s`` seconds in a thread until ``stop()``."""

    def __init__(self, name: str, period_s: float, work) -> None:
        self._work, self._period_s = work, period_s
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)

    def start(self) -> "Periodic":
        self._thread.start()
        return self

    def stop(self, timeout: float = 10) -> None:
        self._stop.set()
        self._thread.join(timeout)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self._work(datetime.now(UTC))
            except Exception:  # a failed round is logged and tried again next period
                log.exception("periodic work failed name=%s", self._thread.name)
            self._stop.wait(self._period_s)


def start_services(settings: CloudSettings, registry: Registry) -> list:
    """Start every background service; returns them in the order to stop them."""
    from cloud.bookings.scheduled import tick
    from cloud.bookings.service import BookingRules
    from cloud.bookings.settings import BookingSettings
    from cloud.flows.incidents import incident_engine
    from cloud.ingest.worker import IngestWorker
    from cloud.notify.settings import NotifySettings
    from cloud.notify.worker import NotifyWorker

    sessions = make_sessionmaker(make_engine(settings.database_url))
    notify = NotifyWorker(sessions, NotifySettings()).start()
    engine = incident_engine(sessions, registry, on_queued=notify.wake).start()
    rules, booking_settings = BookingRules.load(registry), BookingSettings()
    bookings = Periodic("bookings", 60, lambda now: tick(sessions, rules, booking_settings,
                                                          now=now)).start()
    ingest = IngestWorker(settings, registry).start()
    return [ingest, bookings, engine, notify]


def stop_services(services: list) -> None:
    """Stop what ``start_services`` started."""
    for service in services:
        service.stop()
