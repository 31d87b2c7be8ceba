"""The twin's writes at national scale: a batch's statuses in a few statements, transitions
once per real change, and a clock-skew reading that the ingest's backlog cannot inflate."""
from __future__ import annotations

from contextlib import contextmanager

import orjson
from sqlalchemy import event, text

from cloud.db import make_engine
from cloud.twin.batch import SKEW_WINDOW_MS, lower_skew, summarize
from cloud.twin.service import apply_batch
from protocol.codec import Received, decode

T0 = 1764500000000
ROOMS = [("storm", f"r{i:04d}") for i in range(2_000)]


def status(room: tuple[str, str], state: str, gen: int, received_ms: int) -> Received:
    payload = orjson.dumps({"v": 1, "ts": received_ms, "seq": 0, "state": state, "gen": gen})
    return Received(decode(f"etp/v1/{room[0]}/{room[1]}/agent/status", payload), received_ms)


def health(seq: int, ts: int, received_ms: int) -> Received:
    payload = orjson.dumps({"v": 1, "ts": ts, "seq": seq, "state": "ok"})
    return Received(decode("etp/v1/porvoo/r1/terminal/health", payload), received_ms)


@contextmanager
def counted_statements(engine):
    """Count the statements sent to the database while the block runs."""
    sent = []

    def count(*_args) -> None:
        sent.append(1)

    event.listen(engine, "before_cursor_execute", count)
    try:
        yield sent
    finally:
        event.remove(engine, "before_cursor_execute", count)


def apply(engine, received: list[Received]) -> int:
    """Apply one batch in one transaction; return how many statements it took."""
    with counted_statements(engine) as sent, engine.begin() as conn:
        apply_batch(conn, summarize(received, set()))
    return len(sent)


def rows(engine, query: str) -> list[tuple]:
    with engine.connect() as conn:
        return [tuple(row) for row in conn.execute(text(query))]


def test_two_thousand_rooms_statuses_commit_in_a_few_statements_with_each_change_logged_once(
        any_database):
    engine = make_engine(any_database)
    first, wills = ROOMS[:1_000], ROOMS[1_000:]
    births = apply(engine, [status(room, "online", 1, T0) for room in ROOMS])
    # the broker restarts: half the rooms' wills reach the ingest, the other half's births of
    # their next connection come before their wills
    restart = apply(engine, [status(room, "offline", 1, T0 + 1_000) for room in first]
                    + [status(room, "online", 2, T0 + 2_000) for room in wills])
    back = apply(engine, [status(room, "online", 2, T0 + 3_000) for room in first]
                 + [status(room, "offline", 1, T0 + 3_000) for room in wills])  # stale wills
    assert max(births, restart, back) <= 12, (births, restart, back)
    assert rows(engine, "SELECT count(*) FROM twin_agent WHERE online AND gen = 2") == [(2_000,)]
    logged = rows(engine, "SELECT room, from_state, to_state FROM twin_transition "
                          "WHERE device = 'agent' ORDER BY id")
    assert len(logged) == 2_000 + 1_000 + 1_000
    by_room: dict[str, list] = {}
    for room, before, after in logged:
        by_room.setdefault(room, []).append((before, after))
    assert by_room[first[0][1]] == [(None, "online"), ("online", "offline"),
                                    ("offline", "online")]
    assert by_room[wills[0][1]] == [(None, "online")]
    assert rows(engine, f"SELECT since FROM twin_agent WHERE room = '{wills[0][1]}'") == \
        rows(engine, f"SELECT at FROM twin_transition WHERE room = '{wills[0][1]}'")
    engine.dispose()


def test_messages_queued_thirty_seconds_before_the_ingest_read_them_do_not_read_as_skew(
        any_database):
    engine = make_engine(any_database)
    # a synchronised terminal's health every 15 s, read 40 ms after it was sent
    for seq in range(1, 9):
        ts = T0 + seq * 15_000
        apply(engine, [health(seq, ts, ts + 40)])
    # the broker restarts and the ingest falls behind: the next minute arrives 30 s late, in
    # one batch and then one at a time
    late = [health(seq, T0 + seq * 15_000, T0 + seq * 15_000 + 30_000) for seq in range(9, 13)]
    apply(engine, late[:2])
    for message in late[2:]:
        apply(engine, [message])
    assert rows(engine, "SELECT skew_ms FROM twin_device WHERE device = 'terminal'") == [(40,)]
    engine.dispose()


def test_a_clock_off_by_a_minute_reads_as_a_minute_on_every_store(any_database):
    engine = make_engine(any_database)
    for seq in range(1, 5):
        ts = T0 + seq * 15_000
        apply(engine, [health(seq, ts - 60_000, ts + 40)])
    assert rows(engine, "SELECT skew_ms FROM twin_device WHERE device = 'terminal'") == [(60_040,)]
    engine.dispose()


def test_a_clock_jumping_ahead_reads_at_once_and_one_falling_behind_after_the_window():
    reading = lower_skew(None, None, 50, T0)
    assert reading == (50, T0)
    ahead = lower_skew(*reading, -3_600_000, T0 + 15_000)
    assert ahead == (-3_600_000, T0 + 15_000)  # a lower sample: at once
    behind = lower_skew(*reading, 3_600_000, T0 + 15_000)
    assert behind == reading  # a higher one may be queueing: the reading holds
    assert lower_skew(*reading, 3_600_000, T0 + SKEW_WINDOW_MS + 1) == \
        (3_600_000, T0 + SKEW_WINDOW_MS + 1)  # no lower sample for the window: it was the clock
    confirmed = lower_skew(*reading, 700, T0 + 15_000)
    assert confirmed == (50, T0 + 15_000)  # jitter keeps the reading alive
