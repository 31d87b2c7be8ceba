"""``etapalvelu bench callbutton``: from a call-button press at the broker to the alert in
the consoles, under background telemetry, with API replicas as production runs them.

Mosquitto, PostgreSQL, one ingest worker and ``--replicas`` API replicas (each its own
process: ``etapalvelu cloud ingest``, ``etapalvelu cloud api``); ``--consoles`` live streams
spread over the replicas; a separate process offers ``--telemetry`` msg/s of QoS 0 telemetry
over ``--rooms`` rooms. ``--presses`` presses, one after another, each of a room whose call is
then cancelled: the latency of a press is from just before its PUBLISH (QoS 1) leaves this
process until its ``call.pressed`` event is read by a console, over every console.
"""
from __future__ import annotations

import json
import multiprocessing as mp
import os
import signal
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

import click

from etapalvelu.bench.ingest import MATRIX, percentile, registry_yaml
from etapalvelu.localservers import Mosquitto, PostgreSQL, free_port, http_ok, wait_for
from etapalvelu.logs import setup_logging
from protocol.topics import LIVE_ROOT

ADMIN_TOKEN = "bench-callbutton-admin-token"
PRESS_ROOMS = 20  # rooms pressed in turn; each call is cancelled long before its turn again


def telemetry_load(port: int, rooms: int, rate: float, seconds: float, sent) -> None:
    """Offer ``rate`` telemetry messages a second (QoS 0) round-robin over ``rooms`` for
    ``seconds``; ``sent`` gets the count."""
    from etapalvelu.bench._wire import RawPublisher, publish_packet

    link = RawPublisher(port, "bench-telemetry")
    chunk = max(1, int(rate / 200))  # paced: about every 5 ms
    start, n = time.perf_counter(), 0
    while time.perf_counter() - start < seconds:
        batch = []
        for _ in range(chunk):
            now_ms = time.time_ns() // 1_000_000
            body = (f'{{"v":1,"ts":{now_ms},"seq":{n},"metrics":{{"cpu_pct":{n % 100}.5,'
                    f'"rtt_ms":12.25}}}}').encode()
            batch.append(publish_packet(f"etp/v1/s{n % rooms:04d}/r1/agent/telemetry", body,
                                        0, 0))
            n += 1
        link.send(batch)
        ahead = start + n / rate - time.perf_counter()
        if ahead > 0:
            time.sleep(ahead)
    link.close()
    sent.value = n


def _press(client, room: int, kind: str, n: int) -> None:
    from edge.messages import event

    now_ms = time.time_ns() // 1_000_000
    client.publish(f"etp/v1/s{room:04d}/r1/callbutton/event", event(
        ts=now_ms, seq=n, id=f"bench-{kind}-{n:08d}", data={"type": kind}), qos=1)


def _process(command: list[str], env: dict, log: Path) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "etapalvelu.cli", *command], env=env,
                            stdout=log.open("wb"), stderr=subprocess.STDOUT)


def stop_processes(processes: list[subprocess.Popen], timeout: float = 20) -> None:
    """SIGTERM to every process, then wait for each (killed past ``timeout``)."""
    for process in processes:
        process.send_signal(signal.SIGTERM)
    for process in processes:
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            process.kill()


def run_callbutton(workdir: Path, *, replicas: int, consoles: int, presses: int,
                   telemetry: float, rooms: int) -> dict:
    """Run the scenario in ``workdir``; return its figures (see the module docstring)."""
    import paho.mqtt.client as mqtt

    from cloud.db import migrate
    from etapalvelu.bench._sse import SseClient

    database = PostgreSQL(workdir / "pg").start()
    # as the fleet's broker is configured (provisioning.broker.mosquitto_conf)
    broker = Mosquitto(workdir / "mosquitto", extra_config=["set_tcp_nodelay true"]).start()
    processes: list[subprocess.Popen] = []
    streams: list[SseClient] = []
    load = None
    try:
        url = database.create_database("bench_callbutton")
        migrate(url)
        (workdir / "registry.yaml").write_text(registry_yaml(rooms))
        (workdir / "matrix.yaml").write_text(MATRIX)  # the API loads it at start
        env = {k: v for k, v in os.environ.items() if not k.startswith("ETP_")} | {
            "ETP_DATABASE_URL": url, "ETP_BROKER_URL": broker.url,
            "ETP_REGISTRY_FILE": str(workdir / "registry.yaml"),
            "ETP_INCIDENTS_MATRIX_FILE": str(workdir / "matrix.yaml"),
            "ETP_ADMIN_TOKEN": ADMIN_TOKEN, "ETP_SPOOL_FILE": str(workdir / "spool.sqlite")}
        processes.append(_process(["cloud", "ingest", "--name", "bench-ingest"], env,
                                  workdir / "ingest.log"))
        ports = [free_port() for _ in range(replicas)]
        for n, port in enumerate(ports):
            processes.append(_process(["cloud", "api", "--port", str(port), "--name",
                                       f"bench-api-{n + 1}"], env, workdir / f"api-{n}.log"))
        for port in ports:
            wait_for(lambda p=port: http_ok(f"http://127.0.0.1:{p}/healthz"), 60, "API replica")
        streams = [SseClient(f"http://127.0.0.1:{ports[i % replicas]}/api/live/events",
                             ADMIN_TOKEN) for i in range(consoles)]
        for stream in streams:
            stream.wait("hello", timeout=30)
        seconds = 4.0 + presses * 0.2  # warm-up, then the presses, all under load
        sent = mp.Value("q", 0)
        load = mp.Process(target=telemetry_load, args=(broker.port, rooms, telemetry, seconds,
                                                       sent), daemon=True)
        load.start()
        button = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="bench-buttons")
        button.connect("127.0.0.1", broker.port)
        button.loop_start()
        # when each call.pressed passed the broker, and when the ingest received its press
        # (the event's pressed_at, stamped on receipt), by site
        live_at: dict[str, tuple[float, float]] = {}

        def on_live(_client, _userdata, message) -> None:
            data = json.loads(message.payload)["data"]
            if "pressed_at" in data:
                received = datetime.fromisoformat(data["pressed_at"]).timestamp()
                live_at.setdefault(data["site"], (time.time(), received))

        watcher = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="bench-live-watch")
        watcher.on_message = on_live
        watcher.connect("127.0.0.1", broker.port)
        watcher.subscribe(f"{LIVE_ROOT}/#", qos=0)
        watcher.loop_start()
        time.sleep(3.0)  # the background load reaches its pace
        latencies, to_bus, to_ingest = _presses(button, streams, presses, live_at)
        watcher.loop_stop()
        load.join(seconds + 30)
        button.loop_stop()
        button.disconnect()
        return {"bench": "callbutton",
                "press_to_console_p50_ms": round(percentile(latencies, 0.5), 1),
                "press_to_console_p99_ms": round(percentile(latencies, 0.99), 1),
                "press_to_console_max_ms": round(max(latencies), 1),
                "press_to_live_bus_p50_ms": round(percentile(to_bus, 0.5), 1),
                "press_to_live_bus_p99_ms": round(percentile(to_bus, 0.99), 1),
                "press_to_ingest_p50_ms": round(percentile(to_ingest, 0.5), 1),
                "press_to_ingest_p99_ms": round(percentile(to_ingest, 0.99), 1),
                "presses": presses, "consoles": consoles, "replicas": replicas,
                "background_telemetry_msg_s": round(sent.value / seconds),
                "database": "postgresql", "rooms": rooms}
    finally:
        for stream in streams:  # the readers are daemons: hundreds need no one-by-one wait
            stream.close(wait_s=0)
        if load is not None and load.is_alive():
            load.terminate()
        stop_processes(processes)
        broker.stop()
        database.stop(signal.SIGINT)


def _presses(button, streams, presses: int, live_at: dict):
    """Press rooms in turn; every console's delay to each press, each press's delay to its
    live event at the broker and to its receipt by the ingest (ms)."""
    latencies: list[float] = []
    to_bus: list[float] = []
    to_ingest: list[float] = []
    for n in range(presses):
        room = n % PRESS_ROOMS
        site = f"s{room:04d}"
        seen = [len(s.events) for s in streams]
        live_at.pop(site, None)
        sent_at = time.time()
        _press(button, room, "button_press", n)
        for stream, since in zip(streams, seen):
            event = stream.wait("call.pressed", where=lambda d: d["site"] == site, timeout=10,
                                since=since)
            latencies.append((event.received - sent_at) * 1000)
        wait_for(lambda: site in live_at, 10, "the live event at the broker")
        to_bus.append((live_at[site][0] - sent_at) * 1000)
        to_ingest.append((live_at[site][1] - sent_at) * 1000)
        _press(button, room, "button_cancel", n)
        time.sleep(0.05)  # presses a little apart, as people make them
    return latencies, to_bus, to_ingest


@click.command()
@click.option("--replicas", default=2, show_default=True, help="API replicas (processes)")
@click.option("--consoles", default=4, show_default=True, help="live streams over them")
@click.option("--presses", default=100, show_default=True)
@click.option("--telemetry", default=1000.0, show_default=True,
              help="background telemetry, msg/s")
@click.option("--rooms", default=200, show_default=True, help="rooms of the registry")
def command(replicas: int, consoles: int, presses: int, telemetry: float, rooms: int) -> None:
    """Press to console alert under background telemetry, over API replicas."""
    setup_logging("warning", "bench-callbutton")
    with tempfile.TemporaryDirectory(prefix="etp-bench-callbutton-") as workdir:
        print(json.dumps(run_callbutton(Path(workdir), replicas=replicas, consoles=consoles,
                                        presses=presses, telemetry=telemetry, rooms=rooms)),
              flush=True)
