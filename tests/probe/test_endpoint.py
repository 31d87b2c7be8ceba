"""The cloud's probe endpoint: only a room's own token opens a probe, probes are bounded,
and every peer is closed after its probe, after the longest allowed time and at shutdown."""
from __future__ import annotations

import asyncio
import json
import urllib.error
import urllib.request

import pytest

from cloud.probe.settings import DEVELOPMENT_SECRET, ProbeSettings
from cloud.probe.tokens import room_token
from edge.probe import ProbeError, ProbePlan, ProbeTarget, measure
from tests.servers import wait_for


def post_offer(cloud: str, token: str, site: str = "porvoo", room: str = "r1",
               sdp: str | None = None) -> int:
    """Post a real offer (made by aiortc) and return the HTTP status."""
    async def offer() -> str:
        from aiortc import RTCConfiguration, RTCPeerConnection

        pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
        pc.createDataChannel("echo")
        await pc.setLocalDescription(await pc.createOffer())
        await pc.close()
        return pc.localDescription.sdp

    body = json.dumps({"site": site, "room": room, "type": "offer",
                       "sdp": sdp or asyncio.run(offer())}).encode()
    request = urllib.request.Request(f"{cloud}/api/probe/offer", data=body, method="POST",
                                     headers={"Content-Type": "application/json",
                                              "Authorization": f"Bearer {token}"})
    try:
        with urllib.request.urlopen(request, timeout=10) as answer:
            return answer.status
    except urllib.error.HTTPError as exc:
        return exc.code


def test_a_probe_with_another_rooms_token_is_refused(store, cloud_api):
    cloud, app, *_ = cloud_api(store)
    other = room_token(DEVELOPMENT_SECRET, "imatra", "r1")
    assert post_offer(cloud, other, "porvoo", "r1") == 401
    assert post_offer(cloud, "", "porvoo", "r1") == 401
    assert app.state.probe_peers.served == 0


def test_a_probe_of_a_room_outside_the_registry_is_refused(store, cloud_api):
    cloud, *_ = cloud_api(store)
    assert post_offer(cloud, room_token(DEVELOPMENT_SECRET, "porvoo", "r9"), "porvoo",
                      "r9") == 404


def test_probes_over_the_bound_are_refused_and_each_peer_closes_after_the_longest_time(
        store, cloud_api):
    cloud, app, *_ = cloud_api(store, max_concurrent=1, max_duration_s=3)
    token = room_token(DEVELOPMENT_SECRET, "porvoo", "r1")
    assert post_offer(cloud, token) == 200  # an offer whose agent never connects
    assert len(app.state.probe_peers) == 1
    assert post_offer(cloud, token) == 503
    wait_for(lambda: len(app.state.probe_peers) == 0, 10, "the idle peer closed")
    assert post_offer(cloud, token) == 200


def test_a_finished_probe_leaves_no_peer_behind_and_shutdown_closes_the_rest(store,
                                                                           cloud_api):
    cloud, app, stop = cloud_api(store)
    target = ProbeTarget(cloud, "porvoo", "r1", room_token(DEVELOPMENT_SECRET, "porvoo", "r1"))
    samples = asyncio.run(measure(target, ProbePlan(pings=20, burst_s=0.3)))
    assert len(samples.rtts_ms) == 20 and samples.pings_at_cloud == 20
    wait_for(lambda: len(app.state.probe_peers) == 0, 10, "the probe's peer closed")
    assert post_offer(cloud, target.token) == 200  # an offer whose agent never connects
    assert len(app.state.probe_peers) == 1
    stop()  # the API's shutdown
    assert len(app.state.probe_peers) == 0


def test_an_agent_refused_by_the_cloud_learns_why(store, cloud_api):
    cloud, *_ = cloud_api(store)
    target = ProbeTarget(cloud, "porvoo", "r1", "not-a-token")
    with pytest.raises(ProbeError, match="HTTP 401"):
        asyncio.run(measure(target, ProbePlan()))


def test_production_refuses_the_development_probe_secret(monkeypatch):
    monkeypatch.setenv("ETP_ENVIRONMENT", "production")
    with pytest.raises(ValueError, match="ETP_PROBE_SECRET"):
        ProbeSettings()
    monkeypatch.setenv("ETP_PROBE_SECRET", "x" * 40)
    assert ProbeSettings().secret.get_secret_value() == "x" * 40


def test_the_operator_prints_a_rooms_token_that_the_endpoint_accepts(store, cloud_api):
    from click.testing import CliRunner

    from etapalvelu.cli import cli

    result = CliRunner().invoke(cli, ["cloud", "probe-token", "porvoo", "r1"])
    assert result.exit_code == 0, result.output
    cloud, *_ = cloud_api(store)
    assert post_offer(cloud, result.output.strip()) == 200
    refused = CliRunner().invoke(cli, ["cloud", "probe-token", "porvoo", "r9"])
    assert refused.exit_code != 0 and "no room porvoo/r9" in refused.output


def test_a_cloud_that_does_not_answer_leaves_the_links_health_alone_but_a_dead_path_degrades_it(
        store, cloud_api):
    import threading

    from edge.probe import LinkLimits, ProbeRunner
    from tests.servers import free_port

    outcomes, finished = [], threading.Event()

    def done(figures, reading, starts) -> None:
        outcomes.append((figures, reading, starts))
        finished.set()

    def run(target) -> tuple:
        finished.clear()
        runner = ProbeRunner(target, ProbePlan(pings=10, timeout_s=5), LinkLimits(), done)
        assert runner.start()
        assert finished.wait(20), "the probe did not finish"
        return outcomes[-1]

    token = room_token(DEVELOPMENT_SECRET, "porvoo", "r1")
    assert run(ProbeTarget(f"http://127.0.0.1:{free_port()}", "porvoo", "r1", token)) == (
        None, None, None)
    cloud, *_ = cloud_api(store)
    dead_turn = {"urls": f"turn:127.0.0.1:{free_port()}?transport=udp", "username": "u",
                 "credential": "p"}
    figures, reading, _ = run(ProbeTarget(cloud, "porvoo", "r1", token,
                                          ice_servers=(dead_turn,), relay_only=True))
    assert figures is None and (reading.state, reading.code) == ("degraded", "probe_failed")


@pytest.mark.parametrize("sdp", [
    "garbage",  # no media at all
    ("v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\n"
     "m=application 9 UDP/DTLS/SCTP webrtc-datachannel\r\n"),  # no ICE, no DTLS
    "m=application x UDP/DTLS/SCTP webrtc-datachannel\r\n",  # aiortc asserts on it
    "v=0\r\nm=application 9 UDP/DTLS/SCTP webrtc-datachannel\r\na=sctp-port:abc\r\n",
])
def test_an_unusable_offer_gets_a_clear_refusal_and_leaves_no_peer(store, cloud_api, sdp):
    cloud, app, *_ = cloud_api(store)
    assert post_offer(cloud, room_token(DEVELOPMENT_SECRET, "porvoo", "r1"), sdp=sdp) == 422
    assert len(app.state.probe_peers) == 0
