"""Fixtures of the summon loop's tests: a migrated store on SQLite and PostgreSQL, staff with
session tokens, live buses on the test's Mosquitto."""
from __future__ import annotations

import asyncio
import os
import shutil
import signal
import subprocess
import sys
import threading
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest
from argon2 import PasswordHasher

from cloud.accounts import service as accounts
from cloud.accounts.settings import AccountSettings
from cloud.db import make_engine, make_sessionmaker, migrate
from cloud.live import LiveBus
from cloud.services import ingest_service, notify_service, schedule_service
from cloud.settings import CloudSettings
from tests.notify.receivers import HttpReceiver
from tests.servers import free_port, http_ok, wait_for

accounts.use_password_hasher(PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))

ADMIN_TOKEN = "test-admin-token-of-the-summon-loop"
# username: (display name, sites); all advisors
ADVISORS = {
    "adv-porvoo-1": ("Aino Neuvoja", ["porvoo"]),
    "adv-porvoo-2": ("Bertil Rådgivare", ["porvoo"]),
    "adv-imatra": ("Iida Imatralainen", ["imatra"]),
}


@pytest.fixture(scope="session")
def migrated_file(tmp_path_factory):
    """A SQLite file migrated once; each test copies it."""
    path = tmp_path_factory.mktemp("template") / "calls.sqlite"
    migrate(f"sqlite:///{path}")
    return path


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database(request, tmp_path, migrated_file) -> str:
    """The URL of a migrated, empty store on SQLite and on the real PostgreSQL."""
    if request.param == "sqlite":
        shutil.copy(migrated_file, tmp_path / "calls.sqlite")
        return f"sqlite:///{tmp_path / 'calls.sqlite'}"
    name = f"calls_{request.node.name}".translate(str.maketrans("[]-", "___")).lower()[:60]
    url = request.getfixturevalue("postgres").create_database(name)
    migrate(url)
    return url


@pytest.fixture
def sessions(database):
    """A sessionmaker on the test's store."""
    engine = make_engine(database)
    yield make_sessionmaker(engine)
    engine.dispose()


@pytest.fixture
def staff(sessions, registry) -> dict[str, tuple[int, str]]:
    """The advisors of ``ADVISORS``: username -> (staff id, session token)."""
    made = {}
    now = datetime.now(UTC)
    with sessions() as db:
        for username, (display_name, sites) in ADVISORS.items():
            person = accounts.create_staff(db, registry, username=username,
                                           display_name=display_name, role="advisor",
                                           organisation=sites[0], sites=sites,
                                           password="correct horse battery staple", now=now)
            login = accounts.open_session(db, AccountSettings(), staff=person,
                                          method="password", client=None, now=now)
            made[username] = (person.id, login.token)
        db.commit()
    return made


class LoopThread:
    """An event loop in a thread, for live buses that listen (as a replica's does)."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()

    def run(self, coroutine, timeout: float = 10):
        """Run ``coroutine`` on the loop; its result."""
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(timeout)

    def stop(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(5)


@pytest.fixture
def start_bus(broker):
    """Start live buses on the test's broker (``listen``: on an event loop of their own)."""
    started: list[tuple[LiveBus, LoopThread | None]] = []

    def start(listen: bool = True, **kwargs) -> tuple[LiveBus, LoopThread | None]:
        settings = CloudSettings(broker_url=broker.url)
        if not listen:
            bus = LiveBus(settings, listen=False, **kwargs).start()
            loop = None
        else:
            loop = LoopThread()

            async def begin():
                return LiveBus(settings, **kwargs).start()

            bus = loop.run(begin())
        started.append((bus, loop))
        assert bus.wait_connected(10), "live bus did not connect"
        return bus, loop

    yield start
    for bus, loop in started:
        bus.stop()
        if loop is not None:
            loop.stop()


@dataclass
class Replica:
    """One API process (``etapalvelu cloud api``) on a free port."""

    name: str
    port: int
    process: subprocess.Popen
    log: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def output(self) -> str:
        return self.log.read_text(errors="replace")


@pytest.fixture
def cloud_env(broker, database, tmp_path) -> dict[str, str]:
    """The environment of the test's cloud processes: its store and broker, no telemetry."""
    return {"ETP_DATABASE_URL": database, "ETP_BROKER_URL": broker.url,
            "ETP_ADMIN_TOKEN": ADMIN_TOKEN, "ETP_SPOOL_FILE": str(tmp_path / "spool.sqlite"),
            "ETP_CALLS_KEEPALIVE_S": "0.5"}


@pytest.fixture
def start_replicas(cloud_env, tmp_path):
    """Start API replicas as production does, each its own process; stopped by SIGTERM."""
    started: list[Replica] = []

    def start(count: int = 2) -> list[Replica]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("ETP_")} | cloud_env
        for n in range(count):
            port, name = free_port(), f"api-{len(started) + 1}"
            log = tmp_path / f"{name}.log"
            process = subprocess.Popen(
                [sys.executable, "-m", "etapalvelu.cli", "cloud", "api", "--port", str(port),
                 "--name", name], env=env, stdout=log.open("wb"), stderr=subprocess.STDOUT)
            started.append(Replica(name, port, process, log))
        for replica in started[-count:]:
            wait_for(lambda r=replica: http_ok(f"{r.url}/healthz") or r.process.poll() is not None,
                     30, f"{replica.name} to serve")
            assert replica.process.poll() is None, replica.output()
        return started[-count:]

    yield start
    for replica in started:
        replica.process.send_signal(signal.SIGTERM)
    for replica in started:
        try:
            replica.process.wait(20)
        except subprocess.TimeoutExpired:
            replica.process.kill()


@pytest.fixture
def sms_gateway():
    """The SMS gateway's seam: a real HTTP receiver recording each text."""
    receiver = HttpReceiver().start()
    yield receiver
    receiver.stop()


@pytest.fixture
def background(cloud_env, sessions, registry, monkeypatch, sms_gateway):
    """The cloud's background services in this process: an ingest worker (which opens the
    calls), the schedule (escalation every 0.2 s: second alert 3 s after the press, the SMS
    1 s after it) and a notification worker sending SMS to ``sms_gateway``."""
    for key, value in {**cloud_env, "ETP_CALLS_SECOND_ALERT_S": "3", "ETP_CALLS_SMS_AFTER_S": "1",
                       "ETP_CALLS_ROUND_S": "0.2",
                       "ETP_NOTIFY_SMS_URL": f"{sms_gateway.url}/sms"}.items():
        monkeypatch.setenv(key, value)
    settings = CloudSettings()
    started = []
    ingest, _ = ingest_service(settings, registry)
    started.append(ingest)
    assert ingest.connected.wait(10), "ingest did not subscribe"
    for service, _ in (schedule_service(sessions, registry, settings),
                       notify_service(sessions)):
        started.append(service)
    yield started
    for service in reversed(started):
        service.stop()
