"""``etapalvelu bench storm`` runs end to end on a small fleet (the production broker config
and credentials, the cloud's processes, a graceful broker restart) and prints one JSON line;
its wire layer and its reading of the twin hold on their own."""
from __future__ import annotations

import json
import subprocess
import sys
from types import SimpleNamespace

import psutil
import pytest

from etapalvelu.bench._wire import (
    connect_packet,
    publish_packet,
    read_publish,
    split_packets,
)
from etapalvelu.bench.storm import twin_shows_all_online


@pytest.mark.postgres
def test_the_storm_benchmark_loses_nothing_over_a_graceful_broker_restart():
    done = subprocess.run([sys.executable, "-m", "etapalvelu.cli", "bench", "storm",
                           "--agents", "50", "--restart", "term", "--gap", "2",
                           "--settle", "5", "--real-agents", "1"], capture_output=True, text=True, timeout=300,
                          check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    figures = json.loads(done.stdout.strip().splitlines()[-1])
    for key in ("agents", "all_back_s", "twin_online_s", "twin_after_last_s", "lost",
                "false_incidents", "notifications_queued", "ingest_backlog_peak",
                "connect_rate_per_s", "cold_twin_online_s", "processes", "load_avg_start",
                "restart", "gap_s", "ingest_workers", "resends"):
        assert key in figures, key
    assert figures["agents"] == 50 and figures["restart"] == "term"
    assert figures["refused"] == 0  # every room got in with its own credentials and ACL
    assert figures["all_back_s"] is not None and figures["twin_online_s"] is not None
    assert figures["events_acked"] > 0 and figures["lost"] == 0
    assert figures["real_back"] == 1 and figures["real_all_back_s"] is not None
    assert {"mosquitto", "ingest", "engine", "postgresql", "load_client"} \
        <= set(figures["processes"])
    assert not [p for p in psutil.process_iter(["cmdline"])  # the real agent was stopped
                if "edge" in (p.info["cmdline"] or []) and storm_folder(p.info["cmdline"])]


def storm_folder(cmdline: list[str]) -> bool:
    return any("etp-bench-storm-" in part for part in cmdline)


def test_packets_split_only_when_whole():
    stream = bytearray(connect_packet("c", 10, username="u", password="p",
                                      will=("t/s", b"x", 1, True)))
    stream += publish_packet("etp/v1/a/r1/agent/status", b'{"v":1}', 1, 7, retain=True)
    half = bytearray(stream[:-3])
    packets = split_packets(half)
    assert [first for first, _ in packets] == [0x10] and len(half) > 0
    half += stream[-3:]
    ((first, body),) = split_packets(half)
    assert not half
    assert read_publish(first, body) == ("etp/v1/a/r1/agent/status", b'{"v":1}', 1, 7)
    assert first & 0x01  # retained


def test_a_twin_row_of_an_earlier_connection_does_not_count_as_back():
    room = SimpleNamespace(site="s1", ready=True, born_gen=20)
    assert not twin_shows_all_online([room], {"s1": (True, 10)})  # online, but the old gen
    assert twin_shows_all_online([room], {"s1": (True, 20)})
    assert not twin_shows_all_online([room], {})
