"""PostgreSQL under Patroni with etcd (the ``postgres_ha`` role's config): two nodes, the
standby synchronous. The cloud processes (ingest, engine, notify, API) run as their units do
with the multi-host URL and ``target_session_attrs=read-write``. Under booking, event and
e-mail load the primary's host is lost (Patroni and PostgreSQL killed, SIGKILL). Patroni
promotes the standby; every process reconnects to it by itself (its heartbeat beats again);
every booking the API accepted and every event the broker accepted is there once; every
confirmation is sent, one idempotency key each; while there is no primary the API answers
503 (try again), not an internal error."""
from __future__ import annotations

import shutil
import subprocess
import threading
import time
import uuid
from datetime import UTC, datetime, timedelta

import httpx
import paho.mqtt.client as mqtt
import pytest
from sqlalchemy import select
from sqlalchemy.exc import OperationalError

from cloud.bookings.models import Booking
from cloud.db import make_engine, make_sessionmaker, migrate
from cloud.notify.models import OutboxMessage
from cloud.runtime.heartbeat import process_status
from cloud.twin.models import DeviceEvent
from edge import messages
from tests.availability.cluster import (
    EXECUTABLE,
    Etcd,
    PatroniNode,
    Replica,
    cloud_env,
    create_database,
    multi_host_url,
    shared_folder,
)
from tests.availability.test_api_replicas import ADMIN_TOKEN, IN_TRANSIT, free_visits
from tests.servers import http_ok, wait_for

pytestmark = [pytest.mark.postgres]
PROCESSES = ("ingest", "engine", "notify")


def leader(nodes: list[PatroniNode]) -> PatroniNode | None:
    return next((n for n in nodes if n.process and http_ok(f"{n.api_url}/primary")), None)


def sync_standby(nodes: list[PatroniNode]) -> PatroniNode | None:
    return next((n for n in nodes if n.process and http_ok(f"{n.api_url}/sync")), None)


@pytest.fixture
def cluster(tmp_path):
    """etcd and two Patroni nodes, one leading, the other its synchronous standby."""
    etcd = Etcd(tmp_path / "etcd").start()
    folder = shared_folder()
    nodes = [PatroniNode(folder / name, etcd=etcd.endpoint) for name in ("pg1", "pg2")]
    try:
        nodes[0].start(timeout=60)
        wait_for(lambda: leader(nodes) is nodes[0], 60, "pg1 leading")
        nodes[1].start(timeout=60)
        wait_for(lambda: sync_standby(nodes) is nodes[1], 60, "pg2 its synchronous standby")
        yield nodes
    finally:
        for node in nodes:
            node.stop()
        etcd.stop()
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture
def database(cluster) -> str:
    create_database(cluster[0].port, "etp")
    url = multi_host_url(cluster, "etp")
    migrate(url)
    return url


@pytest.fixture
def processes(database, broker, smtp, tmp_path):
    """The cloud's processes on the cluster, each its own, as their units start them."""
    env = cloud_env(database, broker.url, ETP_ADMIN_TOKEN=ADMIN_TOKEN, ETP_HEARTBEAT_S="0.5",
                    ETP_SPOOL_FILE=str(tmp_path / "spool.sqlite"),
                    ETP_NOTIFY_SMTP_HOST="127.0.0.1", ETP_NOTIFY_SMTP_PORT=str(smtp.port),
                    ETP_NOTIFY_POLL_INTERVAL_S="0.1")
    started = {}
    for command in PROCESSES:
        log = (tmp_path / f"{command}.log").open("wb")
        started[command] = subprocess.Popen(
            [EXECUTABLE, "cloud", command, "--name", f"{command}-1"], env=env, stdout=log,
            stderr=subprocess.STDOUT)
    api = Replica("api-1", env, tmp_path).start()
    yield api, started
    api.stop()
    for process in started.values():
        process.terminate()
    for process in started.values():
        try:
            process.wait(30)
        except subprocess.TimeoutExpired:
            process.kill()


class Load:
    """Bookings through the API (one retry of a request lost in transit, a 409 on the retry
    meaning the first was taken) and room events at the broker (QoS 1), until stopped."""

    def __init__(self, api: Replica, broker_port: int, visits: list[tuple[str, str]]) -> None:
        self.api = httpx.Client(base_url=api.url, timeout=10,
                                headers={"Authorization": f"Bearer {ADMIN_TOKEN}"})
        self.visits = visits
        self.accepted: set[tuple[str, str]] = set()
        self.refused: list[int | None] = []  # the status of each booking given up
        self.events: list[str] = []  # ids the broker acknowledged
        self.room = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="porvoo-r1-load")
        self.room.connect("127.0.0.1", broker_port)
        self.room.loop_start()
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self.run, daemon=True)

    def run(self) -> None:
        for n, visit in enumerate(self.visits):
            if self.stopping.is_set():
                break
            self.event(n)
            accepted = self.book(visit)
            # a steady load, not a flood; slower while refused, as a person would retry
            time.sleep(0.2 if accepted else 1)

    def event(self, seq: int) -> None:
        event_id = f"occ-{uuid.uuid4().hex[:16]}"
        now = int(time.time() * 1000)
        self.room.publish("etp/v1/porvoo/r1/occupancy/event", messages.event(
            ts=now, seq=seq, id=event_id, data={"type": "occupancy", "occupied": seq % 2 == 0}),
            qos=1).wait_for_publish(10)
        self.events.append(event_id)

    def book(self, visit: tuple[str, str]) -> bool:
        room, start = visit
        body = {"site": "porvoo", "service": "kela-benefits", "room": room, "start": start,
                "minutes": 30, "channel": "phone_service",
                "customer": {"name": "Failover Customer", "email": "customer@example.invalid",
                             "language": "en"}}
        for attempt in (1, 2):
            try:
                status = self.api.post("/api/bookings", json=body).status_code
            except httpx.TransportError:
                status = None
            if status == 201 or (attempt == 2 and status == 409):
                self.accepted.add(visit)
                return True
            if status not in IN_TRANSIT:
                break
        self.refused.append(status)  # not accepted, and the client was told so
        return False

    def stop(self) -> None:
        self.stopping.set()
        self.thread.join(60)
        self.room.loop_stop()
        self.room.disconnect()


def fresh_beats(url: str, since: datetime) -> set[str]:
    """The names of the processes that have beaten on the store at ``url`` after ``since``."""
    engine = make_engine(url)
    try:
        with make_sessionmaker(engine)() as session:
            now = datetime.now(UTC)
            return {row.name for row in process_status(session, now=now,
                                                         stale_after=now - since)
                    if row.fresh}
    except OperationalError:  # no primary yet
        return set()
    finally:
        engine.dispose()


def test_losing_the_primary_loses_nothing_committed_and_every_process_reconnects(
        cluster, database, processes, broker, smtp):
    api, _ = processes
    visits = free_visits(api.url)[:200]
    wait_for(lambda: fresh_beats(database, datetime.now(UTC) - timedelta(seconds=2))
             >= {"ingest-1", "engine-1", "notify-1", "api-1"}, 60, "every process beating")
    load = Load(api, broker.port, visits)
    load.thread.start()
    wait_for(lambda: len(load.accepted) >= 5, 30, "bookings before the failure")

    old, new = cluster
    old.kill()
    killed_at = datetime.now(UTC)
    wait_for(lambda: leader(cluster) is new, 60, "the standby promoted")
    promoted_s = (datetime.now(UTC) - killed_at).total_seconds()
    wait_for(lambda: fresh_beats(database, datetime.now(UTC) - timedelta(seconds=2))
             >= {"ingest-1", "engine-1", "notify-1", "api-1"}, 60,
             "every process beating on the new primary")
    accepted_before = len(load.accepted)
    wait_for(lambda: len(load.accepted) >= accepted_before + 5, 30, "bookings after it")
    load.stop()

    engine = make_engine(database)
    with make_sessionmaker(engine)() as session:
        booked = [(room, start) for room, start in session.execute(
            select(Booking.room, Booking.start))]
        wait_for(lambda: set(session.scalars(select(DeviceEvent.id))) >= set(load.events)
                 or session.rollback(), 60, "every acknowledged event in the twin")
        stored_events = list(session.scalars(select(DeviceEvent.id)))
        keys = set(session.scalars(select(OutboxMessage.idempotency_key)))
    engine.dispose()

    assert sorted(booked) == sorted((r, datetime.fromisoformat(s)) for r, s in load.accepted)
    assert set(stored_events) == set(load.events) and len(stored_events) == len(load.events)
    wait_for(lambda: {m.key for m in smtp.received} >= keys, 60, "every confirmation sent")
    assert len(keys) == len(load.accepted)  # one confirmation per booking, never two
    assert set(load.refused) <= {503}  # "try again", never an internal error
    print(f"promoted {promoted_s:.1f} s after the loss; {len(load.refused)} bookings refused "
          f"while there was no primary")
