"""The REST API over a real twin: fleet overview, one room, counters, metrics, access.
(Staff access to these endpoints: tests/security/test_api_probes.py.)"""
from __future__ import annotations

import orjson
import pytest
from fastapi.testclient import TestClient

from cloud.settings import DEVELOPMENT_TOKEN
from cloud.web.app import create_app
from tests.servers import wait_for

AUTH = {"Authorization": f"Bearer {DEVELOPMENT_TOKEN}"}


@pytest.fixture
def api(cloud_settings):
    with TestClient(create_app(cloud_settings)) as client:
        yield client


@pytest.fixture
def live_room(broker, cloud_settings, start_worker, start_agent, twin):
    """Porvoo's room with a running agent whose document camera is unplugged."""
    start_worker(cloud_settings)
    agent = start_agent("porvoo", "r1", broker.url)
    assert agent.wait_connected(10)
    agent.inject_fault("doccam", "unplugged")
    wait_for(lambda: twin("SELECT state FROM twin_device WHERE device='doccam'") == [("missing",)],
             10, "doccam missing in the twin")
    return agent


def test_fleet_overview_lists_every_pilot_room_with_its_condition(api, live_room):
    fleet = api.get("/api/fleet", headers=AUTH).json()
    rooms = {(r["site"], r["room"]): r for s in fleet["sites"] for r in s["rooms"]}
    assert set(rooms) == {("porvoo", "r1"), ("imatra", "r1"), ("nurmes", "r1")}
    porvoo = rooms[("porvoo", "r1")]
    assert porvoo["agent"]["online"] is True
    assert porvoo["condition"] == "unusable"
    doccam = next(d for d in porvoo["devices"] if d["device"] == "doccam")
    assert (doccam["state"], doccam["code"]) == ("missing", "unplugged")
    assert rooms[("imatra", "r1")]["condition"] == "unknown"


def test_room_status_of_an_unknown_room_is_404_with_a_reason(api):
    response = api.get("/api/rooms/espoo/r9", headers=AUTH)
    assert response.status_code == 404
    assert response.json()["reason"] == "not_found" and "espoo" not in response.text


@pytest.mark.parametrize("path", ["/api/fleet", "/api/rooms/porvoo/r1", "/api/ingest/counters"])
@pytest.mark.parametrize("header", [None, "Bearer wrong", "Basic abc"])
def test_api_refuses_requests_without_the_token(api, path, header):
    headers = {"Authorization": header} if header else {}
    assert api.get(path, headers=headers).status_code == 401


def test_counters_and_metrics_show_drops_by_reason(api, broker, cloud_settings, start_worker,
                                                   publisher):
    worker = start_worker(cloud_settings)
    publisher.publish("etp/v1/porvoo/r1/terminal/health", b"{oops", qos=1)
    publisher.publish("etp/v1/espoo/r1/terminal/health",
                      orjson.dumps({"v": 1, "ts": 1, "seq": 1, "state": "ok"}), qos=1)
    wait_for(lambda: api.get("/api/ingest/counters", headers=AUTH).json()["totals"] ==
             {"malformed_json": 1, "unknown_device": 1}, 10, "counters saved")
    assert worker.counts["malformed_json"] == 1
    metrics = api.get("/metrics", headers=AUTH).text
    assert 'etp_ingest_messages_total{outcome="malformed_json",worker="ingest-1"} 1.0' in metrics


def test_status_page_asks_for_a_login_and_its_script_follows_the_live_stream(api):
    page = api.get("/", follow_redirects=False)
    assert page.status_code == 303 and page.headers["location"] == "/login?next=/"
    script = api.get("/static/status.js").text
    assert "/api/live/events?fleet=true" in script and 'from "/static/kit.js"' in script


def test_metrics_show_each_agent_and_each_device_state_of_the_twin(api, live_room):
    from prometheus_client.parser import text_string_to_metric_families

    samples = {(s.name, tuple(sorted(s.labels.items()))): s.value for family in
               text_string_to_metric_families(api.get("/metrics", headers=AUTH).text)
               for s in family.samples}
    room = (("room", "r1"), ("site", "porvoo"))
    doccam = (("device", "doccam"), *room)
    assert samples[("etp_agent_online", room)] == 1.0
    assert samples[("etp_device_state", (*doccam, ("state", "missing")))] == 1.0
    assert samples[("etp_device_seq_gaps", doccam)] == 0.0
