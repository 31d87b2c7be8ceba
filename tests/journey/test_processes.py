"""Each cloud process as systemd runs it: readiness and watchdog on the notify socket, a
heartbeat row per process, a clean stop on SIGTERM (status 0, the engine's lease handed back),
status 78 for settings that cannot work, and a standby engine taking over from a stopped one."""
from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from cloud.db import make_engine, make_sessionmaker, migrate
from cloud.incidents.models import EngineCursor
from cloud.runtime.heartbeat import Component, Health, process_status
from cloud.runtime.process import EX_FAILURE, run_until_stopped
from tests.servers import free_port, wait_for

EXECUTABLE = str(Path(sys.executable).with_name("etapalvelu"))


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database(request, tmp_path) -> str:
    """A migrated database of either kind."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'cloud.sqlite'}"
    else:
        url = request.getfixturevalue("postgres").create_database(
            f"processes_{uuid.uuid4().hex[:8]}")
    migrate(url)
    return url


def cloud_env(database_url: str, **more: str) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ETP_", "NOTIFY_SOCKET"))}
    return {**env, "ETP_DATABASE_URL": database_url, "ETP_HEARTBEAT_S": "0.2",
            "ETP_INCIDENTS_LEASE_S": "30", **more}


def start(tmp_path: Path, *args: str, env: dict) -> subprocess.Popen:
    """``etapalvelu cloud ARGS...``; its output goes to ``process.log_path``."""
    path = tmp_path / f"{args[0]}-{uuid.uuid4().hex[:6]}.log"
    process = subprocess.Popen([EXECUTABLE, "cloud", *args], env=env,
                               stdout=open(path, "wb"),  # noqa: SIM115 - closed with it
                               stderr=subprocess.STDOUT)
    process.log_path = path
    return process


def stop(process: subprocess.Popen) -> int:
    process.send_signal(signal.SIGTERM)
    return process.wait(30)


class NotifySocket:
    """systemd's end of ``NOTIFY_SOCKET``: a datagram socket collecting what is sent."""

    def __init__(self, path: Path) -> None:
        self.path = str(path)
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(self.path)
        self.sock.settimeout(0.2)
        self.seen: list[str] = []

    def has(self, message: str) -> bool:
        try:
            self.seen.append(self.sock.recv(4096).decode())
        except TimeoutError:
            pass
        return message in self.seen


def holder(database_url: str) -> str | None:
    with make_sessionmaker(make_engine(database_url))() as session:
        cursor = session.get(EngineCursor, "transitions")
        return None if cursor is None else cursor.holder


def status_rows(database_url: str):
    with make_sessionmaker(make_engine(database_url))() as session:
        return process_status(session, now=datetime.now(UTC), stale_after=timedelta(seconds=5))


def test_the_engine_tells_systemd_it_is_ready_beats_and_hands_back_its_lease_on_sigterm(
        tmp_path, database):
    notify = NotifySocket(tmp_path / "notify.sock")
    engine = start(tmp_path, "engine", "--name", "engine-a",
                   env=cloud_env(database, NOTIFY_SOCKET=notify.path))
    wait_for(lambda: notify.has("READY=1"), 30, "READY=1")
    wait_for(lambda: notify.has("WATCHDOG=1"), 10, "a watchdog beat")
    [row] = status_rows(database)
    assert (row.name, row.kind, row.ready, row.detail) == ("engine-a", "engine", True, "leading")
    assert holder(database) == "engine-a"

    assert stop(engine) == 0
    assert notify.has("STOPPING=1") or "STOPPING=1" in notify.seen
    assert holder(database) is None
    [row] = status_rows(database)
    assert row.stopped and not row.ready
    lines = engine.log_path.read_text().splitlines()
    assert lines and all(re.match(r"ts=\S+Z level=[A-Z]+ logger=\S+ process=engine-a ", line)
                         for line in lines), lines[:5]


def test_a_standby_engine_takes_over_at_once_when_the_leader_stops(tmp_path, database):
    env = cloud_env(database)
    first = start(tmp_path, "engine", "--name", "engine-a", env=env)
    wait_for(lambda: holder(database) == "engine-a", 30, "engine-a leading")
    second = start(tmp_path, "engine", "--name", "engine-b", env=env)
    wait_for(lambda: any(r.name == "engine-b" and r.detail == "standby"
                         for r in status_rows(database)), 30, "engine-b standing by")
    assert stop(first) == 0
    # the lease is 30 s: taking over well inside it proves the lease was handed back
    wait_for(lambda: holder(database) == "engine-b", 10, "engine-b leading")
    assert stop(second) == 0


@pytest.mark.parametrize("command", ["ingest", "engine", "notify", "schedule", "api"])
def test_settings_that_cannot_work_end_the_process_with_status_78_and_a_clear_line(
        tmp_path, command):
    env = cloud_env(f"sqlite:///{tmp_path / 'x.sqlite'}", ETP_ENVIRONMENT="production")
    result = subprocess.run([EXECUTABLE, "cloud", command], env=env, capture_output=True,
                            text=True, timeout=60, check=False)
    assert result.returncode == 78, result.stderr
    assert "configuration error:" in result.stderr and "Traceback" not in result.stderr


def test_the_api_answers_live_but_not_ready_while_its_database_is_unreachable(tmp_path):
    port = free_port()
    nowhere = f"postgresql+psycopg://etp@127.0.0.1:{free_port()}/etp"
    api = start(tmp_path, "api", "--port", str(port), env=cloud_env(nowhere))
    try:
        wait_for(lambda: _get(port, "/healthz") == 200, 30, "the API live")
        assert _get(port, "/readyz") == 503
    finally:
        assert stop(api) == 0


def test_cloud_status_fails_once_a_killed_process_stops_beating(tmp_path, database):
    env = cloud_env(database, ETP_HEARTBEAT_STALE_S="1")
    schedule = start(tmp_path, "schedule", "--name", "schedule-a", env=env)
    wait_for(lambda: _status(env).returncode == 0, 30, "the schedule reported ready")
    schedule.send_signal(signal.SIGKILL)  # no clean stop: the row goes stale
    schedule.wait(10)
    wait_for(lambda: _status(env).returncode == 1, 15, "the stale heartbeat noticed")
    assert "schedule-a" in _status(env).stdout and "stale" in _status(env).stdout


def test_a_component_that_is_no_longer_alive_ends_the_process_with_status_1(tmp_path):
    url = f"sqlite:///{tmp_path / 'cloud.sqlite'}"
    migrate(url)
    stopped = []

    class Service:
        def stop(self) -> None:
            stopped.append(True)

    handlers = {sig: signal.getsignal(sig) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        status = run_until_stopped(
            lambda: ([Service()], [Component("w", "notify", lambda: Health(False, False))]),
            make_sessionmaker(make_engine(url)), heartbeat_s=0.05)
    finally:
        for sig, handler in handlers.items():
            signal.signal(sig, handler)
    assert status == EX_FAILURE and stopped == [True]


def _get(port: int, path: str) -> int | None:
    try:
        return httpx.get(f"http://127.0.0.1:{port}{path}", timeout=5).status_code
    except httpx.TransportError:
        return None


def _status(env: dict) -> subprocess.CompletedProcess:
    return subprocess.run([EXECUTABLE, "cloud", "status"], env=env, capture_output=True,
                          text=True, timeout=60, check=False)


def test_cloud_run_starts_every_service_in_one_process_and_stops_it_on_sigterm(
        tmp_path, broker):
    port = free_port()
    env = cloud_env(f"sqlite:///{tmp_path / 'run.sqlite'}", ETP_BROKER_URL=broker.url,
                    ETP_SPOOL_FILE=str(tmp_path / "spool.sqlite"))
    everything = start(tmp_path, "run", "--port", str(port), env=env)
    try:
        wait_for(lambda: _get(port, "/readyz") == 200, 60, "the API ready")
        wait_for(lambda: {r.kind for r in status_rows(env["ETP_DATABASE_URL"]) if r.ready}
                 == {"ingest", "engine", "notify", "schedule", "api"}, 30, "every part ready")
        assert {r.pid for r in status_rows(env["ETP_DATABASE_URL"])} == {everything.pid}
    finally:
        assert stop(everything) == 0
    assert all(r.stopped for r in status_rows(env["ETP_DATABASE_URL"]))


def test_the_heartbeat_migration_creates_exactly_its_model(database):
    import cloud.runtime.models  # noqa: F401  (the table registers on import)
    from tests.store import schema_differences

    assert schema_differences(database, "'runtime_heartbeat'") == []
