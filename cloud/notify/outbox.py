"""Writing to the outbox and forgetting its recipients, in the caller's transaction, and pure
retry timing."""
from __future__ import annotations

import random
from collections.abc import Collection
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from cloud.notify import templates
from cloud.notify.models import FAILED, PENDING, SENT, Attempt, OutboxMessage

CHANNELS = ("email", "sms", "webhook")


def enqueue(session: Session, *, channel: str, to: str, template: str, language: str,
            context: dict, idempotency_key: str, reference: str | None = None,
            now: datetime | None = None) -> OutboxMessage:
    """Add a message to the outbox in ``session``'s transaction (the caller commits).

    The message is sent only if the caller's transaction commits, and at most once per
    ``idempotency_key``: enqueueing a key that is already there returns the existing message.
    ``to`` is an e-mail address, a phone number or a webhook URL according to ``channel``;
    ``reference`` lets the caller find its messages again (e.g. ``incident:42``).
    """
    if channel not in CHANNELS:
        raise ValueError(f"channel {channel!r} is not one of {', '.join(CHANNELS)}")
    templates.check(template, language, context)
    existing = session.scalar(select(OutboxMessage)
                              .where(OutboxMessage.idempotency_key == idempotency_key))
    if existing is not None:
        return existing
    now = now or datetime.now(UTC)
    message = OutboxMessage(idempotency_key=idempotency_key, channel=channel, recipient=to,
                            template=template, language=language, context=context,
                            reference=reference, state="pending", attempts=0, created_at=now,
                            next_attempt_at=now)
    session.add(message)
    session.flush()
    return message


def accepted_at(session: Session, *, references: Collection[str]) -> dict[str, datetime]:
    """When a channel first accepted a message of each of ``references`` (only those some
    channel has accepted): the instant a response clock starts."""
    if not references:
        return {}
    return dict(session.execute(
        select(OutboxMessage.reference, func.min(OutboxMessage.sent_at))
        .where(OutboxMessage.reference.in_(list(references)), OutboxMessage.state == SENT)
        .group_by(OutboxMessage.reference)).all())


FORGOTTEN = "personal data purged"
CHUNK = 500  # references per statement: well inside every driver's limit on bound parameters


def forget_recipients(session: Session, *, references: list[str]) -> None:
    """Blank every column of the messages with these references that can hold a recipient's
    address (recipient, context, errors of the message and of its attempts), in the caller's
    transaction; a message still waiting is given up (it is long out of date)."""
    for first in range(0, len(references), CHUNK):
        ids = select(OutboxMessage.id).where(
            OutboxMessage.reference.in_(references[first:first + CHUNK])).scalar_subquery()
        session.execute(update(OutboxMessage).where(OutboxMessage.id.in_(ids),
                                                    OutboxMessage.state == PENDING)
                        .values(state=FAILED))
        session.execute(update(OutboxMessage).where(OutboxMessage.id.in_(ids))
                        .values(recipient="", context={}, last_error=FORGOTTEN))
        session.execute(update(Attempt).where(Attempt.message_id.in_(ids),
                                              Attempt.error.is_not(None))
                        .values(error=FORGOTTEN))


def retry_delay(attempt: int, *, base_s: float, cap_s: float, rng: random.Random | None = None
                ) -> timedelta:
    """Delay before try ``attempt + 1``: exponential from ``base_s``, capped, with full jitter
    on the upper half so a fleet of workers does not retry in step."""
    ceiling = min(cap_s, base_s * 2 ** max(0, attempt - 1))
    jitter = (rng or random).uniform(0.5, 1.0)
    return timedelta(seconds=ceiling * jitter)
