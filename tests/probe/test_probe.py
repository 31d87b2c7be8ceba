"""The WebRTC link probe end to end: a room agent measures its link against the cloud's
probe endpoint; the figures reach the twin and the telemetry store; a lossy, slow link (a
real UDP relay that drops and delays datagrams, between the agent and its TURN server) gives
figures near the impairment and a network incident routed to Valtori."""
from __future__ import annotations

import asyncio
import json
import urllib.parse
import urllib.request
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from cloud.bookings.hours import HELSINKI
from cloud.bookings.rules import BookingRefused, Customer
from cloud.bookings.service import BookingRules, create_booking
from cloud.flows.incidents import incident_engine
from cloud.incidents.models import Incident
from cloud.probe.settings import DEVELOPMENT_SECRET
from cloud.probe.tokens import room_token
from cloud.settings import DEVELOPMENT_TOKEN
from cloud.twin.models import DeviceState, RoomLink
from edge.probe import ProbePlan, ProbeTarget, measure
from tests.incidents.conftest import quick_settings
from tests.netfault import UdpRelay
from tests.probe.conftest import TURN_PASSWORD, TURN_USER
from tests.servers import wait_for


def link_of(sessions, site: str, room: str) -> RoomLink | None:
    with sessions() as session:
        return session.get(RoomLink, (site, room))


def network_state(sessions, site: str, room: str) -> tuple[str | None, str | None]:
    with sessions() as session:
        row = session.get(DeviceState, (site, room, "network"))
        return (row.state, row.code) if row else (None, None)


def api_get(cloud: str, path: str) -> dict:
    request = urllib.request.Request(f"{cloud}{path}",
                                     headers={"Authorization": f"Bearer {DEVELOPMENT_TOKEN}"})
    with urllib.request.urlopen(request, timeout=10) as answer:
        return json.loads(answer.read())


def stored_values(victoria, metric: str) -> dict[tuple, list[float]]:
    """Values stored per series of ``metric`` in VictoriaMetrics."""
    urllib.request.urlopen(f"{victoria.url}/internal/force_flush", timeout=10).read()
    query = urllib.parse.urlencode({"match[]": f'{{__name__="{metric}"}}', "start": "0"})
    with urllib.request.urlopen(f"{victoria.url}/api/v1/export?{query}", timeout=10) as answer:
        series = [json.loads(line) for line in answer.read().splitlines() if line.strip()]
    return {tuple(sorted(s["metric"].items())): s["values"] for s in series}


def test_a_healthy_probe_reaches_the_twin_and_the_telemetry_store(
        store, victoria, cloud_api, ingest, probing_agent):
    sessions = store
    ingest(sessions, influx_url=victoria.url)
    cloud, *_ = cloud_api(sessions)
    probing_agent(cloud, "imatra", "r1")  # probes at once on start
    wait_for(lambda: link_of(sessions, "imatra", "r1") is not None, 60, "the link in the twin")
    link = link_of(sessions, "imatra", "r1")
    assert 0 < link.rtt_ms < 50 and link.loss_up_pct == 0 and link.loss_down_pct == 0
    assert link.bitrate_kbps > 2000  # the burst's pace is 4000 kbit/s; loopback keeps up
    wait_for(lambda: network_state(sessions, "imatra", "r1")[0] == "ok", 20, "network ok")
    room = api_get(cloud, "/api/rooms/imatra/r1")
    assert room["link"]["rtt_ms"] == link.rtt_ms and room["link"]["loss_up_pct"] == 0
    wait_for(lambda: stored_values(victoria, "network_probe_rtt_ms"), 30, "the point stored")
    [(tags, values)] = stored_values(victoria, "network_probe_rtt_ms").items()
    assert dict(tags) | {"__name__": None} == {"__name__": None, "site": "imatra",
                                               "room": "r1", "device": "network"}
    assert values == [link.rtt_ms]


def test_a_lossy_slow_link_gives_figures_near_its_impairment_and_a_network_incident_for_valtori(
        any_store, coturn, cloud_api, ingest, probing_agent, registry):
    sessions = any_store
    ingest(sessions)
    cloud, *_ = cloud_api(sessions, max_duration_s=150)  # outlasts the agent's timeout
    engine = incident_engine(sessions, registry, settings=quick_settings()).start()
    try:
        # 20 % of datagrams lost and 75 ms of delay each way: a round trip of 150 ms more
        with UdpRelay(coturn.port, loss=0.2, delay_s=0.075, seed=12) as relay:
            turn = {"urls": f"turn:127.0.0.1:{relay.port}?transport=udp",
                    "username": TURN_USER, "credential": TURN_PASSWORD}
            # each lost handshake datagram (TURN, DTLS, SCTP) costs a doubling retransmission
            # timer: set-up takes ~15 s here, and longer with bad luck
            probing_agent(cloud, "nurmes", "r1", ice_servers=[turn], relay_only=True,
                          timeout_s=120)
            wait_for(lambda: link_of(sessions, "nurmes", "r1") is not None, 150, "a probe")
            link = link_of(sessions, "nurmes", "r1")
            assert relay.dropped > 0  # the probe went through the relay, the only path
            assert 140 <= link.rtt_ms <= 200, link.rtt_ms
            assert 8 <= link.loss_up_pct <= 32 and 8 <= link.loss_down_pct <= 32, (
                link.loss_up_pct, link.loss_down_pct)
            assert link.bitrate_kbps < 1000  # congestion control backs off under such loss
            wait_for(lambda: network_state(sessions, "nurmes", "r1") == ("degraded",
                                                                         "packet_loss"),
                     20, "the network degraded in the twin")
            wait_for(lambda: incidents(sessions), 30, "an incident")
    finally:
        engine.stop()
    [incident] = incidents(sessions)
    assert (incident.site, incident.room, incident.device) == ("nurmes", "r1", "network")
    assert (incident.category, incident.party) == ("terminal_network", "valtori")
    assert incident.rule == "network_degraded" and incident.code == "packet_loss"


def book_next_slot(sessions, registry, site: str, room: str) -> datetime:
    """Book the room's first free 10:00 (Helsinki) of the coming days; return its start."""
    rules, now = BookingRules.load(registry), datetime.now(UTC)
    for days in range(1, 15):
        day = (now + timedelta(days=days)).astimezone(HELSINKI)
        start = day.replace(hour=10, minute=0, second=0, microsecond=0).astimezone(UTC)
        with sessions() as session:
            try:
                booking = create_booking(session, rules, site=site, service="vero-taxation",
                                         start=start, minutes=30, channel="service_number",
                                         customer=Customer(name="T. T."), actor="test",
                                         now=now, room=room)
            except BookingRefused:
                continue  # a weekend or a holiday
            session.commit()
            return booking.start
    raise AssertionError("no free slot in two weeks")


def test_the_agent_learns_its_rooms_bookings_from_the_probe_and_probes_before_each(
        store, cloud_api, probing_agent, registry):
    start = book_next_slot(store, registry, "porvoo", "r1")
    cloud, *_ = cloud_api(store, booking_horizon_h=24 * 15)
    agent = probing_agent(cloud, "porvoo", "r1", every_s=30 * 86400, before_booking_s=300,
                          pings=20)
    wait_for(lambda: agent.booking_starts, 60, "the bookings told by the probe's answer")
    assert agent.booking_starts == [start.timestamp()]
    assert agent.next_probe_at() == start.timestamp() - 300


def incidents(sessions) -> list[Incident]:
    with sessions() as session:
        return list(session.scalars(select(Incident).order_by(Incident.id)))


def test_a_jittery_link_shows_its_jitter_and_its_round_trip(store, coturn, cloud_api):
    cloud, *_ = cloud_api(store)
    # each way 30 ms plus 0-40 ms: a round trip's median 60 + 40 ms, and the change between
    # two round trips (four such draws) averages sqrt(2/pi) * 40 / sqrt(3), about 18 ms
    with UdpRelay(coturn.port, delay_s=0.03, jitter_s=0.04, seed=5) as relay:
        turn = {"urls": f"turn:127.0.0.1:{relay.port}?transport=udp", "username": TURN_USER,
                "credential": TURN_PASSWORD}
        target = ProbeTarget(cloud, "porvoo", "r1",
                             room_token(DEVELOPMENT_SECRET, "porvoo", "r1"),
                             ice_servers=(turn,), relay_only=True)
        figures = asyncio.run(measure(target, ProbePlan(pings=200, ping_interval_s=0.01,
                                                        burst_s=0.3))).figures()
    assert 85 <= figures.probe_rtt_ms <= 115, figures.probe_rtt_ms
    assert 11 <= figures.probe_jitter_ms <= 25, figures.probe_jitter_ms
