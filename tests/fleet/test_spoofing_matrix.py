"""Every room identity against every other room, on production's broker (the real Mosquitto
with the generated dynamic-security file) and on the demo's embedded broker, which holds the
same identities: each publish to another room's status, health, event, telemetry or commands,
each subscription to them and each connection under a wildcard or another client's id is
refused, nothing of it reaches the cloud, no room hears another room's retained or live
messages, and a refused connection leaves the session of the id it named alone."""
from __future__ import annotations

import uuid

from cloud.registry import PILOT_REGISTRY, load_registry
from provisioning.identities import WIRELESS, agent_name, device_name
from tests.fleet.conftest import close, wait_message
from tests.fleet.test_broker_security import publish_and_wait_ack, subscribe_and_wait

KINDS = ("health", "event", "telemetry", "cmd/reboot")
WATCHER = "cloud.api.1"
INGEST_CLIENT_ID = "ingest-0-of-1"  # the demo's ingest (``ETP_INGEST_PARTITION`` 0/1)


def room_identities(registry) -> list[tuple[str, str, str]]:
    """(identity, site, room) of every agent and wireless board of the registry."""
    found = []
    for site, room, spec in registry.rooms():
        found.append((agent_name(site, room), site, room))
        found += [(device_name(site, room, d), site, room) for d in WIRELESS if d in spec.devices]
    return found


def device_of(identity: str) -> str:
    """The device an identity speaks for (``agent`` for the room agent)."""
    return identity.rsplit(".", 1)[1]


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


def own_commands(identity: str, site: str, room: str) -> str:
    """The command filter a room identity subscribes, as the agent and the boards do."""
    device = "+" if device_of(identity) == "agent" else device_of(identity)
    return f"etp/v1/{site}/{room}/{device}/cmd/+"


def test_no_room_identity_can_speak_or_listen_for_another_room(broker_under_test):
    broker = broker_under_test
    registry = load_registry(PILOT_REGISTRY)
    identities = room_identities(registry)
    assert len(identities) == 9 and len({site for _, site, _ in identities}) == 3
    watcher, seen = broker.login(WATCHER)
    assert subscribe_and_wait(watcher, seen, "etp/v1/#") == ["Granted QoS 1"]
    mark = uuid.uuid4().hex.encode()  # tells this test's messages from retained ones
    refusals = 0
    for identity, site, room in identities:
        client, outcome = broker.login(identity)
        assert outcome.connected.is_set(), (identity, outcome.reason)
        for topic in other_rooms_topics(registry, site, room):
            assert publish_and_wait_ack(client, outcome, topic, mark, retain=True) == \
                broker.refused_publish, (identity, topic)
            refusals += 1
        for topic_filter in other_rooms_filters(registry, site, room):
            assert subscribe_and_wait(client, outcome, topic_filter) == [
                broker.refused_subscription], (identity, topic_filter)
        # a message of its own goes through after every refusal was answered: one connection
        # delivers in order, so a forbidden message let through would have arrived first
        own = f"etp/v1/{site}/{room}/{device_of(identity)}/health"
        assert publish_and_wait_ack(client, outcome, own, mark) == "Success", identity
        wait_message(seen, own)
        close(client)
    assert refusals > 400
    assert sorted({t for t, p in seen.messages if p == mark}) == sorted(
        f"etp/v1/{site}/{room}/{device_of(identity)}/health"
        for identity, site, room in identities)
    close(watcher)


def test_no_room_identity_hears_another_rooms_retained_or_live_messages(broker_under_test):
    broker = broker_under_test
    registry = load_registry(PILOT_REGISTRY)
    cloud, sent = broker.login(WATCHER)  # reads everything, as the cloud does
    assert subscribe_and_wait(cloud, sent, "etp/v1/#") == ["Granted QoS 1"]
    for site, room, _ in registry.rooms():  # every room's status and health, kept
        agent, acks = broker.login(agent_name(site, room))
        base = f"etp/v1/{site}/{room}"
        for topic in (f"{base}/agent/status", f"{base}/terminal/health"):
            assert publish_and_wait_ack(agent, acks, topic, b"online", retain=True) == "Success"
        wait_message(sent, f"{base}/terminal/health")
        close(agent)
    for identity, site, room in room_identities(registry):
        client, heard = broker.login(identity)
        assert subscribe_and_wait(client, heard, own_commands(identity, site, room)) == [
            "Granted QoS 1"], identity
        # the cloud's command comes after anything the broker offered at CONNECT or SUBSCRIBE
        mine = f"etp/v1/{site}/{room}/{device_of(identity)}/cmd/identify"
        for topic in (f"etp/v1/{s}/{r}/{device_of(identity)}/cmd/identify"
                      for s, r, _ in registry.rooms()):
            publish_and_wait_ack(cloud, sent, topic)
        wait_message(heard, mine)
        assert [topic for topic, _ in heard.messages] == [mine], identity
        close(client)
    close(cloud)


def test_no_room_identity_connects_under_a_wildcard_or_anothers_client_id(broker_under_test):
    identities = room_identities(load_registry(PILOT_REGISTRY))
    for identity, site, room in identities:
        others = [i for i, _, _ in identities if i != identity][:4]
        for client_id in ("#", "+", f"{site}.#", f"{site}.{room}.+", "*", *others,
                          "etp-imatra-r1-agent" if site != "imatra" else "etp-porvoo-r1-agent",
                          INGEST_CLIENT_ID):
            client, outcome = broker_under_test.login(identity, client_id=client_id)
            assert not outcome.connected.is_set(), (identity, client_id)
            assert outcome.reason == "Not authorized" or outcome.tls_error, (identity, client_id)
            close(client)  # a refused client's loop would otherwise wait to reconnect


def test_a_refused_connection_leaves_the_session_of_the_id_it_named_alone(broker_under_test):
    broker = broker_under_test
    ingest, heard = broker.login(WATCHER, client_id=INGEST_CLIENT_ID)
    assert subscribe_and_wait(ingest, heard, "etp/v1/#") == ["Granted QoS 1"]
    agent, acks = broker.login("porvoo.r1.agent")
    assert subscribe_and_wait(agent, acks, "etp/v1/porvoo/r1/+/cmd/+") == ["Granted QoS 1"]
    borrowers = [("nurmes.r1.agent", INGEST_CLIENT_ID), ("imatra.r1.callbutton",
                                                         INGEST_CLIENT_ID),
                 ("nurmes.r1.agent", "etp-porvoo-r1-agent")]
    for identity, client_id in borrowers:
        client, outcome = broker.login(identity, client_id=client_id)
        assert not outcome.connected.is_set(), (identity, client_id)
        close(client)
    # the owner's own password is the only key: a wrong one names the id in vain too
    client, outcome = broker.login("porvoo.r1.agent", client_id="etp-porvoo-r1-agent",
                                   password=broker.password("nurmes.r1.agent"))
    assert not outcome.connected.is_set()
    close(client)
    assert publish_and_wait_ack(agent, acks, "etp/v1/porvoo/r1/agent/status", b"x") == "Success"
    wait_message(heard, "etp/v1/porvoo/r1/agent/status")
    assert publish_and_wait_ack(ingest, heard, "etp/v1/porvoo/r1/agent/cmd/identify") == "Success"
    wait_message(acks, "etp/v1/porvoo/r1/agent/cmd/identify")
    assert not heard.ended.is_set() and not acks.ended.is_set()
    close(ingest, agent)
