"""Fixtures of the summon loop's tests: a migrated store on SQLite and PostgreSQL, staff with
session tokens, live buses on the test's Mosquitto."""
from __future__ import annotations

import asyncio
import shutil
import threading
from datetime import UTC, datetime

import pytest
from argon2 import PasswordHasher

from cloud.accounts import service as accounts
from cloud.accounts.settings import AccountSettings
from cloud.db import make_engine, make_sessionmaker, migrate
from cloud.live import LiveBus
from cloud.settings import CloudSettings

accounts.use_password_hasher(PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))

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
