"""The room terminal's disk full under the agent's outbox (a 2 MiB filesystem): the agent
keeps running and says so, refuses what it cannot store (the caller hears it), delivers every
event it accepted, and takes events again once there is room, by itself."""
from __future__ import annotations

import os

import pytest

from tests.fault.conftest import Presses, assert_all_stored_once, start_room
from tests.netfault import TcpProxy
from tests.servers import wait_for

pytestmark = pytest.mark.fault


def fill(folder, keep_bytes: int) -> None:
    """Fill the filesystem of ``folder`` up to ``keep_bytes`` free."""
    free = os.statvfs(folder)
    size = free.f_bavail * free.f_frsize - keep_bytes
    with open(folder / "filler", "wb") as filler:
        filler.write(b"\0" * max(0, size))


def test_a_full_disk_refuses_new_events_loses_no_accepted_one_and_heals_when_freed(
        tmp_path, small_filesystem, broker, cloud_settings, start_worker, twin):
    start_worker(cloud_settings)
    with TcpProxy(broker.port) as proxy:
        agent = start_room(tmp_path, f"mqtt://127.0.0.1:{proxy.port}",
                           outbox=small_filesystem / "outbox.sqlite")
        try:
            assert agent.wait_connected(10)
            proxy.cut()  # offline: the outbox grows on the small disk
            fill(small_filesystem, keep_bytes=64 * 1024)
            with Presses(agent, every_s=0.002) as presses:
                wait_for(lambda: presses.refused > 0, 30, "the disk full")
                assert agent._thread.is_alive()
                (small_filesystem / "filler").unlink()  # the operator (or log rotation) frees
                proxy.restore()
                wait_for(agent.wait_connected, 15, "the agent online again")
                accepted = len(presses.accepted)
                presses.wait(50)
                assert len(presses.accepted) > accepted
            assert agent._thread.is_alive()
            assert_all_stored_once(twin, presses.accepted, timeout=60)
        finally:
            agent.stop()
