"""Fixtures of the fault-injection suite (``-m fault``): one room's agent sending through a
fault (a proxy, a small filesystem, a clock) to the real broker, ingest and twin.

Each case asserts that nothing accepted is lost and that recovery needs no one."""
from __future__ import annotations

import subprocess
import threading
from collections.abc import Callable
from pathlib import Path

import pytest

from edge.agent import Agent
from edge.config import simulated_config
from edge.outbox import OutboxFull
from tests import netns
from tests.cloud.conftest import cloud_settings, database_url, start_worker, twin  # noqa: F401
from tests.netfault import TcpProxy
from tests.notify.conftest import smtp, store  # noqa: F401 - fixtures of the SMTP case
from tests.servers import wait_for


def stored_events(query) -> set[str]:
    """Ids of the events the twin holds (``query``: the ``twin`` fixture)."""
    return {row[0] for row in query("select id from twin_event")}


def start_room(tmp_path: Path, broker_url: str, *, outbox: Path | None = None,
               clock: Callable[[], float] | None = None, **broker) -> Agent:
    """Porvoo r1's agent (every device simulated) on ``broker_url``."""
    config = simulated_config("porvoo", "r1", broker_url=broker_url, keepalive_s=3,
                              health_s=1, telemetry_s=3600,
                              outbox_path=outbox or tmp_path / "outbox.sqlite",
                              reconnect_min_s=0.2, reconnect_max_s=2, **broker)
    return Agent(config, **({"clock": clock} if clock else {})).start()


class Presses:
    """A press every ``every_s`` from a thread; ``accepted`` holds the ids the agent stored,
    ``refused`` counts the presses it refused (a full outbox)."""

    def __init__(self, agent: Agent, every_s: float = 0.02) -> None:
        self.agent, self.every_s = agent, every_s
        self.accepted: list[str] = []
        self.refused = 0
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> Presses:  # noqa: PYI034 - no subclasses
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._done.set()
        self._thread.join(5)

    def _run(self) -> None:
        while not self._done.wait(self.every_s):
            try:
                self.accepted.append(self.agent.emit_event("callbutton",
                                                           {"type": "button_press"}))
            except OutboxFull:
                self.refused += 1

    def wait(self, more: int, timeout: float = 10) -> None:
        """Until ``more`` presses beyond those now were accepted."""
        count = len(self.accepted)
        wait_for(lambda: len(self.accepted) >= count + more, timeout, f"{more} presses")


def assert_all_stored_once(query, accepted: list[str], timeout: float = 30) -> None:
    """Every accepted event reaches the twin (``query``: the ``twin`` fixture), only once."""
    wait_for(lambda: set(accepted) <= stored_events(query), timeout, "every accepted event")
    assert len(accepted) == len(set(accepted))
    assert query("select count(*) from twin_event") == [(len(accepted),)]


@pytest.fixture
def proxied_room(tmp_path, broker, cloud_settings, start_worker):  # noqa: F811
    """The ingest on the broker, and the room's agent reaching it through a ``TcpProxy``:
    yields (agent, proxy), the agent online."""
    start_worker(cloud_settings)
    with TcpProxy(broker.port) as proxy:
        agent = start_room(tmp_path, f"mqtt://127.0.0.1:{proxy.port}")
        try:
            assert agent.wait_connected(10)
            yield agent, proxy
        finally:
            agent.stop()


@pytest.fixture
def room_on_a_cable(tmp_path, cloud_settings, start_worker):  # noqa: F811
    """The broker in a network namespace, the ingest on its cloud link and the room's agent on
    its room link: yields (agent, room link), the agent online."""
    if not netns.available():
        pytest.skip("network namespaces need root (ip netns)")
    host = netns.broker_host(tmp_path / "broker")
    try:
        start_worker(cloud_settings.model_copy(update={"broker_url": host.url(host.cloud)}))
        agent = start_room(tmp_path, host.url(host.room))
        try:
            assert agent.wait_connected(10)
            yield agent, host.room
        finally:
            agent.stop()
    finally:
        host.remove()


@pytest.fixture
def small_filesystem(tmp_path):
    """A 2 MiB tmpfs (root only: ``mount``), unmounted after the test."""
    mount = tmp_path / "small"
    mount.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", str(mount)],
                          capture_output=True, text=True, check=False)
    if done.returncode:
        pytest.skip(f"cannot mount a small filesystem: {done.stderr.strip()}")
    yield mount
    subprocess.run(["umount", "-l", str(mount)], check=False)
