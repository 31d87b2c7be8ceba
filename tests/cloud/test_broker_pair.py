"""The broker pair: two Mosquitto hosts with production's queue bounds, every client given
both in the same order. The active one is killed (SIGKILL: no Last Will, no saved state)
while the rooms send events; the agents, the ingest and the live bus move to the standby by
themselves. With a plain active/standby pair nothing retained is shared, so the twin comes
back from the agents' births on the new broker, and what the dead broker acknowledged but
never passed on comes back from the agents' own resend after the move."""
from __future__ import annotations

import signal
import threading

import orjson

from cloud.commands import command
from cloud.live.bus import LiveBus
from cloud.settings import CloudSettings
from edge.agent import Agent
from edge.config import simulated_config
from provisioning.broker import queue_bounds
from tests.servers import wait_for

ROOMS = [("porvoo", "r1"), ("imatra", "r1"), ("nurmes", "r1")]


def presence(twin) -> dict[tuple[str, str], tuple[bool, int]]:
    """(site, room) -> (online, connection generation) as the twin holds it."""
    return {(s, r): (bool(online), gen) for s, r, online, gen in
            twin("select site, room, online, gen from twin_agent")}


def stored_events(twin) -> set[str]:
    return {row[0] for row in twin("select id from twin_event")}


def start_agents(tmp_path, pair: str) -> list[Agent]:
    """The rooms' agents on the pair. They move later than the cloud (a spread of 1.5 s, the
    ingest's is a quarter second), so the ingest's own resend request after its move reaches
    no room: what the dead broker held comes back only from the agents' resend of their own."""
    return [Agent(simulated_config(site, room, outbox_path=tmp_path / f"{site}-{room}.sqlite",
                                   broker_url=pair, keepalive_s=5, health_s=3600,
                                   telemetry_s=3600, synchronous="NORMAL",
                                   reconnect_min_s=1.5, reconnect_max_s=3)).start()
            for site, room in ROOMS]


def test_killing_the_active_broker_under_load_loses_no_event_and_the_cloud_follows_the_rooms(
        broker_factory, database_url, tmp_path, twin, start_worker):
    # production's bounds, with fewer messages in flight to a client: the backlog below then
    # waits in the broker's queue (dying with it), not in the ingest's socket buffer
    bounds = [*queue_bounds(), "max_inflight_messages 100"]
    active = broker_factory("active", extra_config=bounds).start()
    standby = broker_factory("standby", extra_config=bounds).start()
    pair = f"{active.url},{standby.url}"
    settings = CloudSettings(database_url=database_url, broker_url=pair,
                             spool_file=tmp_path / "spool.sqlite")
    worker = start_worker(settings)
    behind = threading.Event()  # the ingest behind on a backlog: the broker holds its queue
    worker._client.reading_paused = behind.is_set
    agents = start_agents(tmp_path, pair)
    assert all(agent.wait_connected(10) for agent in agents)
    wait_for(lambda: all(presence(twin).get(room, (False,))[0] for room in ROOMS), 10,
             "every room online in the twin")
    before = presence(twin)
    bus = LiveBus(settings, listen=False).start()
    assert bus.wait_connected(10)

    ids: list[str] = []
    sending = threading.Event()

    def load() -> None:  # a press a room every 20 ms, across the kill
        while not sending.wait(0.02):
            ids.extend(agent.emit_event("callbutton", {"type": "button_press"})
                       for agent in agents)

    loader = threading.Thread(target=load, daemon=True)
    loader.start()
    try:
        wait_for(lambda: len(stored_events(twin)) >= 30, 10, "events flowing")
        behind.set()
        acknowledged = len(ids)  # accepted by the active broker, queued there for the ingest
        wait_for(lambda: len(ids) > acknowledged + 300 and all(
            len(a.outbox) == 0 or a.link.inflight for a in agents), 10, "a backlog queued")
        active.stop(signal.SIGKILL)
        behind.clear()
        wait_for(lambda: all(a.link.broker[1] == standby.port and a.connected for a in agents),
                 10, "every agent online on the standby")
        count = len(ids)
        wait_for(lambda: len(ids) > count + 30, 10, "events sent through the standby")
    finally:
        sending.set()
        loader.join(5)

    # the twin shows every room online again, from the births of the new connections
    wait_for(lambda: all(online and gen > before[room][1]
                         for room, (online, gen) in presence(twin).items()), 10,
             "every room online again from its birth on the standby")
    # every event an agent accepted reaches the twin, once
    wait_for(lambda: set(ids) <= stored_events(twin), 30, "every accepted event stored")
    assert len(twin("select id from twin_event")) == len(set(ids))

    # a command from the console (the API's live bus) reaches the room through the standby
    assert bus.wait_connected(10)
    _, topic, payload = command("porvoo", "r1", "agent", "inject_fault", fault="unplugged")
    payload = orjson.dumps({**orjson.loads(payload), "args": {"device": "doccam",
                                                              "fault": "unplugged"}})
    assert bus.send_confirmed(topic, payload, timeout=5)
    wait_for(lambda: twin("select state, code from twin_device where site='porvoo' and "
                          "room='r1' and device='doccam'") == [("missing", "unplugged")], 10,
             "the room's camera fault reported back through the standby")
    bus.stop()
    for agent in agents:
        agent.stop()
