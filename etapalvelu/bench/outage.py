"""``etapalvelu bench outage``: the database stopped under load, then back.

A room publishes QoS 1 events at ``--rate`` into Mosquitto (with the fleet's production queue
bounds) while one ingest worker (a thread of this process, as in a worker process) stores them
in PostgreSQL. PostgreSQL is stopped for ``--outage`` seconds with a fast shutdown and started
again. Printed: the worker's inbox at its fullest against its bound, this process's resident
memory before and at its peak, how long the twin took to catch up after the database returned,
and how many events the broker accepted that never reached the twin (``lost``).
"""
from __future__ import annotations

import json
import signal
import tempfile
import time
from collections import deque
from pathlib import Path

import click

from etapalvelu.bench.ingest import _client
from etapalvelu.localservers import Mosquitto, PostgreSQL, wait_for
from etapalvelu.logs import setup_logging

READ_PASS_SLACK = 100  # messages one read pass of paho may take past the inbox bound
T0 = 1764500000000


def _event(seq: int) -> bytes:
    from edge.messages import event

    return event(ts=T0 + seq, seq=seq, id=f"outage-{seq:010d}", data={"type": "button_press"})


def _stored(engine) -> int:
    from sqlalchemy import text

    with engine.connect() as conn:
        return conn.execute(text("SELECT count(*) FROM twin_event")).scalar_one()


def run_outage(workdir: Path, *, outage_s: float, rate: int = 2_000,
               inbox_max: int = 2_000) -> dict:
    """Run the scenario in ``workdir``; return its figures (see the module docstring)."""
    import psutil

    from cloud.db import make_engine, migrate
    from cloud.ingest.worker import IngestWorker
    from cloud.registry import load_registry
    from cloud.settings import CloudSettings
    from provisioning.broker import queue_bounds

    database = PostgreSQL(workdir / "pg").start()
    broker = Mosquitto(workdir / "mosquitto", extra_config=queue_bounds()).start()
    worker = room = engine = None
    try:
        url = database.create_database("ingest_outage")
        migrate(url)
        settings = CloudSettings(database_url=url, broker_url=broker.url,
                                 spool_file=workdir / "spool.sqlite", ingest_inbox_max=inbox_max)
        engine = make_engine(url)
        worker = IngestWorker(settings, load_registry(), engine=engine).start()
        wait_for(worker.connected.is_set, 10, "the ingest worker connecting")
        room = _client(broker.port, "outage-room", inflight=1000)
        room.loop_start()
        unconfirmed: deque = deque()  # kept short, so the publisher's share of memory is small
        rss = psutil.Process().memory_info
        inbox_peak, baseline_mb, peak_mb, n = 0, rss().rss / 2**20, 0.0, 0
        for phase, seconds in (("before", 2.0), ("away", outage_s), ("back", 2.0)):
            if phase == "away":
                database.stop(signal.SIGINT)  # fast shutdown: sessions cut at once
            elif phase == "back":
                database.start()
                back_at = time.monotonic()
            started, first = time.monotonic(), n
            while (elapsed := time.monotonic() - started) < seconds:
                while n - first < rate * elapsed:  # the room's pace: ``rate`` events a second
                    unconfirmed.append(room.publish("etp/v1/porvoo/r1/callbutton/event",
                                                    _event(n), qos=1))
                    n += 1
                while unconfirmed and unconfirmed[0].is_published():
                    unconfirmed.popleft()
                time.sleep(0.005)
                inbox_peak = max(inbox_peak, worker.backlog())
                peak_mb = max(peak_mb, rss().rss / 2**20)
        wait_for(lambda: all(info.is_published() for info in unconfirmed), 60,
                 "the broker accepting every event")  # PUBACKed: the room may forget them
        try:
            wait_for(lambda: _stored(engine) >= n, 120, "every accepted event in the twin", 0.2)
        except TimeoutError:
            pass  # reported as lost
        caught_up_s = time.monotonic() - back_at
        return {"bench": "outage", "events": n, "rate": rate, "outage_s": outage_s,
                "inbox_max": inbox_max, "inbox_peak": inbox_peak,
                "inbox_bound": inbox_max + READ_PASS_SLACK,
                "rss_baseline_mb": round(baseline_mb, 1), "rss_peak_mb": round(peak_mb, 1),
                "caught_up_s": round(caught_up_s, 1), "lost": n - _stored(engine)}
    finally:
        if room is not None:
            room.disconnect()
            room.loop_stop()
        if worker is not None:
            worker.stop()
        if engine is not None:
            engine.dispose()
        broker.stop()
        database.stop(signal.SIGINT)


@click.command()
@click.option("--outage", "outage_s", default=60.0, show_default=True,
              help="seconds the database is away")
@click.option("--rate", default=2_000, show_default=True, help="events a second offered")
@click.option("--inbox-max", default=2_000, show_default=True,
              help="the worker's inbox bound (ETP_INGEST_INBOX_MAX)")
def command(outage_s: float, rate: int, inbox_max: int) -> None:
    """The database stopped under load: the inbox bound held, memory, nothing lost."""
    setup_logging("warning", "bench-outage")
    with tempfile.TemporaryDirectory(prefix="etp-bench-outage-") as workdir:
        print(json.dumps(run_outage(Path(workdir), outage_s=outage_s, rate=rate,
                                    inbox_max=inbox_max)), flush=True)
