"""What the ingest writes to its log: facts once committed, nothing per message."""
from __future__ import annotations

import logging
import time

from sqlalchemy.exc import OperationalError

from cloud.db import make_engine
from cloud.flows.summon import SummonOnIngest
from protocol.payloads import ButtonPress, Event


class Bus:
    """The live bus, as the hook sees it."""

    def __init__(self) -> None:
        self.published = []

    def publish_threadsafe(self, channel, event) -> None:
        self.published.append((channel, event))


def press(n: int) -> dict:
    now = time.time_ns() // 1_000_000
    event = Event(ts=now, seq=n, id=f"log-press-{n:04d}", data=ButtonPress(type="button_press"))
    return {event.id: (("porvoo", "r1", "callbutton"), event, now)}


def test_a_press_is_logged_after_its_batch_commits_and_never_for_a_batch_rolled_back(
        database_url, caplog):
    engine, bus, hook = make_engine(database_url), Bus(), SummonOnIngest(Bus())
    hook.bus = bus
    caplog.set_level(logging.INFO)
    try:
        with engine.begin() as conn:
            hook(conn, press(1))
            raise OperationalError("commit", {}, Exception("the database went away"))
    except OperationalError:
        pass
    assert "calls.pressed" not in caplog.text
    with engine.begin() as conn:
        after = hook(conn, press(2))
        assert "calls.pressed" not in caplog.text  # not yet committed
    after()
    assert caplog.text.count("calls.pressed") == 1 and len(bus.published) == 1
    engine.dispose()
