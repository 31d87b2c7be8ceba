"""``etapalvelu bench ingest``: throughput and latency of agents -> Mosquitto -> ingest -> twin
(SQL) and telemetry (VictoriaMetrics, through the InfluxDB write API).

Phases, in one run on the same broker:
1. broker: N messages through Mosquitto to a plain subscriber that does nothing;
2. saturation: the same N (new ids) through the ingest workers, until each is committed to
   the twin and its telemetry written; ``ratio`` = 2 over 1;
3. latency: a fixed offered rate; publish-to-twin-commit per message.
Publishers, subscriber and workers are separate processes, as in production.
"""
from __future__ import annotations

import json
import multiprocessing as mp
import os
import tempfile
import threading
import time
from pathlib import Path

import click

from etapalvelu.localservers import Mosquitto, VictoriaMetrics, wait_for
from etapalvelu.logs import setup_logging

MIX = ("agent/telemetry", "terminal/telemetry", "network/telemetry", "doccam/telemetry",
       "agent/telemetry", "terminal/telemetry", "network/telemetry", "doccam/telemetry",
       "callbutton/event", "doccam/health")  # 80 % telemetry (QoS 0), 20 % QoS 1
QOS = {"telemetry": 0, "event": 1, "health": 1}


# the responsibility matrix of a bench registry: every category to one service desk
MATRIX = """
parties:
  supplier:
    name: Bench service desk
    language: fi
    channels: [{type: email, to: servicedesk@supplier.example.invalid}]
    hours: {always: true}
    response_minutes: 30
routes:
""" + "".join(f"  {c}: {{'*': supplier}}\n" for c in (
    "equipment", "system", "terminal_network", "workstation_network", "space", "furniture",
    "signage", "threat", "vandalism"))


def registry_yaml(rooms: int, devices: tuple[str, ...] = ()) -> str:
    """A registry of ``rooms`` sites with one room each (of ``devices``; default: all)."""
    # the pilot's authorities, so the booking catalogue checks out against it
    held = f", devices: [{', '.join(devices)}]" if devices else ""
    lines = ["authorities:", *(f"  {a}: {{name: {{fi: {a}, sv: {a}, en: {a}}}}}"
                               for a in ("kela", "dvv", "vero", "poliisi")), "sites:"]
    for i in range(rooms):
        lines += [f"  s{i:04d}:", "    name: {fi: B, sv: B, en: B}", "    municipality: Bench",
                  "    authorities: [kela]",
                  f"    rooms: {{r1: {{name: Bench{held}}}}}"]
    return "\n".join(lines) + "\n"


def message(phase: str, room: int, n: int, now_ms: int) -> tuple[str, bytes, int]:
    """The n-th message of a room in a phase: topic, payload, QoS."""
    path = MIX[n % len(MIX)]
    kind = path.split("/")[1]
    head = f'{{"v":1,"ts":{now_ms},"seq":{n}'
    if kind == "telemetry":
        body = f'{head},"metrics":{{"cpu_pct":{n % 100}.5,"rtt_ms":12.25}}}}'
    elif kind == "event":
        event_id = f"{phase}-{room:04d}-{n:010d}"
        body = f'{head},"id":"{event_id}","data":{{"type":"button_press"}},"synced":true}}'
    else:  # every 20th health report of a device is degraded, with its code
        body = f'{head},"state":"ok"}}' if n % 20 else f'{head},"state":"degraded","code":"bench"}}'

    return f"etp/v1/s{room:04d}/r1/{path}", body.encode(), QOS[kind]


def _client(port: int, name: str, inflight: int = 2000):
    import paho.mqtt.client as mqtt

    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=name,
                         protocol=mqtt.MQTTv311)
    client.max_inflight_messages_set(inflight)
    client.max_queued_messages_set(0)
    client.connect("127.0.0.1", port, keepalive=60)
    return client


def publisher(port: int, phase: str, rooms: range, count: int, rate: float) -> None:
    """Publish ``count`` messages round-robin over ``rooms``, flat out or at ``rate``/s."""
    from etapalvelu.bench._wire import RawPublisher, publish_packet

    link = RawPublisher(port, f"bench-pub-{phase}-{rooms.start}")
    start = time.perf_counter()
    seqs = dict.fromkeys(rooms, 0)
    room_list = list(rooms)
    batch: list[bytes] = []
    chunk = 200 if not rate else max(1, int(rate / 500))  # paced: about every 2 ms
    for i in range(count):
        room = room_list[i % len(room_list)]
        topic, payload, qos = message(phase, room, seqs[room], time.time_ns() // 1_000_000)
        seqs[room] += 1
        batch.append(publish_packet(topic, payload, qos, link.packet_id() if qos else 0))
        if len(batch) >= chunk:
            link.send(batch)
            batch = []
            if rate:
                ahead = start + (i + 1) / rate - time.perf_counter()
                if ahead > 0:
                    time.sleep(ahead)
    link.send(batch)
    link.wait_acked()
    link.close()


def plain_subscriber(port: int, expected: int, result) -> None:
    """Count messages and report when ``expected`` arrived (the broker-only baseline)."""
    received = [0]
    done = threading.Event()

    def on_message(*_):
        received[0] += 1
        if received[0] >= expected:
            done.set()

    client = _client(port, "bench-plain-subscriber")
    client.on_message = on_message
    client.subscribe("etp/v1/#", qos=1)
    client.loop_start()
    result.put("ready")
    done.wait(600)
    result.put((received[0], time.time()))
    client.loop_stop()


def ingest_process(settings: dict, commands, replies) -> None:
    """One ingest worker; answers ``stats`` and ``latency`` requests on its pipe."""
    setup_logging("warning", "bench-ingest")
    from cloud.ingest.worker import IngestWorker, tune_garbage_collector
    from cloud.registry import load_registry
    from cloud.settings import CloudSettings

    state = {"accepted": 0, "latency": [], "last_commit": 0.0}

    def on_commit(accepted, committed: float) -> None:
        state["accepted"] += len(accepted)
        state["last_commit"] = committed
        now_ms = committed * 1000
        state["latency"].extend(now_ms - a.message.payload.ts for a in accepted)

    tune_garbage_collector()
    cloud = CloudSettings(**settings)
    worker = IngestWorker(cloud, load_registry(cloud.registry_file), on_commit=on_commit).start()
    worker.connected.wait(30)
    replies.put("ready")
    while True:
        request = commands.get()
        if request == "stop":
            break
        if request == "reset":
            state["latency"] = []
        rss_kb = int(next(line.split()[1] for line in open("/proc/self/status")
                          if line.startswith("VmHWM")))
        written = worker.telemetry.written if worker.telemetry else 0
        replies.put({"accepted": state["accepted"], "written": written, "rss_mb": rss_kb / 1024,
                     "last_commit": state["last_commit"],
                     "latency": state["latency"] if request == "latency" else None})
    worker.stop()
    replies.put("stopped")


def _publish(ctx, port: int, phase: str, rooms: int, total: int, publishers: int,
             rate: float = 0.0) -> tuple[float, list]:
    """Start publisher processes sharing the rooms; return when they started, and them."""
    share = [range(p, rooms, publishers) for p in range(publishers)]
    procs = [ctx.Process(target=publisher, args=(port, phase, rooms_of, total // publishers,
                                                 rate / publishers))
             for rooms_of in share]
    started = time.time()
    for proc in procs:
        proc.start()
    return started, procs


def percentile(values: list[float], q: float) -> float:
    """The q-quantile (0..1) by nearest rank."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]


@click.command()
@click.option("--rooms", default=500, show_default=True)
@click.option("--seconds", default=10.0, show_default=True, help="length of each phase")
@click.option("--rate", default=5000.0, show_default=True, help="offered msg/s, latency phase")
@click.option("--workers", default=1, show_default=True,
              help="ingest workers, each its partition of the sites (i/K)")
@click.option("--publishers", default=2, show_default=True)
@click.option("--messages", default=0, help="saturation message count (default: 25,000 x seconds)")
@click.option("--database-url", default=None, help="default: a SQLite file in a temporary folder")
def command(rooms: int, seconds: float, rate: float, workers: int, publishers: int,
            messages: int, database_url: str | None) -> None:
    """Measure the ingest pipeline; print one JSON line."""
    from cloud.db import migrate
    from provisioning.broker import queue_bounds

    ctx = mp.get_context("spawn")
    total = (messages or int(25_000 * seconds)) // publishers * publishers
    with tempfile.TemporaryDirectory(prefix="etp-bench-") as tmp:
        tmp_path = Path(tmp)
        (tmp_path / "registry.yaml").write_text(registry_yaml(rooms))
        database_url = database_url or f"sqlite:///{tmp_path}/bench.sqlite"
        migrate(database_url)
        # the broker's per-client bounds of production: the ingest's flow control is measured too
        with Mosquitto(tmp_path / "mosquitto", persistence=False,
                       extra_config=queue_bounds()) as broker, \
                VictoriaMetrics(tmp_path / "victoria") as victoria:
            baseline = _broker_phase(ctx, broker.port, rooms, total, publishers)
            settings = {"database_url": database_url, "broker_url": broker.url,
                        "registry_file": str(tmp_path / "registry.yaml"),
                        "influx_url": victoria.url, "spool_file": str(tmp_path / "spool.sqlite")}
            result = _ingest_phases(ctx, settings, broker.port, rooms, total, publishers,
                                    workers, seconds, rate)
    result.update(baseline)
    result["ratio"] = round(result["msgs_per_s"] / result["broker_msgs_per_s"], 3)
    result.update({"rooms": rooms, "workers": workers, "publishers": publishers,
                   "messages": total, "offered_rate": rate, "seconds": seconds,
                   "cores": os.cpu_count(), "database": database_url.split(":")[0]})
    click.echo(json.dumps(result))


def _broker_phase(ctx, port: int, rooms: int, total: int, publishers: int) -> dict:
    result = ctx.Queue()
    sub = ctx.Process(target=plain_subscriber, args=(port, total, result))
    sub.start()
    assert result.get(timeout=30) == "ready"
    started, procs = _publish(ctx, port, "broker", rooms, total, publishers)
    received, finished = result.get(timeout=600)
    for proc in procs + [sub]:
        proc.join(30)
    return {"broker_msgs_per_s": round(received / (finished - started)),
            "broker_lost": total - received}


def _ingest_phases(ctx, settings: dict, port: int, rooms: int, total: int, publishers: int,
                   workers: int, seconds: float, rate: float) -> dict:
    pipes = []
    for w in range(workers):
        commands, replies = ctx.Queue(), ctx.Queue()
        proc = ctx.Process(target=ingest_process,
                           args=({**settings, "ingest_name": f"bench-{w}",
                                  "ingest_partition": f"{w}/{workers}",
                                  "spool_file": f"{settings['spool_file']}.{w}"},
                                 commands, replies))
        proc.start()
        assert replies.get(timeout=60) == "ready"
        pipes.append((proc, commands, replies))

    def stats(request: str = "stats") -> list[dict]:
        for _, commands, _ in pipes:
            commands.put(request)
        return [replies.get(timeout=60) for _, _, replies in pipes]

    telemetry_share = sum(1 for p in MIX if p.endswith("telemetry")) / len(MIX)

    def done(expected: int) -> bool:
        current = stats()
        return (sum(s["accepted"] for s in current) >= expected
                and sum(s["written"] for s in current) >= int(expected * telemetry_share))

    started, procs = _publish(ctx, port, "saturation", rooms, total, publishers)
    wait_for(lambda: done(total), 600, "saturation messages processed", interval=0.05)
    finished = max(s["last_commit"] for s in stats())
    for proc in procs:
        proc.join(30)
    saturation = sum(s["accepted"] for s in stats())
    stats("reset")
    offered = int(rate * seconds) // publishers * publishers
    _, procs = _publish(ctx, port, "latency", rooms, offered, publishers, rate=rate)
    for proc in procs:
        proc.join(seconds * 3 + 60)
    try:
        wait_for(lambda: done(saturation + offered), 120, "latency messages processed",
                 interval=0.05)
    except TimeoutError:
        pass
    final = stats("latency")
    latencies = [x for s in final for x in s["latency"]]
    accepted = sum(s["accepted"] for s in final)
    for proc, commands, replies in pipes:
        commands.put("stop")
        proc.join(60)
    return {
        "msgs_per_s": round(total / (finished - started)),
        "p50_ms": round(percentile(latencies, 0.5), 1) if latencies else None,
        "p99_ms": round(percentile(latencies, 0.99), 1) if latencies else None,
        "lost": (total + offered) - accepted,
        "rss_mb": round(max(s["rss_mb"] for s in final), 1),
        "per_worker_accepted": [s["accepted"] for s in final],
    }
