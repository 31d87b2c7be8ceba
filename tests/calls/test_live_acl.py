"""The live tree on the fleet's broker (generated dynamic-security ACLs, mutual TLS): the
cloud's identities publish and the API replicas read the consoles' events; no room identity
may publish there (a forged alert) or read them."""
from __future__ import annotations

from tests.fleet.conftest import close, fleet, fleet_broker, wait_message  # noqa: F401
from tests.fleet.test_broker_security import login, publish_and_wait_ack, subscribe_and_wait

LIVE = "etp/live/v1/site/porvoo"


def test_only_cloud_identities_publish_on_the_live_tree_and_only_api_replicas_read_it(
        fleet, fleet_broker):  # noqa: F811
    api, heard = login(fleet, fleet_broker, "cloud.api.1")
    assert subscribe_and_wait(api, heard, "etp/live/v1/#") == ["Granted QoS 1"]
    for room_identity in ("porvoo.r1.callbutton", "porvoo.r1.agent"):
        device, outcome = login(fleet, fleet_broker, room_identity)
        assert subscribe_and_wait(device, outcome, "etp/live/v1/#") == ["Not authorized"]
        assert publish_and_wait_ack(device, outcome, LIVE, b"{}") == "Not authorized"
        close(device)
    ingest, acks = login(fleet, fleet_broker, "cloud.ingest.1")
    assert publish_and_wait_ack(ingest, acks, LIVE, b'{"type":"call.pressed"}') == "Success"
    assert wait_message(heard, LIVE) == b'{"type":"call.pressed"}'
    assert [topic for topic, _ in heard.messages] == [LIVE]  # the refused ones never arrived
    close(ingest, api)


def test_the_schedule_may_tell_agents_their_bookings_and_give_no_other_command(
        fleet, fleet_broker):  # noqa: F811
    agent, heard = login(fleet, fleet_broker, "porvoo.r1.agent")
    assert subscribe_and_wait(agent, heard, "etp/v1/porvoo/r1/agent/cmd/+") == ["Granted QoS 1"]
    schedule, acks = login(fleet, fleet_broker, "cloud.schedule.1")
    topic = "etp/v1/porvoo/r1/agent/cmd/probe_schedule"
    assert publish_and_wait_ack(schedule, acks, topic, b"{}") == "Success"
    assert wait_message(heard, topic) == b"{}"
    restart = "etp/v1/porvoo/r1/agent/cmd/restart"
    assert publish_and_wait_ack(schedule, acks, restart, b"{}") == "Not authorized"
    assert [t for t, _ in heard.messages] == [topic]
    close(schedule, agent)
