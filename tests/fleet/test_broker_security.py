"""Security of the generated broker configuration, proven against a real Mosquitto."""
from __future__ import annotations

import shutil

import psutil

from provisioning.lifecycle import revoke
from tests.fleet.conftest import NOW, close, connect, stage_broker, wait_message
from tests.servers import wait_for

BUTTON = "porvoo.r1.callbutton"
AGENT = "porvoo.r1.agent"
WATCHER = "cloud.api.1"


def login(fleet, broker, identity, **kwargs):
    """Connect an identity with its own password and certificate."""
    return connect(broker.port, identity, fleet.password(identity), fleet.tls_files(identity),
                   **kwargs)


def publish_and_wait_ack(client, outcome, topic, payload=b"x", retain=False):
    """Publish with QoS 1 and return the PUBACK reason (the broker has handled the message,
    delivery included, before it answers)."""
    info = client.publish(topic, payload, qos=1, retain=retain)
    wait_for(lambda: info.mid in outcome.acks, 5, f"PUBACK for {topic}")
    return outcome.acks[info.mid]


def subscribe_and_wait(client, outcome, topic_filter):
    """Subscribe and return the SUBACK reasons."""
    _, mid = client.subscribe(topic_filter, qos=1)
    wait_for(lambda: mid in outcome.subacks, 5, f"SUBACK for {topic_filter}")
    return outcome.subacks[mid]


def test_each_identity_connects_with_its_own_credentials_over_mutual_tls(fleet, fleet_broker):
    for identity in (BUTTON, AGENT, "porvoo.r1.occupancy", "cloud.ingest.1",
                     "fleet.monitor"):
        client, outcome = login(fleet, fleet_broker, identity)
        assert outcome.connected.is_set(), (identity, outcome.reason, outcome.tls_error)
        close(client)


def test_device_cannot_publish_on_another_devices_or_another_rooms_topics(fleet, fleet_broker):
    watcher, seen = login(fleet, fleet_broker, WATCHER)
    assert subscribe_and_wait(watcher, seen, "etp/v1/#") == ["Granted QoS 1"]
    button, acks = login(fleet, fleet_broker, BUTTON)
    forbidden = ["etp/v1/porvoo/r1/occupancy/event", "etp/v1/imatra/r1/callbutton/event",
                 "etp/v1/porvoo/r1/agent/status", "etp/v1/porvoo/r1/terminal/health",
                 "etp/v1/porvoo/r1/callbutton/cmd/reset", "etp/v1/porvoo/r1/callbutton"]
    for topic in forbidden:
        assert publish_and_wait_ack(button, acks, topic) == "Not authorized", topic
    # the allowed message is sent after every refusal was answered: a forbidden message that
    # had been delivered would have arrived before it (one connection, in order)
    assert publish_and_wait_ack(button, acks, "etp/v1/porvoo/r1/callbutton/event") == "Success"
    wait_message(seen, "etp/v1/porvoo/r1/callbutton/event")
    assert [t for t, _ in seen.messages] == ["etp/v1/porvoo/r1/callbutton/event"]
    close(button, watcher)


def test_agent_speaks_for_its_rooms_adapters_only(fleet, fleet_broker):
    watcher, seen = login(fleet, fleet_broker, WATCHER)
    subscribe_and_wait(watcher, seen, "etp/v1/#")
    agent, acks = login(fleet, fleet_broker, AGENT)
    forbidden = ["etp/v1/porvoo/r1/callbutton/event", "etp/v1/imatra/r1/terminal/health",
                 "etp/v1/imatra/r1/agent/status", "etp/v1/porvoo/r1/terminal/cmd/reboot"]
    for topic in forbidden:
        assert publish_and_wait_ack(agent, acks, topic) == "Not authorized", topic
    for topic in ("etp/v1/porvoo/r1/terminal/health", "etp/v1/porvoo/r1/agent/status"):
        assert publish_and_wait_ack(agent, acks, topic) == "Success", topic
    wait_message(seen, "etp/v1/porvoo/r1/agent/status")
    assert [t for t, _ in seen.messages] == ["etp/v1/porvoo/r1/terminal/health",
                                             "etp/v1/porvoo/r1/agent/status"]
    close(agent, watcher)


def test_agent_must_use_its_bound_client_id(fleet, fleet_broker):
    client, outcome = login(fleet, fleet_broker, AGENT, client_id=AGENT)
    assert outcome.reason == "Not authorized"
    client.loop_stop()
    client, outcome = login(fleet, fleet_broker, AGENT)  # etp-porvoo-r1-agent
    assert outcome.connected.is_set(), outcome.reason
    close(client)


def test_agent_hears_only_its_own_adapters_commands(fleet, fleet_broker):
    agent, got = login(fleet, fleet_broker, AGENT)
    # the agent subscribes its room's whole command filter, as the room agent does
    assert subscribe_and_wait(agent, got, "etp/v1/porvoo/r1/+/cmd/+") == ["Granted QoS 1"]
    assert subscribe_and_wait(agent, got, "etp/v1/imatra/r1/+/cmd/+") == ["Not authorized"]
    cloud, acks = login(fleet, fleet_broker, "cloud.api.1")
    for topic in ("etp/v1/porvoo/r1/callbutton/cmd/identify", "etp/v1/imatra/r1/terminal/cmd/x",
                  "etp/v1/porvoo/r1/terminal/cmd/reboot"):
        assert publish_and_wait_ack(cloud, acks, topic) != "Not authorized"
    wait_message(got, "etp/v1/porvoo/r1/terminal/cmd/reboot")
    assert [t for t, _ in got.messages] == ["etp/v1/porvoo/r1/terminal/cmd/reboot"]
    close(cloud, agent)


def test_device_cannot_subscribe_to_another_devices_or_another_rooms_topics(fleet, fleet_broker):
    button, got = login(fleet, fleet_broker, BUTTON)
    for topic_filter in ("etp/v1/porvoo/r1/occupancy/cmd/+", "etp/v1/imatra/r1/callbutton/cmd/+",
                         "etp/v1/porvoo/r1/#", "etp/v1/#", "#", "$share/ingest/etp/v1/#"):
        assert subscribe_and_wait(button, got, topic_filter) == ["Not authorized"], topic_filter
    assert subscribe_and_wait(button, got, "etp/v1/porvoo/r1/callbutton/cmd/+") == [
        "Granted QoS 1"]
    cloud, acks = login(fleet, fleet_broker, "cloud.ingest.1")
    for topic in ("etp/v1/porvoo/r1/occupancy/cmd/reset", "etp/v1/imatra/r1/callbutton/cmd/reset",
                  "etp/v1/porvoo/r1/callbutton/cmd/identify"):
        assert publish_and_wait_ack(cloud, acks, topic) != "Not authorized"
    wait_message(got, "etp/v1/porvoo/r1/callbutton/cmd/identify")
    assert [t for t, _ in got.messages] == ["etp/v1/porvoo/r1/callbutton/cmd/identify"]
    close(cloud, button)


def test_client_ids_with_wildcards_or_of_another_identity_are_refused(fleet, fleet_broker):
    for client_id in ("porvoo.r1.callbutton+", "#", "+", "porvoo.r1.#", "porvoo.r1.+",
                      "etp-porvoo-r1-agent", "porvoo.r1.occupancy", "porvoo.r1.agent"):
        client, outcome = login(fleet, fleet_broker, BUTTON, client_id=client_id)
        assert not outcome.connected.is_set(), client_id
        assert outcome.reason == "Not authorized", client_id
        client.loop_stop()


def test_wrong_password_is_refused(fleet, fleet_broker):
    client, outcome = connect(fleet_broker.port, BUTTON, fleet.password(AGENT),
                              fleet.tls_files(BUTTON))
    assert not outcome.connected.is_set() and outcome.reason == "Not authorized"
    client.loop_stop()


def test_revoked_certificate_is_refused_even_with_a_valid_password(fleet, fleet_broker, tmp_path):
    kept = tmp_path / "stolen"
    kept.mkdir()
    ca, cert, key = fleet.tls_files(BUTTON)
    stolen = (ca, shutil.copy(cert, kept / "c.crt"), shutil.copy(key, kept / "c.key"))
    # before revocation the certificate opens the door for a valid login
    client, outcome = connect(fleet_broker.port, "porvoo.r1.occupancy",
                              fleet.password("porvoo.r1.occupancy"), stolen,
                              client_id="porvoo.r1.occupancy")
    assert outcome.connected.is_set()
    close(client)

    revoke(fleet.folder, BUTTON, NOW)
    changed = fleet.regenerate()
    assert {"pki/crl.pem", "broker/dynamic-security.json"} <= set(changed)
    assert not (fleet.folder / f"secrets/{BUTTON}.password").exists()
    stage_broker(fleet)
    fleet_broker.restart()

    client, outcome = connect(fleet_broker.port, "porvoo.r1.occupancy",
                              fleet.password("porvoo.r1.occupancy"), stolen,
                              client_id="porvoo.r1.occupancy")
    assert not outcome.connected.is_set()
    # the TLS handshake fails (TLS 1.3 reports it after the client's side completes), before
    # any CONNACK: not the dynamic-security refusal "Not authorized"
    assert outcome.tls_error or outcome.reason == "Unspecified error", outcome.reason
    client.loop_stop()
    # the same login with its own, unrevoked certificate still works
    client, outcome = login(fleet, fleet_broker, "porvoo.r1.occupancy")
    assert outcome.connected.is_set()
    close(client)


def test_tls_profile_listens_on_no_plaintext_port(fleet, fleet_broker):
    conf = (fleet.folder / "broker/etapalvelu.conf").read_text()
    assert [line for line in conf.splitlines() if line.startswith("listener")] == [
        f"listener {fleet.settings.broker_port} 127.0.0.1"]
    listening = {c.laddr.port for c in psutil.Process(fleet_broker.process.pid).net_connections()
                 if c.status == psutil.CONN_LISTEN}
    assert listening == {fleet.settings.broker_port}
    # plain MQTT on the TLS port gets no CONNACK
    client, outcome = connect(fleet_broker.port, BUTTON, fleet.password(BUTTON), None)
    assert not outcome.connected.is_set()
    client.loop_stop()


def test_cloud_ingest_workers_each_read_their_own_sites_of_the_device_stream(fleet, fleet_broker):
    # partitions 0/2 and 1/2 of the pilot: Porvoo (and Nurmes) to the first, Imatra to the
    # second, each a plain subscription that the broker saves with the session (decision 80)
    workers = [login(fleet, fleet_broker, f"cloud.ingest.{i}") for i in (1, 2)]
    for (client, outcome), site in zip(workers, ("porvoo", "imatra"), strict=True):
        assert subscribe_and_wait(client, outcome, f"etp/v1/{site}/#") == ["Granted QoS 1"]
        for topic_filter in ("#", "etp/live/v1/#", "$SYS/#"):
            assert subscribe_and_wait(client, outcome, topic_filter) == ["Not authorized"]
    for site in ("porvoo", "imatra"):
        button, acks = login(fleet, fleet_broker, f"{site}.r1.callbutton")
        for n in range(3):
            publish_and_wait_ack(button, acks, f"etp/v1/{site}/r1/callbutton/event",
                                 str(n).encode())
        close(button)
    wait_for(lambda: [len(o.messages) for _, o in workers] == [3, 3], 5, "three events each")
    assert [{t.split("/")[2] for t, _ in o.messages} for _, o in workers] == [
        {"porvoo"}, {"imatra"}]
    alone, heard = login(fleet, fleet_broker, "cloud.ingest.1")  # a single worker: every site
    assert subscribe_and_wait(alone, heard, "etp/v1/#") == ["Granted QoS 1"]
    close(alone, *(c for c, _ in workers))


def test_cloud_workers_may_choose_their_client_id_but_not_a_devices_topics(fleet, fleet_broker):
    worker, acks = login(fleet, fleet_broker, "cloud.ingest.1", client_id="ingest-0-of-1")
    assert acks.connected.is_set(), acks.reason
    assert publish_and_wait_ack(worker, acks, "etp/v1/porvoo/r1/callbutton/event") == (
        "Not authorized")
    close(worker)
