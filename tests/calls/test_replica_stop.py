"""An API replica that is stopped (a deploy, a scale-in) ends its consoles' live streams at
once and exits cleanly, instead of holding the stop until systemd's timeout kills it; the
consoles come back through another replica with what they missed."""
from __future__ import annotations

import signal
import time

from tests.calls.sse import SseClient

STOP_BOUND_S = 8  # the unit gives 30 s; a held stream would keep the replica up for minutes


def test_a_stopping_replica_ends_its_streams_at_once_and_the_console_carries_on_elsewhere(
        start_replicas, staff):
    leaving, staying = start_replicas(2)
    token = staff["adv-porvoo-1"][1]
    console = SseClient(f"{leaving.url}/api/live/events", token)
    assert console.wait_status() == 200
    hello = console.wait("hello")
    started = time.monotonic()
    leaving.process.send_signal(signal.SIGTERM)
    assert leaving.process.wait(STOP_BOUND_S) == 0, leaving.output()
    stopped_in = time.monotonic() - started
    console.wait_ended(5)
    assert "Traceback" not in leaving.output()
    again = SseClient(f"{staying.url}/api/live/events", token, last_event_id=hello.id)
    try:
        assert again.wait_status() == 200
        assert again.wait("hello").data == {"calls": []}
    finally:
        again.close()
        console.close()
    assert stopped_in < STOP_BOUND_S
