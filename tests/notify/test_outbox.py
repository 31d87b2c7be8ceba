"""The outbox and its worker against a real SMTP server and a real HTTP receiver."""
from __future__ import annotations

import logging
import os
import random
import signal
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from cloud.notify import enqueue
from cloud.notify.channels import message_id
from cloud.notify.models import Attempt, OutboxMessage
from cloud.notify.outbox import retry_delay
from cloud.notify.settings import NotifySettings
from cloud.notify.templates import TemplateError
from cloud.notify.worker import NotifyWorker
from tests.servers import wait_for


def fast_settings(smtp=None, **overrides) -> NotifySettings:
    """Settings for tests: quick polls and retries."""
    values = {"smtp_host": "127.0.0.1" if smtp else None,
              "smtp_port": smtp.port if smtp else 25, "poll_interval_s": 0.05,
              "retry_base_s": 0.2, "retry_cap_s": 1.0, "smtp_timeout_s": 3, "http_timeout_s": 3,
              "lease_s": 30}
    return NotifySettings(**(values | overrides))


def add(store, n: int, *, channel="email", to="desk@supplier.example.invalid", prefix="m"):
    with store() as session:
        for i in range(n):
            enqueue(session, channel=channel, to=to, template="test_message",
                    language="fi" if i % 2 else "en", context={"n": i},
                    idempotency_key=f"{prefix}-{i}")
        session.commit()


def states(store) -> dict[str, int]:
    with store() as session:
        rows = session.execute(select(OutboxMessage.state, func.count())
                               .group_by(OutboxMessage.state)).all()
    return dict(rows)


def test_a_message_is_sent_only_when_the_callers_transaction_commits(store, smtp):
    with store() as session:
        enqueue(session, channel="email", to="a@example.invalid", template="test_message",
                language="en", context={"n": 1}, idempotency_key="rolled-back")
        session.rollback()
    add(store, 1)
    worker = NotifyWorker(store, fast_settings(smtp)).start()
    try:
        wait_for(lambda: len(smtp.keys()) == 1, 10, "one e-mail")
    finally:
        worker.stop()
    assert smtp.keys() == ["m-0"]


def test_enqueueing_a_key_twice_gives_one_message(store):
    add(store, 3)
    add(store, 3)
    assert states(store) == {"pending": 3}


def test_an_unfillable_template_is_refused_in_the_callers_transaction(store):
    with store() as session, pytest.raises(TemplateError, match="needs context"):
        enqueue(session, channel="email", to="a@example.invalid", template="test_message",
                language="fi", context={}, idempotency_key="k")
    with store() as session, pytest.raises(TemplateError, match="no language"):
        enqueue(session, channel="email", to="a@example.invalid", template="test_message",
                language="sv", context={"n": 1}, idempotency_key="k")


def test_an_email_carries_its_idempotency_key_and_a_stable_message_id(store, smtp):
    add(store, 2)
    worker = NotifyWorker(store, fast_settings(smtp)).start()
    try:
        wait_for(lambda: len(smtp.keys()) == 2, 10, "two e-mails")
    finally:
        worker.stop()
    mails = {r.key: r for r in smtp.received}
    assert mails["m-0"].headers["Message-ID"] == message_id("m-0", "etapalvelu.example.invalid")
    assert mails["m-0"].subject == "Test message 0"
    assert mails["m-1"].subject == "Testiviesti 1"  # Finnish for odd numbers
    assert "testiviesti 1" in mails["m-1"].body
    assert states(store) == {"sent": 2}


@pytest.mark.parametrize("outage_s", [
    3.0, pytest.param(180.0, marks=pytest.mark.soak, id="minutes")])
def test_smtp_down_then_back_delivers_every_message_exactly_once(store, smtp, outage_s):
    smtp.stop()
    add(store, 20)
    worker = NotifyWorker(store, fast_settings(smtp, retry_cap_s=max(1.0, outage_s / 10))).start()
    try:
        wait_for(lambda: _failures(store) >= 20, 10, "every message tried and failed")
        time.sleep(outage_s)  # the outage itself is the condition under test
        add(store, 5, prefix="late")
        smtp.start()
        wait_for(lambda: states(store) == {"sent": 25}, 30 + outage_s / 5, "all sent")
    finally:
        worker.stop()
    assert smtp.by_key() == {**{f"m-{i}": 1 for i in range(20)},
                             **{f"late-{i}": 1 for i in range(5)}}
    with store() as session:
        recorded = session.scalar(select(func.count()).select_from(Attempt))
        attempts = session.scalar(select(func.sum(OutboxMessage.attempts)))
    assert recorded == attempts > 25  # every attempt is on record, failures included


def _failures(store) -> int:
    with store() as session:
        return session.scalar(select(func.count()).select_from(Attempt)
                              .where(Attempt.outcome == "retry"))


def test_two_workers_never_send_one_message_twice(store, smtp):
    add(store, 60)
    workers = [NotifyWorker(store, fast_settings(smtp), name=f"w{i}").start() for i in range(2)]
    try:
        wait_for(lambda: states(store) == {"sent": 60}, 30, "all sent")
    finally:
        for worker in workers:
            worker.stop()
    assert sorted(smtp.by_key().values()) == [1] * 60


def test_sms_and_webhook_carry_the_key_and_retry_while_the_gateway_fails(store, http_receiver):
    http_receiver.status = 503
    add(store, 2, channel="sms", to="+358000000000", prefix="sms")
    add(store, 2, channel="webhook", to=f"{http_receiver.url}/tickets", prefix="hook")
    settings = fast_settings(sms_url=f"{http_receiver.url}/sms")
    worker = NotifyWorker(store, settings).start()
    try:
        wait_for(lambda: _failures(store) >= 4, 10, "the gateway refusing")
        http_receiver.status = 200
        wait_for(lambda: states(store) == {"sent": 4}, 15, "all sent")
    finally:
        worker.stop()
    assert http_receiver.by_key() == {"sms-0": 1, "sms-1": 1, "hook-0": 1, "hook-1": 1}
    sms = next(r for r in http_receiver.received if r.key == "sms-1")
    assert sms.headers["json"] == {"to": "+358000000000", "text": sms.body}
    hook = next(r for r in http_receiver.received if r.key == "hook-0")
    assert hook.headers["json"]["template"] == "test_message" and hook.to == "/tickets"


def test_a_refused_request_is_not_retried(store, http_receiver):
    http_receiver.status = 400
    add(store, 1, channel="webhook", to=f"{http_receiver.url}/tickets")
    worker = NotifyWorker(store, fast_settings()).start()
    try:
        wait_for(lambda: states(store) == {"failed": 1}, 10, "a failed message")
    finally:
        worker.stop()
    with store() as session:
        assert session.scalar(select(OutboxMessage.attempts)) == 1


@pytest.mark.parametrize("reply, outcome", [
    ("550 5.1.1 <gone@customer.example.invalid>: Recipient address rejected", "failed"),
    ("450 4.2.1 <gone@customer.example.invalid>: Mailbox busy", "retry")],
    ids=["refused for good", "refused for now"])
def test_a_recipient_refused_for_good_fails_at_once_and_no_address_reaches_logs_or_errors(
        store, smtp, caplog, reply, outcome):
    gone = "gone@customer.example.invalid"
    smtp.refuse[gone] = reply
    add(store, 1, to=gone)
    caplog.set_level(logging.DEBUG, logger="cloud")
    worker = NotifyWorker(store, fast_settings(smtp, retry_base_s=30)).start()
    try:
        wait_for(lambda: attempts(store), 10, "the first attempt")
    finally:
        worker.stop()
    with store() as session:
        message = session.scalars(select(OutboxMessage)).one()
        (attempt,) = session.scalars(select(Attempt)).all()
    assert smtp.refused == [gone] and smtp.keys() == []
    assert attempt.outcome == outcome
    assert message.state == ("failed" if outcome == "failed" else "pending")
    assert attempt.error == message.last_error == f"smtp recipient refused {reply[:3]}"
    logged = [r.getMessage() for r in caplog.records if r.name.startswith("cloud")]
    assert any("outcome=" + outcome in line for line in logged)
    assert not [line for line in logged if "gone@" in line]


def attempts(store) -> list[Attempt]:
    with store() as session:
        return session.scalars(select(Attempt)).all()


def test_a_worker_killed_mid_send_is_resent_with_the_same_key(tmp_path, store, smtp):
    """The receiver got the mail but the worker died before it heard the answer."""
    add(store, 3)
    smtp.hold.clear()  # accept the data but do not answer yet
    url = f"sqlite:///{tmp_path / 'cloud.sqlite'}"
    env = {**os.environ, "ETP_DATABASE_URL": url, "ETP_NOTIFY_SMTP_HOST": "127.0.0.1",
           "ETP_NOTIFY_SMTP_PORT": str(smtp.port), "ETP_NOTIFY_LEASE_S": "1",
           "ETP_NOTIFY_POLL_INTERVAL_S": "0.05"}
    child = subprocess.Popen([str(Path(sys.executable).with_name("etapalvelu")), "cloud",
                              "notify"], env=env,
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_for(lambda: len(smtp.keys()) >= 1, 20, "a delivery in flight")
        child.send_signal(signal.SIGKILL)
        child.wait(10)
    finally:
        if child.poll() is None:
            child.kill()
    smtp.hold.set()
    worker = NotifyWorker(store, fast_settings(smtp, lease_s=1)).start()
    try:
        wait_for(lambda: states(store) == {"sent": 3}, 20, "all sent after the restart")
    finally:
        worker.stop()
    counts = smtp.by_key()
    assert set(counts) == {"m-0", "m-1", "m-2"}  # nothing lost
    assert sum(counts.values()) <= 3 + len(counts)  # a repeat only of what was in flight


def test_retry_delay_grows_and_is_capped():
    rng = random.Random(1)
    delays = [retry_delay(n, base_s=2, cap_s=60, rng=rng) for n in range(1, 10)]
    assert timedelta(seconds=1) <= delays[0] <= timedelta(seconds=2)
    assert all(d <= timedelta(seconds=60) for d in delays)
    assert delays[-1] >= timedelta(seconds=30)


@pytest.mark.postgres
def test_two_workers_on_postgresql_send_each_message_once(postgres, smtp):
    from cloud.db import make_engine, make_sessionmaker, migrate

    url = postgres.create_database(f"notify_{os.getpid()}_{int(time.time() * 1000)}")
    migrate(url)
    engine = make_engine(url)
    sessions = make_sessionmaker(engine)
    add(sessions, 80)
    workers = [NotifyWorker(sessions, fast_settings(smtp), name=f"pg{i}").start()
               for i in range(3)]
    try:
        wait_for(lambda: states(sessions) == {"sent": 80}, 30, "all sent")
    finally:
        for worker in workers:
            worker.stop()
        engine.dispose()
    assert sorted(smtp.by_key().values()) == [1] * 80
