"""A booking's confirmation reaches a real SMS gateway peer through the shared notify worker."""
from __future__ import annotations

import time

from cloud.bookings import service
from cloud.bookings.service import Customer
from cloud.flows.reminders import confirm
from cloud.notify.settings import NotifySettings
from cloud.notify.worker import NotifyWorker
from tests.bookings.conftest import at
from tests.notify.receivers import HttpReceiver


def wait_until(predicate, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out waiting for {what}")
        time.sleep(0.02)


def test_the_confirmation_is_sent_as_sms_in_the_customers_language(store, rules):
    gateway = HttpReceiver().start()
    worker = NotifyWorker(store, NotifySettings(sms_url=f"{gateway.url}/sms",
                                                poll_interval_s=0.05)).start()
    try:
        with store() as session:
            booking = service.create_booking(
                session, rules, site="porvoo", service="vero-taxation",
                start=at(2025, 11, 12, 13, 30), minutes=60, channel="service_number",
                customer=Customer(name="S. S.", phone="+358401112222", language="sv"),
                actor="adv", now=at(2025, 11, 10, 8))
            confirm(session, rules, booking=booking, now=at(2025, 11, 10, 8))
            session.commit()
        worker.wake()
        wait_until(lambda: gateway.received, 10, "the SMS at the gateway")
    finally:
        worker.stop()
        gateway.stop()
    sms = gateway.received[0]
    assert sms.to == "+358401112222"
    assert "Skatteförvaltningen" not in sms.body and "Beskattningsärenden" in sms.body
    assert "12.11.2025 kl. 13:30" in sms.body and "Borgå-info" in sms.body
    assert sms.key == f"booking:{booking.id}:booking_confirmation:{booking.start.isoformat()}"
    assert "S. S." not in sms.body


def test_the_purge_also_blanks_the_address_kept_in_the_notify_outbox(store, rules):
    from datetime import timedelta

    from sqlalchemy import select

    from cloud.flows.purge import purge_personal_data
    from cloud.notify.models import OutboxMessage

    with store() as session:
        booking = service.create_booking(
            session, rules, site="porvoo", service="vero-taxation",
            start=at(2025, 11, 12, 13, 30), minutes=30, channel="on_site",
            customer=Customer(name="S. S.", phone="+358401112222", language="fi"),
            actor="adv", now=at(2025, 11, 10, 8))
        confirm(session, rules, booking=booking, now=at(2025, 11, 10, 8))
        kept = session.scalars(select(OutboxMessage.recipient)).all()
        assert kept == ["+358401112222"]
        purge_personal_data(session, now=booking.end + timedelta(days=31),
                            retention=timedelta(days=30))
        message = session.scalars(select(OutboxMessage)).one()
        assert message.recipient == "" and message.context == {}
        assert message.state == "failed"  # never sent, and now too late to send


def test_a_confirmation_refused_by_the_mail_server_fails_at_once_and_the_purge_blanks_it(
        store, rules):
    from datetime import timedelta

    from sqlalchemy import select

    from cloud.flows.purge import purge_personal_data
    from cloud.notify.models import Attempt, OutboxMessage
    from tests.notify.receivers import SmtpReceiver

    gone = "gone@customer.example.invalid"
    relay = SmtpReceiver().start()
    relay.refuse[gone] = f"550 5.1.1 <{gone}>: Recipient address rejected"
    patience = 10 * 365 * 86400  # the booking's clock is in the past: no giving up for age
    worker = NotifyWorker(store, NotifySettings(smtp_host="127.0.0.1", smtp_port=relay.port,
                                                poll_interval_s=0.05, retry_base_s=30,
                                                give_up_after_s=patience)).start()
    try:
        with store() as session:
            booking = service.create_booking(
                session, rules, site="porvoo", service="vero-taxation",
                start=at(2025, 11, 12, 13, 30), minutes=30, channel="on_site",
                customer=Customer(name="S. S.", email=gone, language="fi"),
                actor="adv", now=at(2025, 11, 10, 8))
            confirm(session, rules, booking=booking, now=at(2025, 11, 10, 8))
            session.commit()
        worker.wake()
        wait_until(lambda: relay.refused, 10, "the refusal at the relay")
        wait_until(lambda: state(store) == "failed", 10, "the message given up")
    finally:
        worker.stop()
        relay.stop()
    with store() as session:  # an attempt stored before errors were kept free of addresses
        message = session.scalars(select(OutboxMessage)).one()
        session.add(Attempt(message_id=message.id, at=message.created_at, worker="old",
                            outcome="retry", duration_ms=1, error=f"refused {gone}"))
        session.commit()
        assert purge_personal_data(session, now=booking.end + timedelta(days=31),
                                   retention=timedelta(days=30)) == 1
        session.commit()
    with store() as session:
        message = session.scalars(select(OutboxMessage)).one()
        errors = session.scalars(select(Attempt.error)).all()
    assert message.attempts == 1  # refused for good: not retried
    assert (message.recipient, message.context) == ("", {})
    assert gone not in f"{message.last_error} {errors}"


def state(store) -> str:
    from sqlalchemy import select

    from cloud.notify.models import OutboxMessage

    with store() as session:
        return session.scalar(select(OutboxMessage.state))
