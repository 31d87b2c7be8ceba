"""The live bus on a real Mosquitto: events cross processes' buses through the broker, reach
only their channel, and a slow or broken party costs nobody else."""
from __future__ import annotations

import asyncio
import threading

import paho.mqtt.client as mqtt

from cloud.live import LIVE_ROOT, SubscriberDropped
from tests.servers import wait_for


async def _collect(bus, channels, count, ready: threading.Event, timeout: float = 5):
    got = []
    async with bus.subscribe(*channels) as events:
        ready.set()
        async with asyncio.timeout(timeout):
            async for event in events:
                got.append(event)
                if len(got) == count:
                    return got
    return got


def _listening(loop, bus, channels, count, timeout: float = 5):
    ready = threading.Event()
    future = asyncio.run_coroutine_threadsafe(_collect(bus, channels, count, ready, timeout),
                                              loop.loop)
    assert ready.wait(5)
    return future


def test_an_event_published_on_one_process_bus_reaches_the_channel_subscribers_of_another(
        start_bus):
    replica_a, loop_a = start_bus()
    replica_b, loop_b = start_bus()
    publisher, _ = start_bus(listen=False)  # the ingest's bus: publishes from its own thread
    porvoo_a = _listening(loop_a, replica_a, ["site/porvoo"], 2)
    porvoo_b = _listening(loop_b, replica_b, ["site/porvoo"], 2)
    imatra_b = _listening(loop_b, replica_b, ["site/imatra"], 1, timeout=1.5)
    publisher.publish_threadsafe("site/porvoo", {"type": "call.pressed", "n": 1})
    loop_a.run(replica_a.publish("site/porvoo", {"type": "call.cleared", "n": 2}))
    # two publishers, two connections: the broker keeps each one's order, not theirs together
    assert sorted(e["n"] for e in porvoo_a.result(10)) == [1, 2]
    assert sorted(e["n"] for e in porvoo_b.result(10)) == [1, 2]
    try:
        imatra_b.result(10)
        raise AssertionError("imatra's subscriber heard porvoo")
    except TimeoutError:
        pass


def test_a_subscriber_that_falls_behind_is_dropped_and_counted_while_others_keep_up(start_bus):
    bus, loop = start_bus(queue_max=3)
    stalled, resume = threading.Event(), threading.Event()

    async def stall():
        async with bus.subscribe("site/porvoo") as events:
            stalled.set()
            await asyncio.to_thread(resume.wait, 10)  # a console whose link stopped reading
            try:
                async for _ in events:
                    pass
            except SubscriberDropped:
                return "dropped"

    slow = asyncio.run_coroutine_threadsafe(stall(), loop.loop)
    assert stalled.wait(5)
    heard: list[int] = []
    ready = threading.Event()

    async def keep_up():
        async with bus.subscribe("site/porvoo") as events:
            ready.set()
            async for event in events:
                heard.append(event["n"])

    brisk = asyncio.run_coroutine_threadsafe(keep_up(), loop.loop)
    assert ready.wait(5)
    for n in range(6):  # one at a time, each read before the next: this one keeps up
        bus.publish_threadsafe("site/porvoo", {"type": "call.pressed", "n": n})
        wait_for(lambda n=n: len(heard) == n + 1, 5, f"event {n} at the brisk subscriber")
    assert heard == list(range(6)) and not brisk.done()
    resume.set()
    assert slow.result(10) == "dropped"
    assert bus.counts["slow_dropped"] == 1
    brisk.cancel()


def test_a_malformed_live_message_is_counted_and_dropped_and_the_next_one_arrives(
        start_bus, broker):
    bus, loop = start_bus()
    listener = _listening(loop, bus, ["site/porvoo"], 1)
    raw = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2)
    raw.connect("127.0.0.1", broker.port)
    raw.loop_start()
    for junk in (b"not json", b"[1, 2]", b"\xff\xfe"):
        raw.publish(f"{LIVE_ROOT}/site/porvoo", junk, qos=1).wait_for_publish(5)
    bus.publish_threadsafe("site/porvoo", {"type": "call.pressed", "n": 1})
    assert [e["n"] for e in listener.result(10)] == [1]
    assert bus.counts["malformed"] == 3
    raw.loop_stop()
    raw.disconnect()


def test_losing_the_broker_ends_every_subscription_so_consoles_start_again_from_a_snapshot(
        start_bus, broker):
    bus, loop = start_bus()

    async def wait_end():
        async with bus.subscribe("site/porvoo", "site/imatra") as events:
            ready.set()
            try:
                async for _ in events:
                    pass
            except SubscriberDropped:
                return "dropped"

    ready = threading.Event()
    ending = asyncio.run_coroutine_threadsafe(wait_end(), loop.loop)
    assert ready.wait(5)
    broker.restart()
    assert ending.result(20) == "dropped"
    assert bus.counts["link_dropped"] == 1
    assert bus.wait_connected(20), "the bus did not reconnect"
