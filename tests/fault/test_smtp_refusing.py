"""The organisation's SMTP relay refusing every message for ten minutes ("451 try again
later"), in time compressed a hundredfold through the settings (retry base 2 s -> 0.02 s,
cap 300 s -> 3 s, ten minutes -> 6 s): every notification queued before and during it is
delivered once after it, by itself, and the retries back off instead of hammering the relay."""
from __future__ import annotations

import time

import pytest
from sqlalchemy import func, select

from cloud.notify.models import OutboxMessage
from cloud.notify.worker import NotifyWorker
from tests.notify.test_outbox import add, fast_settings, states
from tests.servers import wait_for

pytestmark = pytest.mark.fault
COMPRESSION = 100
TEN_MINUTES_S = 600 / COMPRESSION
DESK = "desk@supplier.example.invalid"


def test_a_relay_refusing_for_ten_minutes_gets_every_message_once_afterwards(store, smtp):
    smtp.refuse[DESK] = "451 4.3.0 Relay busy, try again later"
    add(store, 10)
    worker = NotifyWorker(store, fast_settings(smtp, retry_base_s=2.0 / COMPRESSION,
                                               retry_cap_s=300.0 / COMPRESSION)).start()
    try:
        wait_for(lambda: len(smtp.refused) >= 10, 10, "every message refused once")
        time.sleep(TEN_MINUTES_S / 2)  # the refusal itself is the condition under test
        add(store, 5, prefix="late")
        time.sleep(TEN_MINUTES_S / 2)
        del smtp.refuse[DESK]
        wait_for(lambda: states(store) == {"sent": 15}, 2 * 300.0 / COMPRESSION + 5,
                 "every message sent within one retry cap of the relay's return")
    finally:
        worker.stop()
    assert smtp.by_key() == {**{f"m-{i}": 1 for i in range(10)},
                             **{f"late-{i}": 1 for i in range(5)}}
    with store() as session:
        most = session.scalar(select(func.max(OutboxMessage.attempts)))
    assert most <= 12  # doubling up to the cap: about ten tries in ten minutes, not hundreds
