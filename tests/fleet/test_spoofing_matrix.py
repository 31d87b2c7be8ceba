"""Every room identity against every other room, on the real Mosquitto with the generated
dynamic-security file: each publish to another room's status, health, event, telemetry or
commands, each subscription to them and each connection under a wildcard or another
identity's client id is refused, and nothing of it reaches the cloud."""
from __future__ import annotations

import uuid

from cloud.registry import PILOT_REGISTRY, load_registry
from provisioning.identities import WIRELESS, agent_name, device_name
from tests.fleet.conftest import close, connect, wait_message
from tests.fleet.test_broker_security import login, publish_and_wait_ack, subscribe_and_wait

KINDS = ("health", "event", "telemetry", "cmd/reboot")
WATCHER = "cloud.api.1"


def room_identities(registry) -> list[tuple[str, str, str]]:
    """(identity, site, room) of every agent and wireless board of the registry."""
    found = []
    for site, room, spec in registry.rooms():
        found.append((agent_name(site, room), site, room))
        found += [(device_name(site, room, d), site, room) for d in WIRELESS if d in spec.devices]
    return found


def other_rooms_topics(registry, site: str, room: str) -> list[str]:
    """Every topic of every room but (site, room)."""
    topics = []
    for other_site, other_room, spec in registry.rooms():
        if (other_site, other_room) == (site, room):
            continue
        base = f"etp/v1/{other_site}/{other_room}"
        topics.append(f"{base}/agent/status")
        topics += [f"{base}/{device}/{kind}" for device in spec.devices for kind in KINDS]
    return topics


def other_rooms_filters(registry, site: str, room: str) -> list[str]:
    """Subscriptions that would read another room (or everyone)."""
    filters = ["#", "etp/v1/#", "etp/v1/+/+/+/cmd/+", "$share/x/etp/v1/#"]
    for other_site, other_room, _ in registry.rooms():
        if (other_site, other_room) != (site, room):
            base = f"etp/v1/{other_site}/{other_room}"
            filters += [f"{base}/#", f"{base}/+/cmd/+", f"{base}/agent/status"]
    return filters


def test_no_room_identity_can_speak_or_listen_for_another_room(fleet, fleet_broker):
    registry = load_registry(PILOT_REGISTRY)
    identities = room_identities(registry)
    assert len(identities) == 9 and len({site for _, site, _ in identities}) == 3
    watcher, seen = login(fleet, fleet_broker, WATCHER)
    assert subscribe_and_wait(watcher, seen, "etp/v1/#") == ["Granted QoS 1"]
    mark = uuid.uuid4().hex.encode()  # tells this test's messages from retained ones
    refusals = 0
    for identity, site, room in identities:
        client, outcome = login(fleet, fleet_broker, identity)
        assert outcome.connected.is_set(), (identity, outcome.reason)
        for topic in other_rooms_topics(registry, site, room):
            assert publish_and_wait_ack(client, outcome, topic, mark, retain=True) == \
                "Not authorized", (identity, topic)
            refusals += 1
        for topic_filter in other_rooms_filters(registry, site, room):
            assert subscribe_and_wait(client, outcome, topic_filter) == ["Not authorized"], \
                (identity, topic_filter)
        # a message of its own goes through after every refusal was answered: one connection
        # delivers in order, so a forbidden message let through would have arrived first
        own = f"etp/v1/{site}/{room}/{identity.rsplit('.', 1)[1]}/health"
        assert publish_and_wait_ack(client, outcome, own, mark) == "Success", identity
        wait_message(seen, own)
        close(client)
    assert refusals > 400
    assert sorted({t for t, p in seen.messages if p == mark}) == sorted(
        f"etp/v1/{site}/{room}/{identity.rsplit('.', 1)[1]}/health"
        for identity, site, room in identities)
    close(watcher)


def test_no_room_identity_connects_under_a_wildcard_or_anothers_client_id(fleet, fleet_broker):
    identities = room_identities(load_registry(PILOT_REGISTRY))
    for identity, site, room in identities:
        others = [i for i, _, _ in identities if i != identity][:4]
        for client_id in ("#", "+", f"{site}.#", f"{site}.{room}.+", "*", *others,
                          "etp-imatra-r1-agent" if site != "imatra" else "etp-porvoo-r1-agent"):
            client, outcome = connect(fleet_broker.port, identity, fleet.password(identity),
                                      fleet.tls_files(identity), client_id=client_id)
            assert not outcome.connected.is_set(), (identity, client_id)
            assert outcome.reason == "Not authorized" or outcome.tls_error, (identity, client_id)
            client.loop_stop()
