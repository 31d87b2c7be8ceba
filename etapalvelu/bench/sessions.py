"""``etapalvelu bench sessions``: video session set-up, first frame and CPU per session on
loopback, through the project's signalling.

The real app is served by uvicorn on a temporary SQLite store, its live bus on a Mosquitto of
its own (the signalling's events pass the broker, as between replicas). ``--sessions`` sessions run one
after another: the expert joins, then the room terminal (an aiortc peer sending the camera,
the document camera and audio) offers to it. ``setup`` is from the terminal's offer to both
peer connections connected; ``first_frame`` from the expert's join (the socket opened) to its
first decoded video frame. Then one three-party session (terminal, expert, and a participant
the expert admits from the lobby, each sending video and audio) runs ``--cpu-seconds``, and
the process's CPU time over it (all three peers' encoding and decoding, and the server) is
given per minute of session, and apart the server's event loop (the signalling: in a mesh no
media passes the server). One JSON line on stdout; logs to stderr.
"""
from __future__ import annotations

import asyncio
import json
import statistics
import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import click

from etapalvelu.logs import setup_logging

VISIT = timedelta(minutes=30)


def _p(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


class Bench:
    """The served app and the means to open and join sessions."""

    def __init__(self, folder: Path) -> None:
        from cloud.db import migrate
        from cloud.settings import CloudSettings
        from cloud.web.app import create_app
        from cloud.web.serve import make_server
        from etapalvelu.localservers import Mosquitto, free_port, wait_for

        url = f"sqlite:///{folder / 'bench.sqlite'}"
        migrate(url)
        self.broker = Mosquitto(folder / "mosquitto").start()  # the live bus's broker
        self.app = create_app(CloudSettings(database_url=url, broker_url=self.broker.url))
        port = free_port()
        self.server = make_server(self.app, host="127.0.0.1", port=port)
        self.thread = threading.Thread(target=self.server.run, daemon=True)
        self.thread.start()
        wait_for(lambda: self.server.started, 10, "uvicorn started")
        wait_for(lambda: self.app.state.live_bus.connected.is_set(), 10, "live bus connected")
        self.ws = f"ws://127.0.0.1:{port}"

    def server_cpu(self) -> float:
        """CPU seconds the server's event loop (the signalling) has used."""
        return time.clock_gettime(time.pthread_getcpuclockid(self.thread.ident))

    def stop(self) -> None:
        """Stop the server."""
        self.server.should_exit = True
        self.thread.join(10)
        self.broker.stop()

    def session(self) -> tuple[int, dict]:
        """A walk-in's session and the credentials of the terminal, expert and advisor."""
        from cloud.sessions import service
        from cloud.sessions.settings import SessionSettings

        now = datetime.now(UTC)
        with self.app.state.sessionmaker() as db:
            video_session = service.open_session(
                db=db, settings=SessionSettings(), site="porvoo", room="r1", authority="kela",
                service="kela-benefits", slot_start=now, slot_end=now + VISIT,
                created_by="bench", now=now)
            credentials = {role: service.join(db=db, video_session=video_session, role=role,
                                              now=now, staff_id=i)[1]
                           for i, role in enumerate(("terminal", "expert", "advisor"))}
            db.commit()
        return video_session.id, credentials


async def _one_setup(bench: Bench) -> tuple[float, float]:
    from cloud.sessions.peer import SessionPeer, terminal_tracks

    session_id, credentials = bench.session()
    expert = SessionPeer(bench.ws, session_id, credentials["expert"])
    terminal = SessionPeer(bench.ws, session_id, credentials["terminal"],
                           tracks=terminal_tracks())
    joined = time.monotonic()
    await expert.join()
    await terminal.join()
    expert_id, terminal_id = expert.you["id"], terminal.you["id"]
    await terminal.wait_until(lambda: terminal.connected_to(expert_id)
                              and expert.connected_to(terminal_id), timeout=20)
    connected = time.monotonic()
    await expert.wait_until(lambda: expert.first_frame_at is not None, timeout=20)
    setup, first = connected - terminal.offer_sent_at, expert.first_frame_at - joined
    await expert.send({"type": "end"})
    await terminal.wait_for(lambda m: m["type"] == "closed")
    await terminal.close()
    await expert.close()
    return setup * 1000, first * 1000


async def _three_party_cpu(bench: Bench, seconds: float) -> float:
    from aiortc.mediastreams import AudioStreamTrack

    from cloud.sessions.peer import GeneratedVideo, SessionPeer, terminal_tracks

    session_id, credentials = bench.session()
    expert = SessionPeer(bench.ws, session_id, credentials["expert"],
                         tracks=[GeneratedVideo(shade=30), AudioStreamTrack()])
    terminal = SessionPeer(bench.ws, session_id, credentials["terminal"],
                           tracks=terminal_tracks())
    third = SessionPeer(bench.ws, session_id, credentials["advisor"],
                        tracks=[GeneratedVideo(shade=60), AudioStreamTrack()])
    await expert.join()
    await terminal.join()
    await third.join()
    await expert.send({"type": "admit", "participant": third.you["id"]})
    peers = (expert, terminal, third)
    await expert.wait_until(lambda: all(len(p.connections) == 2 and all(
        c.connectionState == "connected" for c in p.connections.values()) for p in peers),
        timeout=30)
    cpu, wall, server = time.process_time(), time.monotonic(), bench.server_cpu()
    await asyncio.sleep(seconds)  # the measured span: the session runs
    cpu, wall = time.process_time() - cpu, time.monotonic() - wall
    server = bench.server_cpu() - server
    await expert.send({"type": "end"})
    for peer in peers:
        await peer.close()
    return cpu / (wall / 60), server / (wall / 60)


@click.command()
@click.option("--sessions", default=10, show_default=True, help="sessions set up in turn")
@click.option("--cpu-seconds", default=20.0, show_default=True,
              help="how long the three-party session runs for the CPU figure")
def command(sessions: int, cpu_seconds: float) -> None:
    """Session set-up, first frame and CPU per three-party session minute, as one JSON line."""
    setup_logging("warning", "bench-sessions")
    with tempfile.TemporaryDirectory() as folder:
        bench = Bench(Path(folder))
        try:
            async def run():
                results = [await _one_setup(bench) for _ in range(sessions)]
                return results, await _three_party_cpu(bench, cpu_seconds)
            results, (cpu_per_minute, server_per_minute) = asyncio.run(run())
        finally:
            bench.stop()
    setups, firsts = [r[0] for r in results], [r[1] for r in results]
    click.echo(json.dumps({
        "bench": "sessions", "sessions": sessions,
        "setup_p50_ms": round(statistics.median(setups), 1),
        "setup_p99_ms": round(_p(setups, 0.99), 1),
        "first_frame_p99_ms": round(_p(firsts, 0.99), 1),
        "cpu_s_per_session_min": round(cpu_per_minute, 2),
        "server_cpu_s_per_session_min": round(server_per_minute, 3),
        "cpu_seconds_measured": cpu_seconds}))
