"""The ingest's persistent session on the production broker settings: what rooms publish while
the ingest is away, across a broker restart or crash, reaches the twin without any resend."""
from __future__ import annotations

import signal
import time
from collections import Counter

import orjson
import paho.mqtt.client as mqtt
import pytest

from cloud.settings import CloudSettings
from provisioning.broker import persistence, queue_bounds
from tests.servers import wait_for

T0 = 1764500000000


@pytest.fixture
def production_broker(broker_factory):
    """Mosquitto with the fleet's queue bounds and persistence, saving every second (the
    production interval is longer; what is saved is the same)."""
    return broker_factory("production", extra_config=[*queue_bounds(),
                                                      *persistence(autosave_s=1)]).start()


def room_client(broker, site: str, room: str) -> mqtt.Client:
    """A room that publishes QoS 1 events and never answers a resend request (a plain client:
    paho reconnects it after a broker restart)."""
    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv311,
                         client_id=f"room-{site}-{room}-without-resends", clean_session=False)
    client.max_queued_messages_set(0)
    client.reconnect_delay_set(0.05, 0.2)
    client.user_data_set(f"etp/v1/{site}/{room}/callbutton/event")  # where it publishes
    client.connect("127.0.0.1", broker.port)
    client.loop_start()
    return client


@pytest.fixture
def room(production_broker):
    """Porvoo's room."""
    client = room_client(production_broker, "porvoo", "r1")
    yield client
    client.disconnect()
    client.loop_stop()


@pytest.fixture
def rooms(production_broker):
    """A room at each of the three sites: two of them of partition 0/2, one of 1/2."""
    clients = [room_client(production_broker, site, "r1")
               for site in ("porvoo", "imatra", "nurmes")]
    yield clients
    for client in clients:
        client.disconnect()
        client.loop_stop()


def publish_events(room: mqtt.Client, prefix: str, count: int) -> list[str]:
    """Publish ``count`` button presses once each (after a broker restart, once the room is
    back) and wait until the broker acknowledged each."""
    wait_for(room.is_connected, 10, "the room (re)connected")
    ids = [f"{prefix}-{i:06d}" for i in range(count)]
    for seq, event_id in enumerate(ids):
        payload = orjson.dumps({"v": 1, "ts": T0 + seq, "seq": seq, "id": event_id,
                                "data": {"type": "button_press"}, "synced": True})
        info = room.publish(room.user_data_get(), payload, qos=1)
        assert info.rc == mqtt.MQTT_ERR_SUCCESS, f"{event_id} not sent"
        info.wait_for_publish(10)
        assert info.is_published(), f"{event_id} not acknowledged by the broker"
    return ids


def publish_from_every_room(rooms: list[mqtt.Client], prefix: str, count: int) -> list[str]:
    """``count`` presses in each room, ids naming the room's site."""
    return [event_id for room in rooms
            for event_id in publish_events(room, f"{prefix}-{site_of(room)}", count)]


def site_of(room: mqtt.Client) -> str:
    return room.user_data_get().split("/")[2]


def stored_ids(twin) -> set[str]:
    return {row[0] for row in twin("SELECT id FROM twin_event")}


@pytest.fixture
def ingest(production_broker, database_url, tmp_path, start_worker):
    """Start the ingest worker of a partition (its fixed client id each time) on the
    production broker; ``on_commit`` sees what it committed."""
    settings = CloudSettings(database_url=database_url, broker_url=production_broker.url,
                             spool_file=tmp_path / "spool.sqlite")

    def start(partition: str = "0/1", on_commit=None):
        name = f"ingest-{partition.replace('/', '-of-')}"
        return start_worker(settings.model_copy(update={
            "ingest_partition": partition, "ingest_name": name,
            "spool_file": tmp_path / f"{name}-spool.sqlite"}), on_commit=on_commit)

    return start


def test_events_queued_for_the_away_ingest_survive_a_graceful_broker_restart(
        production_broker, room, ingest, twin):
    ingest().stop()  # the session and its queue stay with the broker
    away = publish_events(room, "away", 200)
    production_broker.stop(signal.SIGTERM)  # what `systemctl restart` sends
    production_broker.start()
    ingest()
    wait_for(lambda: stored_ids(twin) == set(away), 30, "every acknowledged event in the twin")


def test_events_queued_for_the_away_ingest_survive_a_broker_crash_after_an_autosave(
        production_broker, room, ingest, twin):
    ingest().stop()
    away = publish_events(room, "away", 200)
    published = time.time()
    wait_for(lambda: production_broker.saved_after(published), 10, "the broker's autosave")
    production_broker.stop(signal.SIGKILL)  # no save on the way down
    production_broker.start()
    ingest()
    wait_for(lambda: stored_ids(twin) == set(away), 30, "every acknowledged event in the twin")


def test_a_single_ingest_misses_nothing_published_between_a_broker_crash_and_its_return(
        production_broker, room, ingest, twin):
    # the worker's plain subscription is saved with its session (Mosquitto 2.0 saves no shared
    # one): the broker queues for it before it reconnects
    worker = ingest()
    connected = time.time()
    wait_for(lambda: production_broker.saved_after(connected), 10, "the broker's autosave")
    production_broker.stop(signal.SIGKILL)
    worker.stop()  # still reconnecting while the rooms are back
    production_broker.start()
    back = publish_events(room, "back", 200)
    ingest()
    wait_for(lambda: stored_ids(twin) == set(back), 30,
             "every event acknowledged while the ingest was away")


@pytest.mark.parametrize("stop", [signal.SIGTERM, signal.SIGKILL], ids=["term", "kill"])
def test_two_partitioned_workers_get_every_sites_events_once_across_a_broker_restart(
        production_broker, rooms, ingest, twin, stop):
    heard: dict[str, Counter] = {"0/2": Counter(), "1/2": Counter()}

    def start_both() -> list:
        return [ingest(partition, on_commit=lambda accepted, _at, seen=heard[partition]:
                       seen.update(a.message.topic.site for a in accepted))
                for partition in heard]

    workers = start_both()
    sent = publish_from_every_room(rooms, "live", 50)
    wait_for(lambda: stored_ids(twin) == set(sent), 30, "the live events in the twin")
    for worker in workers:
        worker.stop()  # the sessions and their queues stay with the broker
    sent += publish_from_every_room(rooms, "away", 100)
    published = time.time()
    if stop == signal.SIGKILL:  # no save on the way down: the last autosave is what counts
        wait_for(lambda: production_broker.saved_after(published), 10, "the broker's autosave")
    production_broker.stop(stop)
    production_broker.start()
    # before any worker is back: only the sessions the broker restored can queue these
    sent += publish_from_every_room(rooms, "back", 100)
    start_both()
    wait_for(lambda: stored_ids(twin) == set(sent), 30, "every acknowledged event in the twin")
    assert twin("SELECT count(*) FROM twin_event") == [(len(sent),)]
    # a worker tells its on_commit after the commit: the twin may show a batch first
    wait_for(lambda: sum(sum(seen.values()) for seen in heard.values()) >= len(sent), 10,
             "the workers' own count of what they committed")
    assert sum(sum(seen.values()) for seen in heard.values()) == len(sent)  # none twice
    assert {partition: set(seen) for partition, seen in heard.items()} == {
        "0/2": {"porvoo", "nurmes"}, "1/2": {"imatra"}}  # each site to one worker


def session_present(broker, client_id: str) -> bool:
    """Whether the broker holds a session for ``client_id`` (a persistent connection keeps
    it as it is)."""
    found: list[bool] = []
    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv311,
                         client_id=client_id, clean_session=False)
    client.on_connect = lambda _c, _u, flags, _r, _p: found.append(flags.session_present)
    client.connect("127.0.0.1", broker.port)
    client.loop_start()
    try:
        wait_for(lambda: found, 10, "CONNACK")
    finally:
        client.disconnect()
        client.loop_stop()
    return found[0]


def test_retiring_a_former_partition_removes_its_session_from_the_broker(
        production_broker, ingest):
    from click.testing import CliRunner

    from cloud.cli import cloud

    for partition in ("0/2", "1/2"):
        ingest(partition).stop()
    assert session_present(production_broker, "ingest-0-of-2")
    result = CliRunner().invoke(cloud, ["ingest-retire", "0/2"],
                                env={"ETP_BROKER_URL": production_broker.url})
    assert result.exit_code == 0, result.output
    assert not session_present(production_broker, "ingest-0-of-2")
    assert session_present(production_broker, "ingest-1-of-2")  # the other left alone


def test_a_worker_back_in_its_kept_session_gets_what_was_queued_and_not_every_retained_again(
        production_broker, room, ingest, twin):
    # the fleet's retained state: at 10,000 rooms 50,000 births and health messages that a
    # second subscription would make the broker send again after every restart
    health = orjson.dumps({"v": 1, "ts": T0, "seq": 1, "state": "ok"})
    room.publish("etp/v1/porvoo/r1/doccam/health", health, qos=1, retain=True).wait_for_publish(10)
    heard: list[tuple[str, bool]] = []
    worker = ingest(on_commit=lambda accepted, _at: heard.extend(
        (a.message.topic.kind, a.retained) for a in accepted))
    wait_for(lambda: ("health", True) in heard, 10, "the retained health at the first subscribe")
    production_broker.stop(signal.SIGTERM)  # the worker keeps running and comes back by itself
    wait_for(lambda: not worker.connected.is_set(), 10, "the worker saw the broker go")
    heard.clear()
    production_broker.start()
    wait_for(worker.connected.is_set, 10, "the worker back and receiving")
    # anything its return made the broker send is queued ahead of these
    back = publish_events(room, "back", 20)
    wait_for(lambda: stored_ids(twin) == set(back), 30, "the events after the restart")
    assert Counter(heard) == {("event", False): len(back)}  # nothing retained again
