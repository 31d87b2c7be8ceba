"""Ingest against the real Mosquitto: drops counted by reason, twin kept, nothing lost."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import orjson
import pytest

from cloud.ingest.triage import RawMessage, triage
from protocol.codec import Rejected, decode
from protocol.vectors import load_vectors
from tests.servers import wait_for

T0 = 1764500000000


def health(seq: int, state: str = "ok", code: str | None = None) -> bytes:
    body = {"v": 1, "ts": T0 + seq, "seq": seq, "state": state}
    if code:
        body["code"] = code
    return orjson.dumps(body)


def event(seq: int, event_id: str) -> bytes:
    return orjson.dumps({"v": 1, "ts": T0 + seq, "seq": seq, "id": event_id,
                         "data": {"type": "button_press"}, "synced": True})


def test_every_vector_is_judged_by_ingest_as_by_the_protocol(registry):
    for vector in load_vectors():
        try:
            decode(vector.topic, vector.wire)
            expected = "accepted"
        except Rejected as rejected:
            expected = rejected.reason
        result = triage([RawMessage(vector.topic, vector.wire, 0)], registry.devices)
        if "/cmd/" in vector.topic and expected == "accepted":
            assert dict(result.counts) == {}, vector.name  # the cloud's own commands pass by
        else:
            assert dict(result.counts) == {expected: 1}, vector.name


def test_message_of_a_device_outside_the_registry_is_dropped_as_unknown(registry):
    result = triage([RawMessage("etp/v1/espoo/r9/terminal/health", health(1), 0)],
                    registry.devices)
    assert result.counts == {"unknown_device": 1} and not result.accepted


def test_health_and_events_reach_the_twin_and_a_replayed_event_is_stored_once(
        broker, cloud_settings, start_worker, publisher, twin):
    worker = start_worker(cloud_settings)
    topic = "etp/v1/porvoo/r1"
    publisher.publish(f"{topic}/doccam/health", health(1, "missing", "unplugged"), qos=1)
    for _ in range(3):  # QoS 1 redelivery and outbox replay look like this
        publisher.publish(f"{topic}/callbutton/event", event(2, "press-000000001"), qos=1)
    wait_for(lambda: worker.counts["accepted"] >= 4, 10, "four messages accepted")
    wait_for(lambda: twin("SELECT count(*) FROM twin_event")[0][0] == 1, 5, "event stored")
    assert twin("SELECT state, code FROM twin_device WHERE device='doccam'") == \
        [("missing", "unplugged")]
    assert worker.counts["duplicate_event"] == 2
    assert twin("SELECT duplicates FROM twin_device WHERE device='callbutton'") == [(2,)]
    assert twin("SELECT device, from_state, to_state, code FROM twin_transition") == \
        [("doccam", None, "missing", "unplugged")]


def test_older_health_arriving_late_does_not_overwrite_newer(
        broker, cloud_settings, start_worker, publisher, twin):
    worker = start_worker(cloud_settings)
    publisher.publish("etp/v1/imatra/r1/terminal/health", health(5, "fault", "touch_failure"), qos=1)
    wait_for(lambda: worker.counts["accepted"] == 1, 10, "first health")
    publisher.publish("etp/v1/imatra/r1/terminal/health", health(4, "ok"), qos=1)
    wait_for(lambda: worker.counts["accepted"] == 2, 10, "late health")
    assert twin("SELECT state FROM twin_device WHERE device='terminal'") == [("fault",)]


def test_sequence_gaps_are_counted_per_device(broker, cloud_settings, start_worker, publisher,
                                              twin):
    worker = start_worker(cloud_settings)
    for seq in (1, 2, 3, 7, 8):  # 4, 5, 6 never arrive
        publisher.publish("etp/v1/nurmes/r1/network/telemetry",
                          orjson.dumps({"v": 1, "ts": T0 + seq, "seq": seq,
                                        "metrics": {"rtt_ms": 12.5}}), qos=1)
    wait_for(lambda: worker.counts["accepted"] == 5, 10, "telemetry accepted")
    first, last, count = twin("SELECT seq_first, seq_last, seq_count FROM twin_device")[0]
    assert last - first + 1 - count == 3


def test_a_flood_of_bad_messages_from_one_room_is_counted_and_other_rooms_flow(
        broker, cloud_settings, start_worker, publisher, twin):
    worker = start_worker(cloud_settings)
    bad = [(b'{"v":1,"ts":', "malformed_json"), (b"x" * 5000, "size"),
           (health(1).replace(b'"v":1', b'"v":9'), "unknown_version"),
           (b'{"v":1,"ts":1,"seq":1,"state":"on fire"}', "schema")]
    for i in range(10_000):
        payload, _ = bad[i % len(bad)]
        publisher.publish("etp/v1/porvoo/r1/terminal/health", payload, qos=0)
        if i % 100 == 0:
            publisher.publish("etp/v1/imatra/r1/callbutton/event", event(i, f"imatra-{i:08d}"),
                              qos=1)
    publisher.publish("etp/v1/porvoo/r1/agent/health", b"\xff\xfe", qos=0)
    dropped = lambda: sum(v for k, v in worker.counts.items()  # noqa: E731
                          if k not in ("accepted", "duplicate_event"))
    wait_for(lambda: dropped() == 10_001 and worker.counts["accepted"] == 100, 60,
             "every bad message counted, every good one accepted")
    assert worker.counts["malformed_json"] == 2_501
    assert all(worker.counts[reason] == 2_500 for reason in ("size", "unknown_version", "schema"))
    assert twin("SELECT count(*) FROM twin_event WHERE site='imatra'") == [(100,)]
    wait_for(lambda: twin("SELECT sum(count) FROM ingest_counter WHERE outcome != 'accepted'")
             == [(10_001,)], 10, "counters saved for the API")


def test_broker_restart_amid_ten_thousand_qos1_events_loses_and_doubles_none(
        broker, cloud_settings, start_worker, start_agent, twin):
    worker = start_worker(cloud_settings)
    agent = start_agent("porvoo", "r1", broker.url)
    assert agent.wait_connected(10)
    ids = [agent.emit_event("callbutton", {"type": "button_press"}) for _ in range(5_000)]
    wait_for(lambda: worker.counts["accepted"] > 1_000, 30, "the stream flowing")
    broker.restart()
    ids += [agent.emit_event("callbutton", {"type": "button_press"}) for _ in range(5_000)]
    wait_for(lambda: twin("SELECT count(*) FROM twin_event")[0][0] >= 10_000, 120,
             "all ten thousand events in the twin")
    stored = [row[0] for row in twin("SELECT id FROM twin_event")]
    assert sorted(stored) == sorted(ids)


def test_agent_killed_with_sigkill_is_marked_offline_within_one_and_a_half_keepalives(
        broker, cloud_settings, start_worker, tmp_path, twin):
    keepalive = 2
    start_worker(cloud_settings)
    config = tmp_path / "agent.yaml"
    config.write_text(f"""
site: nurmes
room: r1
broker: {{url: "{broker.url}", keepalive_s: {keepalive}}}
outbox: {{path: "{tmp_path / 'outbox.sqlite'}"}}
devices: [{{type: agent}}, {{type: terminal}}]
""")
    agent = subprocess.Popen([sys.executable, "-m", "etapalvelu.cli", "edge", "run",
                              "--config", str(config)], start_new_session=True,
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_for(lambda: twin("SELECT online FROM twin_agent") == [(1,)], 20, "agent online")
        killed = time.monotonic()
        os.kill(agent.pid, signal.SIGKILL)
        wait_for(lambda: twin("SELECT online FROM twin_agent") == [(0,)], 30, "agent offline")
        assert time.monotonic() - killed <= 1.5 * keepalive + 2
        assert twin("SELECT to_state FROM twin_transition WHERE device='agent' "
                    "AND to_state IN ('online', 'offline') ORDER BY id") == \
            [("online",), ("offline",)]
    finally:
        agent.kill()
        agent.wait()


def test_two_workers_on_the_shared_subscription_split_the_load_and_lose_nothing(
        broker, cloud_settings, start_worker, publisher, twin):
    first = start_worker(cloud_settings.model_copy(update={"ingest_name": "ingest-a"}))
    second = start_worker(cloud_settings.model_copy(update={"ingest_name": "ingest-b"}))
    for i in range(2_000):
        publisher.publish("etp/v1/porvoo/r1/callbutton/event", event(i, f"split-{i:08d}"), qos=1)
    wait_for(lambda: twin("SELECT count(*) FROM twin_event")[0][0] == 2_000
             and first.counts["accepted"] + second.counts["accepted"] == 2_000, 30,
             "all events stored, each counted once")
    assert min(first.counts["accepted"], second.counts["accepted"]) > 400


@pytest.mark.postgres
def test_ingest_keeps_the_twin_on_postgresql(broker, postgres, registry, start_worker, publisher,
                                             tmp_path):
    from sqlalchemy import text

    from cloud.db import make_engine, migrate
    from cloud.settings import CloudSettings

    url = postgres.create_database("ingest_twin")
    migrate(url)
    worker = start_worker(CloudSettings(database_url=url, broker_url=broker.url,
                                        spool_file=tmp_path / "spool.sqlite"))
    publisher.publish("etp/v1/imatra/r1/doccam/health", health(3, "fault", "usb_error"), qos=1)
    publisher.publish("etp/v1/imatra/r1/doccam/health", health(2, "ok"), qos=1)  # late, older
    for _ in range(2):
        publisher.publish("etp/v1/imatra/r1/callbutton/event", event(4, "press-pg-0001"), qos=1)
    wait_for(lambda: worker.counts["accepted"] == 4, 10, "messages accepted")
    engine = make_engine(url)
    with engine.connect() as conn:
        assert conn.execute(text("SELECT state, code FROM twin_device WHERE device='doccam'")
                            ).all() == [("fault", "usb_error")]
        assert conn.execute(text("SELECT count(*) FROM twin_event")).scalar() == 1
        assert conn.execute(text("SELECT duplicates FROM twin_device WHERE device='callbutton'")
                            ).scalar() == 1
    engine.dispose()
