"""Two API replicas (their own ``etapalvelu cloud api`` processes on PostgreSQL) behind a real
HAProxy configured by the ``haproxy`` role's template. An advisor's console is live in
Chromium through the proxy while bookings are made through it; the replica holding the
console's stream is killed (SIGKILL). Bookings keep succeeding (at most one retried request
each), none accepted is lost or doubled, HAProxy marks the dead replica down from its
``/readyz`` checks, and the console's live stream resumes through the other replica."""
from __future__ import annotations

import signal
import threading
import uuid
from datetime import UTC, date, datetime, timedelta

import httpx
import pytest
from argon2 import PasswordHasher
from sqlalchemy import select

from cloud.accounts import service as accounts
from cloud.bookings.models import Booking
from cloud.db import make_engine, make_sessionmaker, migrate
from tests.availability.cluster import HAProxy, Replica, cloud_env
from tests.pages import staff_page
from tests.servers import wait_for

pytestmark = [pytest.mark.postgres, pytest.mark.browser]
accounts.use_password_hasher(PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))

ADMIN_TOKEN = "availability-" + uuid.uuid4().hex
PASSWORD = "correct horse battery staple"
BOOKINGS = 16
IN_TRANSIT = {None, 502, 503, 504}  # no answer, or the proxy's: worth one more try


@pytest.fixture
def database(postgres, registry) -> str:
    """A migrated PostgreSQL database with Porvoo's advisor."""
    url = postgres.create_database(f"replicas_{uuid.uuid4().hex[:8]}")
    migrate(url)
    engine = make_engine(url)
    with make_sessionmaker(engine)() as session:
        accounts.create_staff(session, registry, username="adv-porvoo", display_name="Aino",
                              role="advisor", organisation="porvoo", sites=["porvoo"],
                              password=PASSWORD, now=datetime.now(UTC))
        session.commit()
    engine.dispose()
    return url


@pytest.fixture
def replicas(database, broker, tmp_path):
    """Two API replicas, each its own process, as their units start them."""
    env = cloud_env(database, broker.url, ETP_ADMIN_TOKEN=ADMIN_TOKEN,
                    ETP_SPOOL_FILE=str(tmp_path / "spool.sqlite"))
    started = [Replica(f"cloud.api.{n}", env, tmp_path) for n in (1, 2)]
    for replica in started:
        replica.start()
    yield started
    for replica in started:
        replica.stop()


@pytest.fixture
def proxy(replicas, tmp_path):
    """HAProxy with the role's config in front of both replicas, both marked up."""
    servers = [{"name": r.name, "address": "127.0.0.1", "port": r.port} for r in replicas]
    with HAProxy(tmp_path / "haproxy", servers=servers) as server:
        wait_for(lambda: all(row["status"] == "UP" for row in server.backend().values()), 20,
                 "both replicas up")
        yield server


class Booker:
    """An operator's client booking free visits through the proxy one after another, as a
    client of the API should: a request that fails in transit is sent once more, and a 409
    on that second try means the first one was taken (the visit is ours already)."""

    def __init__(self, base: str, visits: list[tuple[str, str]]) -> None:
        self.client = httpx.Client(base_url=base, timeout=10,
                                   headers={"Authorization": f"Bearer {ADMIN_TOKEN}"})
        self.visits = visits
        # (room, start) -> booking id (None: taken by the first try, seen on the retry)
        self.accepted: dict[tuple[str, str], int | None] = {}
        self.attempts: dict[tuple[str, str], int] = {}
        self.failures: list[str] = []
        self.thread = threading.Thread(target=self.run, daemon=True)

    def book(self, visit: tuple[str, str]) -> httpx.Response:
        room, start = visit
        return self.client.post("/api/bookings", json={
            "site": "porvoo", "service": "kela-benefits", "room": room, "start": start,
            "minutes": 30,
            "channel": "phone_service", "customer": {"name": "Availability Customer"}})

    def run(self) -> None:
        for visit in self.visits:
            for attempt in (1, 2):
                self.attempts[visit] = attempt
                try:
                    answer = self.book(visit)
                except httpx.TransportError as error:
                    answer = error
                status = answer.status_code if isinstance(answer, httpx.Response) else None
                if status == 201 or (attempt == 2 and status == 409):
                    self.accepted[visit] = answer.json()["id"] if status == 201 else None
                    break
                if status not in IN_TRANSIT:
                    self.failures.append(f"{visit}: {answer!r}")
                    break
            else:
                self.failures.append(f"{visit}: {answer!r}")


def free_visits(base: str) -> list[tuple[str, str]]:
    """Porvoo's free Kela visits (room, start) of the next three weeks."""
    answer = httpx.get(f"{base}/api/bookings/availability", timeout=10,
                       headers={"Authorization": f"Bearer {ADMIN_TOKEN}"},
                       params={"site": "porvoo", "service": "kela-benefits",
                               "first": date.today().isoformat(),
                               "last": (date.today() + timedelta(days=21)).isoformat()})
    assert answer.status_code == 200, answer.text
    taken: dict[str, datetime] = {}  # room -> end of the last visit chosen
    visits = []
    for visit in sorted(answer.json(), key=lambda v: (v["room"], v["start"])):
        start, end = datetime.fromisoformat(visit["start"]), datetime.fromisoformat(visit["end"])
        if start >= taken.get(visit["room"], start):
            visits.append((visit["room"], visit["start"]))
            taken[visit["room"]] = end
    return visits


def record_link_states(page) -> None:
    """Keep every state the console's link indicator shows, in order."""
    page.evaluate("""() => {
        const status = document.getElementById('link-status');
        window.linkStates = [status.dataset.state];
        new MutationObserver(() => window.linkStates.push(status.dataset.state))
            .observe(status, {attributes: true, attributeFilter: ['data-state']});
    }""")


def test_a_killed_replica_loses_no_booking_and_the_console_resumes_through_the_other(
        chromium, proxy, replicas):
    visits = free_visits(proxy.url)[:BOOKINGS]
    assert len(visits) == BOOKINGS
    with staff_page(chromium, proxy.url, "adv-porvoo", PASSWORD) as page:
        page.locator("#link-status[data-state=live]").wait_for(timeout=15_000)
        record_link_states(page)
        [streaming] = [r for r in replicas if int(proxy.backend()[r.name]["scur"]) > 0]
        [other] = [r for r in replicas if r is not streaming]

        booker = Booker(proxy.url, visits)
        booker.thread.start()
        wait_for(lambda: len(booker.accepted) >= 4, 30, "bookings through the proxy")
        streaming.process.send_signal(signal.SIGKILL)
        streaming.process.wait(10)

        wait_for(lambda: proxy.status(streaming.name) == "DOWN", 10,
                 "HAProxy marking the killed replica down")
        booker.thread.join(60)
        page.wait_for_function(
            "() => window.linkStates.includes('reconnecting') "
            "&& window.linkStates.at(-1) === 'live'", timeout=20_000)
        assert int(proxy.backend()[other.name]["scur"]) > 0  # the stream is the other's now
        assert proxy.status(other.name) == "UP"

    assert booker.failures == [] and not booker.thread.is_alive()
    assert set(booker.accepted) == set(visits)
    assert max(booker.attempts.values()) <= 2
    booked = booked_visits(replicas[0].env["ETP_DATABASE_URL"])
    assert sorted(booked) == sorted((room, datetime.fromisoformat(start))
                                    for room, start in visits)  # each once, nothing more


def booked_visits(url: str) -> list[tuple[str, datetime]]:
    """The room and start of every booking in the store."""
    engine = make_engine(url)
    with make_sessionmaker(engine)() as session:
        visits = [tuple(row) for row in session.execute(select(Booking.room, Booking.start))]
    engine.dispose()
    return visits
