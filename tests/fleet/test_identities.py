"""Pure rules of the fleet's identities."""
from __future__ import annotations

import pytest

from cloud.registry import Registry, load_registry
from provisioning.identities import fleet_identities
from provisioning.settings import FleetSettings


def test_every_room_device_gets_one_identity_and_the_cloud_one_per_process():
    names = [i.name for i in fleet_identities(load_registry(), FleetSettings())]
    assert len(names) == len(set(names))
    assert {"porvoo.r1.agent", "porvoo.r1.callbutton", "porvoo.r1.occupancy",
            "cloud.ingest.1", "cloud.ingest.2", "cloud.api.1", "cloud.schedule.1",
            "fleet.monitor"} <= set(names)
    assert not any(n.endswith((".terminal", ".doccam", ".network")) for n in names)


def test_only_cloud_identities_may_publish_commands():
    for identity in fleet_identities(load_registry(), FleetSettings()):
        sends = [g.topic for g in identity.grants if g.acltype == "publishClientSend"]
        commanding = identity.name.startswith(("cloud.ingest.", "cloud.api.", "cloud.schedule."))
        assert any("/cmd/" in t for t in sends) == commanding, identity.name


def test_of_the_rooms_topics_an_api_replica_publishes_only_commands_and_terminal_calls():
    api = next(i for i in fleet_identities(load_registry(), FleetSettings())
               if i.name == "cloud.api.1")
    sends = {g.topic for g in api.grants if g.acltype == "publishClientSend"
             and g.topic.startswith("etp/v1/")}
    assert sends == {"etp/v1/+/+/+/cmd/+", "etp/v1/+/+/callbutton/event"}


def test_the_schedule_may_only_publish_on_the_live_tree_and_tell_agents_their_bookings():
    schedule = next(i for i in fleet_identities(load_registry(), FleetSettings())
                    if i.name == "cloud.schedule.1")
    assert [(g.acltype, g.topic) for g in schedule.grants] == [
        ("publishClientSend", "etp/live/v1/#"),
        ("publishClientSend", "etp/v1/+/+/agent/cmd/probe_schedule")]


def test_rooms_whose_agent_client_ids_would_collide_are_refused():
    room = {"name": "x"}
    registry = Registry.model_validate({
        "authorities": {"kela": {"name": {"fi": "Kela", "sv": "FPA", "en": "Kela"}}},
        "sites": {"a-b": {"name": {"fi": "a", "sv": "a", "en": "a"}, "municipality": "A",
                          "authorities": ["kela"], "rooms": {"c": room}},
                  "a": {"name": {"fi": "b", "sv": "b", "en": "b"}, "municipality": "B",
                        "authorities": ["kela"], "rooms": {"b-c": room}}}})
    with pytest.raises(ValueError, match="etp-a-b-c-agent"):
        fleet_identities(registry, FleetSettings())


def test_the_tls_profile_has_one_mutual_tls_listener_and_the_plain_profile_adds_loopback():
    from provisioning.broker import mosquitto_conf

    tls = mosquitto_conf(FleetSettings()).splitlines()
    assert [line for line in tls if line.startswith("listener")] == ["listener 8883"]
    assert {"require_certificate true", "allow_anonymous false"} <= set(tls)
    assert any(line.startswith("crlfile ") for line in tls)
    plain = mosquitto_conf(FleetSettings(broker_profile="plain")).splitlines()
    assert [line for line in plain if line.startswith("listener")] == [
        "listener 8883", "listener 1883 127.0.0.1"]
