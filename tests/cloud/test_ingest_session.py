"""The ingest's persistent session on the production broker settings: what rooms publish while
the ingest is away, across a broker restart or crash, reaches the twin without any resend."""
from __future__ import annotations

import signal
import time

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


@pytest.fixture
def room(production_broker):
    """A room that publishes QoS 1 events and never answers a resend request (a plain client:
    paho reconnects it after a broker restart)."""
    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv311,
                         client_id="room-without-resends", clean_session=False)
    client.max_queued_messages_set(0)
    client.reconnect_delay_set(0.05, 0.2)
    client.connect("127.0.0.1", production_broker.port)
    client.loop_start()
    yield client
    client.disconnect()
    client.loop_stop()


def publish_events(room: mqtt.Client, prefix: str, count: int) -> list[str]:
    """Publish ``count`` button presses and wait until the broker acknowledged each."""
    ids = [f"{prefix}-{i:06d}" for i in range(count)]
    for seq, event_id in enumerate(ids):
        payload = orjson.dumps({"v": 1, "ts": T0 + seq, "seq": seq, "id": event_id,
                                "data": {"type": "button_press"}, "synced": True})
        deadline = time.monotonic() + 10
        while True:  # the room reconnects after a restart; a publish before that is refused
            info = room.publish("etp/v1/porvoo/r1/callbutton/event", payload, qos=1)
            if info.rc == mqtt.MQTT_ERR_SUCCESS:
                break
            assert time.monotonic() < deadline, "the room did not reconnect"
            time.sleep(0.05)
        info.wait_for_publish(10)
        assert info.is_published(), f"{event_id} not acknowledged by the broker"
    return ids


def stored_ids(twin) -> set[str]:
    return {row[0] for row in twin("SELECT id FROM twin_event")}


@pytest.fixture
def ingest(production_broker, database_url, tmp_path, start_worker):
    """Start the ingest worker (its fixed client id each time) on the production broker;
    ``group=None`` subscribes alone, as a single worker may."""
    settings = CloudSettings(database_url=database_url, broker_url=production_broker.url,
                             spool_file=tmp_path / "spool.sqlite")
    return lambda group="ingest": start_worker(settings.model_copy(
        update={"ingest_group": group}))


def saved_after(broker, moment: float) -> bool:
    database = broker.workdir / "mosquitto.db"
    return database.exists() and database.stat().st_mtime > moment


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
    wait_for(lambda: saved_after(production_broker, published), 10, "the broker's autosave")
    production_broker.stop(signal.SIGKILL)  # no save on the way down
    production_broker.start()
    ingest()
    wait_for(lambda: stored_ids(twin) == set(away), 30, "every acknowledged event in the twin")


def test_a_single_ingest_misses_nothing_published_between_a_broker_crash_and_its_return(
        production_broker, room, ingest, twin):
    # Mosquitto 2.0 does not save shared subscriptions (docs/operations.md): only a worker
    # subscribed alone has its subscription back before it reconnects
    worker = ingest(group=None)
    connected = time.time()
    wait_for(lambda: saved_after(production_broker, connected), 10, "the broker's autosave")
    production_broker.stop(signal.SIGKILL)
    worker.stop()  # still reconnecting while the rooms are back
    production_broker.start()
    back = publish_events(room, "back", 200)
    ingest(group=None)
    wait_for(lambda: stored_ids(twin) == set(back), 30,
             "every event acknowledged while the ingest was away")
