"""The room agent against a real Mosquitto: presence, commands, health, delivery through
network cuts and restarts."""
from __future__ import annotations

import json
import time
import uuid

import pytest

import etapalvelu
from edge.adapters import AdapterError
from protocol.codec import encode
from protocol.payloads import Command
from provisioning.broker import password_entry
from provisioning.settings import FleetSettings
from tests.edge.conftest import Subscriber
from tests.netfault import TcpProxy
from tests.servers import free_port, wait_for


def command(subscriber: Subscriber, name: str, **args) -> str:
    """Publish a command to porvoo/r1's agent; return its id."""
    command_id = f"cmd-{uuid.uuid4().hex[:12]}"
    payload = encode(Command(ts=int(time.time() * 1000), seq=1, id=command_id, args=args))
    subscriber.publish(f"etp/v1/porvoo/r1/agent/cmd/{name}", payload)
    return command_id


def ack_of(subscriber: Subscriber, command_id: str, timeout: float = 5.0) -> dict:
    subscriber.wait(lambda s: any(m.payload["id"] == command_id
                                  for m in s.received("agent", "ack")), timeout, "the ack")
    return next(m.payload for m in subscriber.received("agent", "ack")
                if m.payload["id"] == command_id)


def test_agent_announces_itself_online_retained_with_its_version(broker, make_agent):
    agent = make_agent(broker.url)
    assert agent.wait_connected(10)
    late = Subscriber(broker.port)  # subscribes after the birth: gets the retained copy
    try:
        late.wait(lambda s: s.statuses() == ["online"], 5, "retained online status")
        status = late.received("agent", "status")[0]
        assert status.retain and status.payload["version"] == etapalvelu.__version__
    finally:
        late.close()


def test_clean_stop_leaves_offline_retained(broker, subscriber, make_agent):
    agent = make_agent(broker.url)
    subscriber.wait(lambda s: s.statuses() == ["online"], 10, "online")
    agent.stop()
    subscriber.wait(lambda s: s.statuses() == ["online", "offline"], 5, "offline")
    late = Subscriber(broker.port)
    try:
        late.wait(lambda s: s.statuses() == ["offline"], 5, "retained offline status")
        assert late.received("agent", "status")[0].retain
    finally:
        late.close()


def test_health_is_retained_events_are_qos1_and_live_telemetry_qos0(broker, subscriber, make_agent):
    agent = make_agent(broker.url, telemetry_s=3600)
    assert agent.wait_connected(10)
    subscriber.wait(lambda s: len(s.received(kind="telemetry")) == 6, 10, "start-up telemetry")
    agent.inject_fault("callbutton", "press")
    agent.publish_telemetry()  # while online: live
    subscriber.wait(lambda s: s.received("callbutton", "event")
                    and len(s.received(kind="telemetry")) == 12
                    and len(s.received(kind="health")) >= 6, 10, "health, telemetry, an event")
    assert {m.qos for m in subscriber.received(kind="event")} == {1}
    assert {m.qos for m in subscriber.received(kind="health")} == {1}
    assert {m.qos for m in subscriber.received(kind="telemetry")[6:]} == {0}
    late = Subscriber(broker.port)
    try:
        # one retained health per device; a device's later change may also arrive live
        late.wait(lambda s: len({m.topic.device for m in s.received(kind="health")
                                 if m.retain}) == 6, 5, "retained health")
        assert len([m for m in late.received(kind="health") if m.retain]) == 6
        assert not late.received(kind="event") and not late.received(kind="telemetry")
    finally:
        late.close()
    wait_for(lambda: len(agent.outbox) == 0, 5, "an empty outbox")


def test_telemetry_buffered_while_offline_is_replayed_at_qos1_then_live_again_at_qos0(
        broker, subscriber, make_agent):
    def points():  # seq -> QoS of the last copy (QoS 1 is at least once)
        return {m.payload["seq"]: m.qos for m in subscriber.received("agent", "telemetry")}

    with TcpProxy(broker.port) as proxy:
        agent = make_agent(f"mqtt://127.0.0.1:{proxy.port}")
        assert agent.wait_connected(10)
        subscriber.wait(lambda s: len(points()) == 1, 10, "the start-up point")
        proxy.cut()
        wait_for(lambda: not agent.connected, 10, "the agent noticing the loss")
        for _ in range(20):
            agent.publish_telemetry()
        buffered = agent.outbox.last_seq("agent")
        proxy.restore()
        subscriber.wait(lambda s: buffered in points(), 15, "the backlog")
        agent.publish_telemetry()
        subscriber.wait(lambda s: len(points()) == 22, 10, "a live point")
    qos = points()
    assert [qos[seq] for seq in sorted(qos)][1:21] == [1] * 20  # paced by the in-flight window
    assert qos[max(qos)] == 0


def test_agent_whose_command_subscription_is_refused_never_announces_online(
        broker_factory, make_agent, tmp_path):
    # Mosquitto's dynamic security refuses a subscription in the SUBACK; this agent may
    # publish everything but subscribe to nothing
    roles = [{"rolename": "agent", "acls": [{"acltype": "publishClientSend", "topic": "etp/v1/#",
                                             "priority": 0, "allow": True}]},
             {"rolename": "watcher", "acls": [{"acltype": "subscribePattern", "topic": "etp/#",
                                               "priority": 0, "allow": True}]}]
    dynsec = {"defaultACLAccess": {"publishClientSend": False, "publishClientReceive": True,
                                   "subscribe": False, "unsubscribe": True},
              "clients": [{"username": name, "roles": [{"rolename": name}],
                           **password_entry(f"{name}-secret")} for name in ("agent", "watcher")],
              "groups": [], "roles": roles}
    (tmp_path / "dynsec.json").write_text(json.dumps(dynsec))
    broker = broker_factory(extra_config=[
        f"plugin {FleetSettings().dynsec_plugin}",
        f"plugin_opt_config_file {tmp_path / 'dynsec.json'}"]).start()
    agent = make_agent(broker.url, username="agent", password="agent-secret")
    wait_for(lambda: agent.link.connects >= 2, 15, "the refused agent trying again")
    assert not agent.connected
    watcher = Subscriber(broker.port, username="watcher", password="watcher-secret")
    try:  # the retained status is the Last Will of a dropped connection, never a birth
        watcher.wait(lambda s: s.statuses() == ["offline"], 5, "the retained Last Will")
    finally:
        watcher.close()
    assert agent.link.connects >= 2 and not agent.connected


def test_ping_is_acked_with_the_command_id(broker, subscriber, make_agent):
    assert make_agent(broker.url).wait_connected(10)
    command_id = command(subscriber, "ping")
    ack = ack_of(subscriber, command_id)
    assert ack["ok"] is True and ack["cmd"] == "ping"


def test_restart_device_goes_through_the_adapter_and_reports_the_result(
        broker, subscriber, make_agent):
    agent = make_agent(broker.url)
    assert agent.wait_connected(10)
    agent.inject_fault("doccam", "frozen")
    ack = ack_of(subscriber, command(subscriber, "restart_device", device="doccam"))
    assert ack["ok"] is True and "frozen" in ack["detail"]
    assert agent.adapters["doccam"].restarts == 1
    agent.inject_fault("doccam", "unplugged")  # a restart cannot plug a cable back in
    ack = ack_of(subscriber, command(subscriber, "restart_device", device="doccam"))
    assert ack["ok"] is False and "unplugged" in ack["detail"]
    ack = ack_of(subscriber, command(subscriber, "restart_device", device="toaster"))
    assert ack == {**ack, "ok": False, "cmd": "restart_device"} and "not found" in ack["detail"]


def test_inject_fault_command_sends_the_new_health_at_once(broker, subscriber, make_agent):
    assert make_agent(broker.url).wait_connected(10)
    ack = ack_of(subscriber, command(subscriber, "inject_fault", device="doccam",
                                     fault="unplugged"))
    assert ack["ok"] is True
    subscriber.wait(lambda s: any(m.payload.get("code") == "unplugged"
                                  for m in s.received("doccam", "health")), 5, "doccam missing")
    health = subscriber.received("doccam", "health")[-1].payload
    assert health["state"] == "missing"
    ack = ack_of(subscriber, command(subscriber, "inject_fault", device="doccam", fault="melt"))
    assert ack["ok"] is False and "unknown fault" in ack["detail"]


def test_unknown_commands_are_refused_and_repeated_ids_are_not_run_twice(
        broker, subscriber, make_agent):
    agent = make_agent(broker.url)
    assert agent.wait_connected(10)
    ack = ack_of(subscriber, command(subscriber, "self_destruct"))
    assert ack["ok"] is False and "unknown command" in ack["detail"]
    payload = encode(Command(ts=1, seq=1, id="cmd-repeated-1", args={"device": "doccam"}))
    for _ in range(2):  # a QoS 1 redelivery carries the same id
        subscriber.publish("etp/v1/porvoo/r1/agent/cmd/restart_device", payload)
    subscriber.wait(lambda s: len([m for m in s.received("agent", "ack")
                                   if m.payload["id"] == "cmd-repeated-1"]) == 2, 5, "two acks")
    assert agent.adapters["doccam"].restarts == 1


def test_in_process_fault_injection_refuses_unknown_devices(broker, make_agent):
    agent = make_agent(broker.url)
    with pytest.raises(AdapterError, match="not found"):
        agent.inject_fault("toaster", "burnt")


@pytest.mark.parametrize("fault", ["cut", "blackhole"])
def test_cut_off_agent_delivers_everything_buffered_in_order_without_duplicates(
        broker, subscriber, make_agent, fault):
    with TcpProxy(broker.port) as proxy:
        agent = make_agent(f"mqtt://127.0.0.1:{proxy.port}", keepalive_s=2)
        assert agent.wait_connected(10)
        getattr(proxy, fault)()
        ids = []
        for n in range(300):
            ids.append(agent.emit_event("callbutton", {"type": "button_press"}))
            ids.append(agent.emit_event("occupancy", {"type": "occupancy", "occupied": n % 2 == 0}))
        agent.publish_telemetry()
        agent.publish_health()
        wait_for(lambda: not agent.connected, 15, "the agent to notice the cut")
        assert len(agent.outbox) >= 600
        started = time.monotonic()
        proxy.restore()
        subscriber.wait(lambda s: len(s.received(kind="event")) >= len(ids), 30, "all events")
        elapsed = time.monotonic() - started
        wait_for(lambda: len(agent.outbox) == 0, 10, "an empty outbox")
    events = subscriber.received(kind="event")
    assert sorted(m.payload["id"] for m in events) == sorted(ids)  # all, and no duplicates
    for device in ("callbutton", "occupancy"):
        seqs = [m.payload["seq"] for m in events if m.topic.device == device]
        assert seqs == sorted(seqs) and len(set(seqs)) == len(seqs)
    assert subscriber.received("occupancy", "telemetry")
    print(f"{fault}: {len(ids)} buffered events delivered {elapsed:.2f}s after restore")


def test_restarted_agent_replays_its_outbox_and_continues_its_sequence(
        broker, subscriber, make_agent):
    nowhere = f"mqtt://127.0.0.1:{free_port()}"
    first = make_agent(nowhere)
    ids = [first.emit_event("callbutton", {"type": "button_press"}) for _ in range(50)]
    first.stop()
    second = make_agent(broker.url)  # same outbox file
    assert second.wait_connected(10)
    late_id = second.emit_event("callbutton", {"type": "button_press"})
    subscriber.wait(lambda s: len(s.received("callbutton", "event")) == 51, 10, "51 events")
    events = subscriber.received("callbutton", "event")
    assert [m.payload["id"] for m in events] == ids + [late_id]
    # health and telemetry of both runs included, the device's sequence has no gap or repeat
    seqs = sorted(m.payload["seq"] for m in subscriber.received("callbutton"))
    assert seqs == list(range(len(seqs)))
    assert events[-1].payload["seq"] == seqs[-1] > events[-2].payload["seq"]


def test_many_agents_run_in_one_process_with_one_thread_each(broker, subscriber, make_agent):
    import threading

    before = threading.active_count()
    agents = [make_agent(broker.url, room=f"r{n}", outbox=f"o{n}.sqlite") for n in range(5)]
    assert all(agent.wait_connected(10) for agent in agents)
    assert threading.active_count() - before == 5
    for agent in agents:
        agent.inject_fault("callbutton", "press")
    subscriber.wait(lambda s: len(s.received("callbutton", "event")) == 5, 10, "five presses")
    assert {m.topic.room for m in subscriber.received("callbutton", "event")} == {
        f"r{n}" for n in range(5)}


def test_reconnect_backoff_grows_to_its_cap_with_jitter():
    from edge.mqtt import backoff_delay

    lows = [backoff_delay(n, 0.5, 30.0, rand=lambda: 0.0) for n in range(10)]
    highs = [backoff_delay(n, 0.5, 30.0, rand=lambda: 1.0) for n in range(10)]
    assert highs == [0.5, 1.0, 2.0, 4.0, 8.0, 16.0, 30.0, 30.0, 30.0, 30.0]
    assert lows == [0.5, 0.5, 1.0, 2.0, 4.0, 8.0, 15.0, 15.0, 15.0, 15.0]


@pytest.mark.soak
def test_agent_cut_off_for_minutes_delivers_its_whole_backlog(broker, subscriber, make_agent):
    with TcpProxy(broker.port) as proxy:
        agent = make_agent(f"mqtt://127.0.0.1:{proxy.port}", keepalive_s=5, health_s=1,
                           telemetry_s=1, reconnect_max_s=30)
        assert agent.wait_connected(10)
        proxy.cut()
        ids = []
        deadline = time.monotonic() + 120  # two minutes off the network, a press every 10 ms
        while time.monotonic() < deadline:
            ids.append(agent.emit_event("callbutton", {"type": "button_press"}))
            time.sleep(0.01)
        proxy.restore()
        started = time.monotonic()
        subscriber.wait(lambda s: len(s.received("callbutton", "event")) >= len(ids), 120,
                        "the backlog")
        elapsed = time.monotonic() - started
    events = subscriber.received("callbutton", "event")
    assert [m.payload["id"] for m in events] == ids
    print(f"{len(ids)} events delivered in {elapsed:.1f}s after two minutes offline "
          f"(includes the reconnect backoff)")


def test_events_stored_in_one_batch_arrive_in_order(broker, subscriber, make_agent):
    agent = make_agent(broker.url, synchronous="NORMAL")
    presses = [{"type": "button_press"}, {"type": "button_cancel"}] * 500
    ids = agent.emit_events("callbutton", presses)
    subscriber.wait(lambda s: len(s.received("callbutton", "event")) == 1000, 15, "1000 events")
    events = subscriber.received("callbutton", "event")
    assert [m.payload["id"] for m in events] == ids
    assert [m.payload["data"] for m in events] == presses


def test_a_change_of_health_goes_out_within_seconds_not_one_health_interval(
        broker, subscriber, make_agent):
    agent = make_agent(broker.url, health_s=3600)
    subscriber.wait(lambda s: len(s.received(kind="health")) == 6, 10, "the first reports")
    agent.adapters["terminal"].inject("touch_failure")  # as a real device would fail: silently
    changed = time.monotonic()
    subscriber.wait(lambda s: s.received("terminal", "health")[-1].payload["state"] == "fault",
                    5, "the terminal's new health")
    assert time.monotonic() - changed < 3.5
    assert len(subscriber.received(kind="health")) == 7  # unchanged devices were not repeated


def test_full_outbox_of_an_offline_agent_drops_old_telemetry_but_delivers_every_event(
        broker, subscriber, make_agent):
    with TcpProxy(broker.port) as proxy:
        proxy.cut()
        # 64 KiB is the smallest bound a config allows
        agent = make_agent(f"mqtt://127.0.0.1:{proxy.port}", synchronous="NORMAL",
                           max_bytes=64 * 1024)
        ids = []
        for _ in range(150):  # about 150 kB of telemetry and events for a 64 KiB outbox
            agent.publish_telemetry()
            ids.append(agent.emit_event("callbutton", {"type": "button_press"}))
        assert agent.outbox.dropped > 0 and agent.outbox.bytes <= 64 * 1024
        proxy.restore()
        subscriber.wait(lambda s: len(s.received("callbutton", "event")) == len(ids), 15,
                        "every event")
        wait_for(lambda: len(agent.outbox) == 0, 10, "an empty outbox")
        dropped = agent.outbox.dropped
        agent.publish_telemetry()
        subscriber.wait(lambda s: any(m.payload["metrics"].get("outbox_dropped") == dropped
                                      for m in s.received("agent", "telemetry")), 5,
                        "the drop count reported")
    assert [m.payload["id"] for m in subscriber.received("callbutton", "event")] == ids
    seqs = [m.payload["seq"] for m in subscriber.received("doccam", "telemetry")]
    # only the newest points survived, in order: the oldest ones were dropped
    assert 0 < len(seqs) < 150 and min(seqs) > 1
    assert seqs == list(range(seqs[0], seqs[0] + len(seqs)))


def test_a_reading_outside_the_contract_is_skipped_without_a_gap_in_seq(
        broker, subscriber, make_agent):
    agent = make_agent(broker.url)
    subscriber.wait(lambda s: len(s.received("doccam")) == 2, 10, "doccam health, telemetry")
    agent.adapters["doccam"].read_telemetry = lambda: {"Bad Name": 1}
    agent.publish_telemetry()  # the doccam's point is refused by the contract, others go
    agent.inject_fault("doccam", "unplugged")
    subscriber.wait(lambda s: len(s.received("doccam")) == 3, 10, "the new doccam health")
    assert [m.payload["seq"] for m in subscriber.received("doccam")] == [0, 1, 2]
    assert agent.connected
