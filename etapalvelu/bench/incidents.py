"""``etapalvelu bench incidents``: from a device's fault message reaching the broker until the
SMTP server has accepted the e-mail to the responsible party, while many rooms stream.

Mosquitto, an ingest worker (own process), telemetry publishers (own process), the incident
engine and the notify worker (threads of this process) and an aiosmtpd server. Each fault is a
retained ``doccam/health`` ``fault`` of a different room; the debounce (``--debounce``) is
subtracted and reported as ``debounce_s``.
"""
from __future__ import annotations

import json
import multiprocessing as mp
import os
import tempfile
import threading
import time
from datetime import UTC
from pathlib import Path

import click

from etapalvelu.bench.ingest import MATRIX, ingest_process, registry_yaml
from etapalvelu.localservers import Mosquitto, PostgreSQL, free_port, wait_for
from etapalvelu.logs import setup_logging


def streamer(port: int, rooms: int, rate: float, stop) -> None:
    """Every room online, then telemetry of agent, terminal and network at ``rate`` msg/s."""
    import paho.mqtt.client as mqtt

    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="bench-streamer",
                         protocol=mqtt.MQTTv311)
    client.max_inflight_messages_set(2000)
    client.connect("127.0.0.1", port, keepalive=60)
    client.loop_start()
    now_ms = time.time_ns() // 1_000_000
    for room in range(rooms):
        client.publish(f"etp/v1/s{room:04d}/r1/agent/status",
                       f'{{"v":1,"ts":{now_ms},"seq":0,"state":"online"}}', qos=1, retain=True)
    start, i = time.perf_counter(), 0
    while not stop.is_set():
        room, device = i % rooms, ("agent", "terminal", "network")[(i // rooms) % 3]
        body = (f'{{"v":1,"ts":{time.time_ns() // 1_000_000},"seq":{i + 1},'
                f'"metrics":{{"cpu_pct":{i % 100}.5,"rtt_ms":12.25}}}}')
        client.publish(f"etp/v1/s{room:04d}/r1/{device}/telemetry", body, qos=0)
        i += 1
        ahead = start + i / rate - time.perf_counter()
        if ahead > 0:
            time.sleep(ahead)
    client.disconnect()
    client.loop_stop()


class SmtpSink:
    """aiosmtpd on a free port recording when each idempotency key was accepted."""

    def __init__(self) -> None:
        self.port = free_port()
        self.accepted: dict[str, float] = {}
        self.deliveries = 0
        self.lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):
        """Record the key and the time, then accept."""
        key = next((line.split(":", 1)[1].strip() for line in
                    envelope.content.decode(errors="replace").splitlines()
                    if line.lower().startswith("idempotency-key:")), "")
        with self.lock:
            self.deliveries += 1
            self.accepted.setdefault(key, time.time())
        return "250 accepted"


@click.command()
@click.option("--rooms", default=500, show_default=True, help="rooms streaming telemetry")
@click.option("--rate", default=1000.0, show_default=True, help="telemetry msg/s of all rooms")
@click.option("--faults", default=100, show_default=True, help="faults injected, one per room")
@click.option("--interval", default=0.1, show_default=True, help="seconds between faults")
@click.option("--debounce", default=1.0, show_default=True, help="debounce before opening (s)")
@click.option("--database-url", default=None, help="default: a SQLite file in a temporary folder")
@click.option("--postgres", is_flag=True, help="run a local PostgreSQL for the store")
def command(rooms: int, rate: float, faults: int, interval: float, debounce: float,
            database_url: str | None, postgres: bool) -> None:
    """Measure detect-to-notify latency; print one JSON line."""
    setup_logging("warning", "bench-incidents")
    faults = min(faults, rooms)
    with tempfile.TemporaryDirectory(prefix="etp-bench-incidents-") as tmp:
        if postgres:
            with PostgreSQL(Path(tmp) / "postgres") as server:
                url = server.create_database("bench")
                result = _run(Path(tmp), rooms, rate, faults, interval, debounce, url)
        else:
            result = _run(Path(tmp), rooms, rate, faults, interval, debounce, database_url)
    click.echo(json.dumps(result))


def _run(tmp: Path, rooms: int, rate: float, faults: int, interval: float, debounce: float,
         database_url: str | None) -> dict:
    from aiosmtpd.controller import Controller
    from sqlalchemy import func, select

    from cloud.db import make_engine, make_sessionmaker, migrate
    from cloud.flows.incidents import incident_engine
    from cloud.incidents.matrix import load_matrix
    from cloud.incidents.models import Incident
    from cloud.incidents.settings import IncidentSettings
    from cloud.notify.models import Attempt
    from cloud.notify.settings import NotifySettings
    from cloud.notify.worker import NotifyWorker
    from cloud.registry import load_registry
    from cloud.twin.models import Transition

    (tmp / "registry.yaml").write_text(registry_yaml(rooms))
    (tmp / "matrix.yaml").write_text(MATRIX)
    database_url = database_url or f"sqlite:///{tmp}/bench.sqlite"
    migrate(database_url)
    registry = load_registry(tmp / "registry.yaml")
    sessions = make_sessionmaker(make_engine(database_url))
    sink = SmtpSink()
    smtp = Controller(sink, hostname="127.0.0.1", port=sink.port)
    smtp.start()
    ctx = mp.get_context("spawn")
    with Mosquitto(tmp / "mosquitto", persistence=False) as broker:
        commands, replies = ctx.Queue(), ctx.Queue()
        ingest = ctx.Process(target=ingest_process, args=(
            {"database_url": database_url, "broker_url": broker.url,
             "registry_file": str(tmp / "registry.yaml"), "ingest_name": "bench"},
            commands, replies))
        ingest.start()
        assert replies.get(timeout=60) == "ready"
        stop = ctx.Event()
        stream = ctx.Process(target=streamer, args=(broker.port, rooms, rate, stop))
        stream.start()
        settings = IncidentSettings(open_after_s=debounce, poll_interval_s=0.05,
                                    matrix_file=tmp / "matrix.yaml")
        notify = NotifyWorker(sessions, NotifySettings(smtp_host="127.0.0.1", smtp_port=sink.port,
                                                       poll_interval_s=0.05))
        engine = incident_engine(sessions, registry, matrix=load_matrix(
            tmp / "matrix.yaml", list(registry.sites)), settings=settings, on_queued=notify.wake)
        engine.start()
        notify.start()
        try:
            published = _inject(broker.port, faults, interval)
            try:
                wait_for(lambda: len(sink.accepted) >= faults, 60, "every fault's e-mail",
                         interval=0.05)
            except TimeoutError:
                pass
        finally:
            stop.set()
            stream.join(30)
            engine.stop()
            notify.stop()
            commands.put("stop")
            ingest.join(60)
            smtp.stop()
    with sessions() as session:
        rows = session.execute(select(Incident.id, Incident.site, Incident.opened_at)).all()
        detected = dict(session.execute(
            select(Transition.site, func.min(Transition.at))
            .where(Transition.device == "doccam").group_by(Transition.site)).all())
        incidents = len(rows)
        retries = session.scalar(select(func.count()).select_from(Attempt)
                                 .where(Attempt.outcome != "sent"))
        errors = session.scalars(select(Attempt.error).where(Attempt.error.is_not(None))
                                 .limit(3)).all()
    opened = {r.id: (r.site, _epoch(r.opened_at)) for r in rows}
    latencies, stages = [], {"ingest": [], "engine": [], "notify": []}
    for key, accepted in sink.accepted.items():
        incident_id = int(key.split("-")[1]) if key.startswith("incident-") else None
        site, opened_at = opened.get(incident_id, (None, None))
        if site in published:
            latencies.append((accepted - published[site] - debounce) * 1000)
            ingested = _epoch(detected[site])
            stages["ingest"].append((ingested - published[site]) * 1000)
            stages["engine"].append((opened_at - ingested - debounce) * 1000)
            stages["notify"].append((accepted - opened_at) * 1000)
    if os.environ.get("ETP_BENCH_TRACE"):
        for stage, values in stages.items():
            click.echo(f"{stage}: {[round(v) for v in values]}", err=True)
    latencies.sort()
    return {
        **{f"{stage}_p50_ms": _quantile(sorted(v), 0.5) for stage, v in stages.items()},
        **{f"{stage}_p99_ms": _quantile(sorted(v), 0.99) for stage, v in stages.items()},
        "detect_to_notify_p50_ms": _quantile(latencies, 0.5),
        "detect_to_notify_p99_ms": _quantile(latencies, 0.99),
        "detect_to_notify_max_ms": round(latencies[-1], 1) if latencies else None,
        "debounce_s": debounce, "incidents": incidents, "faults": faults,
        "notifications_lost": faults - len(latencies), "deliveries": sink.deliveries,
        "send_retries": retries, "send_errors": errors,
        "rooms": rooms, "stream_msgs_per_s": rate, "cores": os.cpu_count(),
        "database": database_url.split(":")[0].split("+")[0],
    }


def _inject(port: int, faults: int, interval: float) -> dict[str, float]:
    """Publish a doccam fault in ``faults`` rooms; return when each reached the broker."""
    import paho.mqtt.client as mqtt

    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="bench-faults",
                         protocol=mqtt.MQTTv311)
    client.connect("127.0.0.1", port, keepalive=60)
    client.loop_start()
    time.sleep(1.0)  # let the streamed online statuses land before the first fault
    published: dict[str, float] = {}
    for room in range(faults):
        site = f"s{room:04d}"
        sent = time.time()
        body = f'{{"v":1,"ts":{int(sent * 1000)},"seq":1,"state":"fault","code":"usb_error"}}'
        client.publish(f"etp/v1/{site}/r1/doccam/health", body, qos=1,
                       retain=True).wait_for_publish(5)
        published[site] = sent
        time.sleep(interval)
    client.disconnect()
    client.loop_stop()
    return published


def _epoch(value) -> float:
    """Seconds since the epoch of a stored UTC time (SQLite returns it naive)."""
    return (value if value.tzinfo else value.replace(tzinfo=UTC)).timestamp()


def _quantile(values: list[float], q: float) -> float | None:
    if not values:
        return None
    return round(values[min(len(values) - 1, max(0, round(q * (len(values) - 1))))], 1)
