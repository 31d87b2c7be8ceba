"""The probe's pure parts: figures from samples, the verdict, the schedule; and the relay
the tests degrade links with."""
from __future__ import annotations

import socket
import time

import pytest

from edge.probe import LinkLimits, LinkSamples, judge, next_probe_at
from protocol.payloads import LinkFigures
from tests.netfault import UdpRelay


def figures(**overrides) -> LinkFigures:
    values = {"probe_rtt_ms": 20.0, "probe_jitter_ms": 2.0, "probe_loss_up_pct": 0.0,
              "probe_loss_down_pct": 0.0, "probe_bitrate_kbps": 3000.0, "probe_setup_ms": 100.0}
    return LinkFigures(**(values | overrides))


def test_loss_is_counted_per_direction_from_what_the_cloud_received():
    samples = LinkSamples(setup_ms=100, pings_sent=100, rtts_ms=[10.0] * 72, pings_at_cloud=80,
                          burst_bytes_at_cloud=125_000, burst_span_s=1.0, burst_sent_s=1.0)
    result = samples.figures()
    assert (result.probe_loss_up_pct, result.probe_loss_down_pct) == (20.0, 10.0)
    assert result.probe_bitrate_kbps == 1000.0


def test_jitter_is_the_mean_change_of_round_trip_between_returned_pings():
    samples = LinkSamples(setup_ms=1, pings_sent=4, rtts_ms=[10.0, 14.0, 12.0, 12.0],
                          pings_at_cloud=4)
    assert samples.figures().probe_jitter_ms == 2.0
    assert samples.figures().probe_rtt_ms == 12.0


def test_a_probe_with_no_echo_is_total_loss():
    result = LinkSamples(setup_ms=1, pings_sent=50).figures()
    assert result.probe_loss_up_pct == 100.0 and result.probe_rtt_ms == 0.0


@pytest.mark.parametrize(("overrides", "code"), [
    ({"probe_loss_down_pct": 12.0}, "packet_loss"),
    ({"probe_rtt_ms": 450.0}, "high_latency"),
    ({"probe_jitter_ms": 80.0}, "high_jitter"),
    ({"probe_bitrate_kbps": 300.0}, "low_bitrate"),
])
def test_a_link_over_a_limit_is_degraded_with_the_worst_breach_as_code(overrides, code):
    reading = judge(figures(**overrides), LinkLimits())
    assert (reading.state, reading.code) == ("degraded", code)


def test_a_link_within_the_limits_is_ok():
    assert judge(figures(), LinkLimits()).state == "ok"


def test_the_next_probe_comes_before_a_booking_sooner_than_the_regular_turn():
    now = 1_000_000.0
    assert next_probe_at(now=now, last_at=None, every_s=900, booking_starts=[],
                         lead_s=300) == now
    assert next_probe_at(now=now, last_at=now - 100, every_s=900, booking_starts=[],
                         lead_s=300) == now + 800
    booking = now + 400
    assert next_probe_at(now=now, last_at=now - 100, every_s=900, booking_starts=[booking],
                         lead_s=300) == now + 100
    # once probed inside the lead, the same booking asks for nothing more
    assert next_probe_at(now=now + 150, last_at=now + 100, every_s=900,
                         booking_starts=[booking], lead_s=300) == now + 1000


def test_the_udp_relay_loses_about_its_share_and_delays_each_datagram():
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as echo, \
            socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as client:
        echo.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 * 2**20)  # holds the lot
        echo.bind(("127.0.0.1", 0))
        client.settimeout(2)
        with UdpRelay(echo.getsockname()[1], loss=0.3, delay_s=0.05, seed=3) as relay:
            started = time.monotonic()
            for n in range(400):
                client.sendto(b"%d" % n, ("127.0.0.1", relay.port))
            echo.settimeout(2)
            got = 0
            try:
                while got < 400:
                    echo.recvfrom(100)
                    got += 1
                    if got == 1:
                        first = time.monotonic() - started
            except TimeoutError:
                pass
    assert 0.22 < 1 - got / 400 < 0.38
    assert relay.dropped + relay.forwarded == 400
    assert first >= 0.05


def test_the_cloud_tells_an_agent_its_bookings_and_the_agent_probes_before_them(tmp_path):
    from datetime import UTC, datetime

    from cloud.probe.schedule import probe_schedule_command
    from edge.agent import Agent
    from edge.config import LinkProbe, simulated_config
    from protocol.codec import decode

    start = datetime(2026, 12, 1, 9, 30, tzinfo=UTC)
    topic, payload = probe_schedule_command("porvoo", "r1", [start])
    message = decode(topic, payload)
    assert message.topic.command == "probe_schedule"
    agent = Agent(simulated_config("porvoo", "r1", outbox_path=tmp_path / "o.sqlite",
                                   probe=LinkProbe(url="https://cloud.example.invalid",
                                                   token="t")))
    assert agent._execute("agent", "probe_schedule", dict(message.payload.args)) == (
        True, "1 booking starts")
    assert agent.booking_starts == [start.timestamp()]


def test_a_probe_config_without_a_token_or_a_network_device_is_refused_readably(tmp_path):
    from edge.config import ConfigError, load_config, missing_files

    path = tmp_path / "agent.yaml"
    path.write_text("site: porvoo\nroom: r1\ndevices: [{type: agent}]\n"
                    "probe: {url: 'https://cloud.example.invalid'}\n", encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    assert any("probe: give the room's probe token" in p for p in caught.value.problems)
    path.write_text("site: porvoo\nroom: r1\ndevices: [{type: agent}]\n"
                    "probe: {url: 'https://cloud.example.invalid', token_file: /nowhere}\n",
                    encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    assert any("add a device of type network" in p for p in caught.value.problems)
    path.write_text("site: porvoo\nroom: r1\ndevices: [{type: network}]\n"
                    "probe: {url: 'https://cloud.example.invalid', token_file: /nowhere}\n",
                    encoding="utf-8")
    assert missing_files(load_config(path)) == ["probe.token_file: file /nowhere not found"]
