"""The cloud's background services and how each reports its health.

Each ``*_service`` function starts one service and returns it with its heartbeat component;
``etapalvelu cloud ingest|engine|notify|schedule`` run one each as its own process, and
``etapalvelu cloud run`` and the demo start them all in one process (``start_services``).
Every service's ``stop()`` finishes the work in hand (the batch, the round, the sends in
flight) and hands back what it holds (the engine's lease).
"""
from __future__ import annotations

import socket
import threading
import time
from datetime import UTC, datetime, timedelta

from sqlalchemy.orm import sessionmaker

from cloud.db import make_engine, make_sessionmaker
from cloud.registry import Registry
from cloud.runtime.heartbeat import Component, Health
from cloud.settings import CloudSettings
from etapalvelu.logs import event_log

log = event_log(__name__)


def process_name(kind: str, given: str | None = None) -> str:
    """The name of a process's component: ``given``, else ``<kind>@<host>``."""
    return given or f"{kind}@{socket.gethostname()}"


class Periodic:
    """Call ``work(now)`` every ``period_s`` seconds in a thread until ``stop()``, which waits
    for the round in hand."""

    def __init__(self, name: str, period_s: float, work) -> None:
        self._work, self._period_s = work, period_s
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self.last_ok_at: datetime | None = None
        self.failed_rounds = 0  # in a row

    def start(self) -> Periodic:
        """Run the first round now, then every period."""
        self._thread.start()
        return self

    def stop(self, timeout: float = 30) -> None:
        """Let the round in hand finish, then stop."""
        self._stop.set()
        self._thread.join(timeout)

    @property
    def alive(self) -> bool:
        """Whether the thread still runs (or has not been stopped)."""
        return self._thread.is_alive() or self._stop.is_set()

    def _run(self) -> None:
        while not self._stop.is_set():
            now = datetime.now(UTC)
            try:
                self._work(now)
                self.last_ok_at, self.failed_rounds = now, 0
            except Exception:  # a failed round is logged and tried again next period
                self.failed_rounds += 1
                log.exception("runtime.periodic_round_failed", service=self._thread.name,
                              failed_rounds=self.failed_rounds)
            self._stop.wait(self._period_s)


class Bundle:
    """Parts started together that stop as one, in order; attributes are the first part's."""

    def __init__(self, *parts) -> None:
        self.parts = parts

    def __getattr__(self, name: str):
        return getattr(self.parts[0], name)

    def stop(self) -> None:
        """Stop every part, the first first."""
        for part in self.parts:
            part.stop()


def ingest_service(settings: CloudSettings, registry: Registry):
    """One ingest worker, which opens and clears call-button calls and publishes them on the
    live bus (``flows.summon``), and the rooms whose twin changed (``flows.twinlive``);
    ready once its subscription is granted, dead when its batch thread has ended (its inbox
    would only grow)."""
    from cloud.flows.summon import SummonOnIngest
    from cloud.flows.twinlive import RoomsOnIngest
    from cloud.ingest.worker import IngestWorker
    from cloud.live import LiveBus

    bus = LiveBus(settings, listen=False).start()
    worker = Bundle(IngestWorker(settings, registry, on_events=SummonOnIngest(bus),
                                 on_rooms_changed=RoomsOnIngest(bus)).start(), bus)
    return worker, Component(settings.ingest_name, "ingest", lambda: Health(
        worker.alive, worker.connected.is_set(), f"backlog={worker.backlog()}"))


def engine_service(sessions: sessionmaker, registry: Registry, settings: CloudSettings, *,
                   name: str | None = None, on_queued=None):
    """The incident engine (leads by lease or stands by); ready while its rounds succeed, dead
    when no round was even tried for ``heartbeat_stale_s`` (a failing round is tried again)."""
    from cloud.flows.incidents import incident_engine

    name = process_name("engine", name)
    engine = incident_engine(sessions, registry, on_queued=on_queued, name=name).start()
    stale = settings.heartbeat_stale_s
    seen = {"rounds": (None, 0, 0), "at": time.monotonic()}

    def probe() -> Health:
        # a long round shows its committed chunks (``progress``): it is not hung
        rounds = (engine.last_round_at, engine.counts["failed_rounds"], engine.progress)
        if rounds != seen["rounds"]:
            seen["rounds"], seen["at"] = rounds, time.monotonic()
        alive = time.monotonic() - seen["at"] < stale
        last = engine.last_round_at
        ready = last is not None and (datetime.now(UTC) - last).total_seconds() < stale
        detail = ("starting" if last is None else "failing" if not ready
                  else "leading" if engine.leading else "standby")
        return Health(alive, ready, detail)

    return engine, Component(name, "engine", probe)


def notify_service(sessions: sessionmaker, *, name: str | None = None):
    """A notification worker; dead when its thread has ended."""
    from cloud.notify.settings import NotifySettings
    from cloud.notify.worker import NotifyWorker

    name = process_name("notify", name)
    worker = NotifyWorker(sessions, NotifySettings(), name=name).start()

    def probe() -> Health:
        return Health(worker.alive, worker.alive)

    return worker, Component(name, "notify", probe)


def schedule_service(sessions: sessionmaker, registry: Registry, settings: CloudSettings, *,
                     name: str | None = None):
    """The booking schedule (reminders, readiness checks, purge, daily statistics) every
    ``schedule_period_s``, and the call-button calls' escalation round every
    ``ETP_CALLS_ROUND_S`` (``flows.schedule.calls_round``); ready once a round of each
    succeeded."""
    from cloud.bookings.settings import BookingSettings
    from cloud.calls.settings import CallSettings
    from cloud.flows.schedule import calls_round, tick
    from cloud.live import LiveBus
    from cloud.probe.settings import ProbeSettings
    from cloud.stats.daily import DailyStatistics, influx_write
    from cloud.stats.sources import installed_sources

    name = process_name("schedule", name)
    booking_settings, call_settings = BookingSettings(), CallSettings()
    rules = booking_settings.rules(registry)
    write = influx_write(url=settings.influx_url, token=settings.influx_token.get_secret_value(),
                         org=settings.influx_org, bucket=settings.influx_bucket) \
        if settings.influx_url else None
    statistics = DailyStatistics(registry, installed_sources(), write)
    bus = LiveBus(settings, listen=False).start()
    probe_horizon = timedelta(hours=ProbeSettings().booking_horizon_h)
    schedule = Periodic(name, settings.schedule_period_s, lambda now: tick(
        sessions, rules, booking_settings, now=now, statistics=statistics, bus=bus,
        probe_horizon=probe_horizon)).start()
    escalation = Periodic(f"{name}-calls", call_settings.round_s, lambda now: calls_round(
        sessions, bus, registry, call_settings, now=now)).start()
    rounds = (schedule, escalation)
    return Bundle(schedule, escalation, bus), Component(name, "schedule", lambda: Health(
        all(r.alive for r in rounds),
        all(r.last_ok_at is not None and r.failed_rounds == 0 for r in rounds),
        f"failed_rounds={schedule.failed_rounds} calls_failed_rounds={escalation.failed_rounds}"))


def start_services(settings: CloudSettings, registry: Registry, *,
                   sessions: sessionmaker | None = None) -> list:
    """Start every background service in this process; returns them in the order to stop
    them (``components`` of the returned list holds their heartbeat components)."""
    sessions = sessions or make_sessionmaker(make_engine(settings.database_url,
                                                         pool=settings.database_pool))
    notify, notify_c = notify_service(sessions)
    engine, engine_c = engine_service(sessions, registry, settings, on_queued=notify.wake)
    schedule, schedule_c = schedule_service(sessions, registry, settings)
    ingest, ingest_c = ingest_service(settings, registry)
    return Services([ingest, schedule, engine, notify],
                    [ingest_c, engine_c, notify_c, schedule_c])


class Services(list):
    """Started services in stop order, with their heartbeat components."""

    def __init__(self, services: list, components: list[Component]) -> None:
        super().__init__(services)
        self.components = components


def stop_services(services: list) -> None:
    """Stop what ``start_services`` started."""
    for service in services:
        service.stop()
