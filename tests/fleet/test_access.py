"""The rules that decide what a broker identity may do from its grants (the demo's broker asks
them; Mosquitto's dynamic-security plugin decides the same from the generated file), and the
demo's identities taken from provisioning rather than written twice."""
from __future__ import annotations

import asyncio
import socket

import pytest

from cloud.registry import PILOT_REGISTRY, load_registry
from etapalvelu.demo_broker import CLOUD, EmbeddedBroker, broker_config, demo_users
from etapalvelu.localservers import free_port
from provisioning.access import (
    filter_within,
    may_connect,
    may_publish,
    may_receive,
    may_subscribe,
    topic_matches,
)
from provisioning.identities import fleet_identities
from provisioning.settings import FleetSettings


@pytest.mark.parametrize(("topic_filter", "topic", "matches"), [
    ("etp/v1/#", "etp/v1/porvoo/r1/agent/status", True),
    ("etp/v1/+/+/+/cmd/+", "etp/v1/porvoo/r1/terminal/cmd/reboot", True),
    ("etp/v1/+/+/+/cmd/+", "etp/v1/porvoo/r1/terminal/health", False),
    ("etp/v1/porvoo/r1/agent/cmd/+", "etp/v1/porvoo/r1/agent/cmd", False),
    ("a/#", "a", True),
    ("#", "$SYS/broker/uptime", False),
    ("etp/v1/porvoo/r1/agent/status", "etp/v1/porvoo/r1/agent/status/x", False),
])
def test_a_topic_matches_a_filter_as_mqtt_says(topic_filter, topic, matches):
    assert topic_matches(topic_filter, topic) is matches


@pytest.mark.parametrize(("granted", "requested", "within"), [
    ("etp/v1/#", "etp/v1/porvoo/#", True),
    ("etp/v1/#", "#", False),
    ("etp/v1/porvoo/r1/+/cmd/+", "etp/v1/porvoo/r1/+/cmd/+", True),
    ("etp/v1/porvoo/r1/+/cmd/+", "etp/v1/porvoo/r1/terminal/cmd/reboot", True),
    ("etp/v1/porvoo/r1/+/cmd/+", "etp/v1/porvoo/r1/#", False),
    ("etp/v1/porvoo/r1/+/cmd/+", "etp/v1/+/r1/+/cmd/+", False),
    ("etp/v1/#", "$share/x/etp/v1/#", False),
])
def test_a_subscription_is_allowed_only_within_a_granted_pattern(granted, requested, within):
    assert filter_within(granted, requested) is within


def production(name: str):
    registry = load_registry(PILOT_REGISTRY)
    return next(i for i in fleet_identities(registry, FleetSettings()) if i.name == name)


def test_a_room_identity_connects_under_its_bound_client_id_only():
    agent, cloud = production("porvoo.r1.agent"), production(CLOUD)
    assert may_connect(agent, "etp-porvoo-r1-agent")
    assert not any(may_connect(agent, c) for c in ("porvoo.r1.agent", "#", "ingest-0-of-1"))
    assert may_connect(cloud, "ingest-0-of-1")  # cloud workers pick their own ids


def test_the_agent_publishes_its_rooms_adapters_and_hears_their_commands_only():
    agent = production("porvoo.r1.agent")
    assert may_publish(agent, "etp/v1/porvoo/r1/doccam/health")
    assert not may_publish(agent, "etp/v1/porvoo/r1/callbutton/event")  # the board's own
    assert not may_publish(agent, "etp/v1/imatra/r1/agent/status")
    assert may_subscribe(agent, "etp/v1/porvoo/r1/+/cmd/+")
    assert may_receive(agent, "etp/v1/porvoo/r1/terminal/cmd/reboot")
    assert not may_receive(agent, "etp/v1/porvoo/r1/callbutton/cmd/identify")
    assert not may_receive(agent, "etp/v1/imatra/r1/agent/status")


def test_the_demos_cloud_holds_exactly_the_production_api_replicas_grants():
    users = demo_users(load_registry(PILOT_REGISTRY))
    assert users[CLOUD].identity == production(CLOUD)
    assert may_publish(users[CLOUD].identity, "etp/v1/porvoo/r1/callbutton/event")


def test_the_demos_agent_adds_only_its_own_rooms_simulated_boards_grants():
    users = demo_users(load_registry(PILOT_REGISTRY))
    demo_agent, agent = users["porvoo.r1.agent"].identity, production("porvoo.r1.agent")
    boards = production("porvoo.r1.callbutton").grants + production("porvoo.r1.occupancy").grants
    assert demo_agent.grants == agent.grants + boards
    assert demo_agent.client_id == agent.client_id
    assert {name for name in users} == {i.name for i in fleet_identities(
        load_registry(PILOT_REGISTRY), FleetSettings())}


def test_the_demo_broker_starts_in_a_thread_left_without_an_event_loop():
    # a process that ran asyncio.run() before (a command, a test) has no current loop left
    asyncio.run(asyncio.sleep(0))
    port = free_port()
    broker = EmbeddedBroker(broker_config(port), demo_users(load_registry(PILOT_REGISTRY)))
    broker.start()
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=5):
            pass  # listening
    finally:
        broker.stop()
