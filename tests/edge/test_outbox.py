"""The durable outbox: bounded by bytes, drops only telemetry (oldest first, counted), never
events, keeps order and sequence numbers across restarts."""
from __future__ import annotations

import time
from pathlib import Path

import pytest

from edge import messages
from edge.outbox import Outbox, OutboxFull, Pending

TS = 1764500000000


def event(seq: int, device: str = "callbutton") -> Pending:
    payload = messages.event(ts=TS, seq=seq, id=f"evt-{device}-{seq:06d}",
                             data={"type": "button_press"})
    return Pending(device, "event", f"etp/v1/porvoo/r1/{device}/event", payload, 1, False, seq)


def telemetry(seq: int, device: str = "agent") -> Pending:
    payload = messages.telemetry(ts=TS, seq=seq, metrics={"cpu_pct": 1.5, "n": seq})
    return Pending(device, "telemetry", f"etp/v1/porvoo/r1/{device}/telemetry", payload, 0,
                   False, seq)


def health(seq: int, device: str) -> Pending:
    payload = messages.health(ts=TS, seq=seq, state="ok")
    return Pending(device, "health", f"etp/v1/porvoo/r1/{device}/health", payload, 1, True, seq)


def kinds_and_seqs(outbox: Outbox) -> list[tuple[str, int]]:
    import orjson

    return [(row.topic.rsplit("/", 1)[1], orjson.loads(row.payload)["seq"])
            for row in outbox.pending(0, 1_000_000)]


def test_messages_come_back_in_the_order_they_were_put_and_survive_reopening(tmp_path):
    outbox = Outbox(tmp_path / "o.sqlite")
    outbox.put([event(0), telemetry(0), event(1)])
    outbox.put([telemetry(1)])
    outbox.close()
    reopened = Outbox(tmp_path / "o.sqlite")
    assert kinds_and_seqs(reopened) == [("event", 0), ("telemetry", 0), ("event", 1),
                                        ("telemetry", 1)]
    assert len(reopened) == 4 and reopened.bytes == sum(
        m.size for m in (event(0), telemetry(0), event(1), telemetry(1)))


def test_removed_messages_are_gone_and_pending_pages_after_a_row(tmp_path):
    outbox = Outbox(tmp_path / "o.sqlite")
    outbox.put([event(n) for n in range(5)])
    first = outbox.pending(0, 2)
    assert len(first) == 2
    rest = outbox.pending(first[-1].row, 10)
    assert len(rest) == 3
    outbox.remove([row.row for row in first])
    outbox.remove([first[0].row])  # removing twice changes nothing
    assert [r.row for r in outbox.pending(0, 10)] == [r.row for r in rest]
    assert len(outbox) == 3 and outbox.bytes == 3 * event(0).size


def test_full_outbox_drops_only_the_oldest_telemetry_and_counts_it(tmp_path):
    items = []
    for n in range(10, 30):  # two-digit numbers: every message of a kind has the same size
        items += [event(n), telemetry(n)]
    outbox = Outbox(tmp_path / "o.sqlite", max_bytes=sum(m.size for m in items))
    outbox.put(items)
    assert outbox.dropped == 0
    outbox.put([telemetry(n) for n in range(30, 35)])  # five more: the five oldest go
    assert outbox.dropped == 5
    stored = kinds_and_seqs(outbox)
    assert [s for k, s in stored if k == "event"] == list(range(10, 30))
    assert [s for k, s in stored if k == "telemetry"] == list(range(15, 35))
    outbox.close()
    assert Outbox(tmp_path / "o.sqlite").dropped == 5  # the counter is persisted


def test_events_are_never_dropped_and_refused_when_only_events_remain(tmp_path):
    first = [telemetry(10), telemetry(11)] + [event(n) for n in range(10, 20)]
    outbox = Outbox(tmp_path / "o.sqlite", max_bytes=sum(m.size for m in first))
    outbox.put(first)
    assert event(20).size > telemetry(12).size
    outbox.put([event(20)])  # makes room by dropping both telemetry points
    assert outbox.dropped == 2
    with pytest.raises(OutboxFull, match="undroppable"):
        outbox.put([event(21), telemetry(12)])
    assert outbox.refused == 1
    assert outbox.dropped == 3  # the telemetry point that did not fit is dropped, not refused
    assert [s for k, s in kinds_and_seqs(outbox)] == list(range(10, 21))
    outbox.remove([row.row for row in outbox.pending(0, 1)])
    outbox.put([event(21)])  # room again once something was delivered
    assert [s for k, s in kinds_and_seqs(outbox)][-1] == 21


def test_superseded_health_goes_after_telemetry_but_the_latest_report_stays(tmp_path):
    outbox = Outbox(tmp_path / "o.sqlite",
                    max_bytes=3 * health(0, "doccam").size + event(0).size + 16)
    outbox.put([health(0, "doccam"), health(1, "doccam"), health(0, "terminal"), event(0)])
    outbox.put([health(2, "doccam")])
    stored = [(row.topic.split("/")[4], row.payload) for row in outbox.pending(0, 10)]
    assert [d for d, _ in stored] == ["doccam", "terminal", "callbutton", "doccam"]
    assert outbox.dropped == 1


def test_sequence_numbers_are_remembered_across_reopening(tmp_path):
    outbox = Outbox(tmp_path / "o.sqlite")
    outbox.put([event(7), telemetry(3, "doccam")])
    outbox.remove([row.row for row in outbox.pending(0, 10)])
    outbox.note_seq("agent", 42)
    outbox.close()
    reopened = Outbox(tmp_path / "o.sqlite")
    assert reopened.last_seq("callbutton") == 7
    assert reopened.last_seq("doccam") == 3
    assert reopened.last_seq("agent") == 42
    assert reopened.last_seq("network") is None


def test_connection_generations_rise_across_reopening_and_with_the_clock(tmp_path):
    outbox = Outbox(tmp_path / "o.sqlite")
    first = outbox.next_connection(now_ms=1_000)
    assert outbox.next_connection(now_ms=1_000) == first + 1  # the clock stood still
    outbox.close()
    reopened = Outbox(tmp_path / "o.sqlite")
    assert reopened.next_connection(now_ms=0) == first + 2  # the clock went back
    assert reopened.next_connection(now_ms=5_000) == 5_000  # a lost outbox restarts from here


def test_batched_puts_sustain_thousands_of_messages_per_second(tmp_path):
    outbox = Outbox(tmp_path / "o.sqlite")
    batches = [[telemetry(n) for n in range(b * 500, b * 500 + 500)] for b in range(20)]
    started = time.perf_counter()
    for batch in batches:
        outbox.put(batch)
    put_rate = 10_000 / (time.perf_counter() - started)
    started = time.perf_counter()
    while rows := outbox.pending(0, 200):
        outbox.remove([row.row for row in rows])
    drain_rate = 10_000 / (time.perf_counter() - started)
    print(f"outbox put_per_s={put_rate:.0f} drain_per_s={drain_rate:.0f}")
    assert put_rate > 5_000 and drain_rate > 5_000
    assert len(outbox) == 0 and outbox.bytes == 0


def test_every_acknowledged_put_survives_the_process_being_killed(tmp_path):
    import os
    import signal
    import subprocess
    import sys

    writer = subprocess.Popen([sys.executable, "-c", f"""
import sys
from tests.edge.test_outbox import event
from edge.outbox import Outbox
outbox = Outbox({str(tmp_path / 'o.sqlite')!r})
for n in range(100000):
    outbox.put([event(n)])
    print(n, flush=True)
"""], stdout=subprocess.PIPE, text=True, cwd=Path(__file__).parents[2])
    for _ in range(200):  # let it get going, then kill it mid-write
        last = int(writer.stdout.readline())
    os.kill(writer.pid, signal.SIGKILL)
    for line in writer.stdout:
        last = int(line)
    writer.wait(5)
    reopened = Outbox(tmp_path / "o.sqlite")
    stored = [s for _, s in kinds_and_seqs(reopened)]
    assert stored[: last + 1] == list(range(last + 1))
    assert reopened.last_seq("callbutton") == stored[-1]


def test_delivered_events_can_be_queued_again_for_a_resend_and_telemetry_cannot(tmp_path):
    outbox = Outbox(tmp_path / "outbox.sqlite")
    outbox.put([event(1), telemetry(2), event(3)])
    outbox.remove([m.row for m in outbox.pending()], now=1000.0)
    outbox.put([event(4)])
    outbox.remove([m.row for m in outbox.pending()], now=1100.0)
    assert len(outbox) == 0
    assert outbox.resend(seconds=50, now=1120.0) == 1  # only what was delivered since 1070
    assert kinds_and_seqs(outbox) == [("event", 4)]
    assert outbox.resend(seconds=500, now=1120.0) == 3
    assert kinds_and_seqs(outbox) == [("event", 4), ("event", 1), ("event", 3), ("event", 4)]


def test_the_sent_log_forgets_events_older_than_its_window(tmp_path):
    outbox = Outbox(tmp_path / "outbox.sqlite")
    outbox.put([event(1)])
    outbox.remove([m.row for m in outbox.pending()], now=1000.0)
    outbox.put([event(2)])
    outbox.remove([m.row for m in outbox.pending()], now=1000.0 + 2 * 3600)
    assert outbox.resend(seconds=10 * 3600, now=1000.0 + 2 * 3600) == 1
