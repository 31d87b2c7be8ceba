"""The notification worker: claims due outbox messages, sends them, records every attempt.

Delivery is at least once: a message is claimed with a lease, sent, then marked sent. A worker
that dies between the channel's acceptance and the mark leaves the lease to run out, and a
worker sends the message again with the same idempotency key, which the receiver uses to drop
the repeat. Any number of workers may run against one database.
"""
from __future__ import annotations

import asyncio
import logging
import threading
import time
from datetime import UTC, datetime, timedelta

from sqlalchemy import and_, or_, select, update
from sqlalchemy.orm import sessionmaker

from cloud.notify import templates
from cloud.notify.channels import ChannelError, Channels, PermanentError
from cloud.notify.models import FAILED, PENDING, SENT, Attempt, OutboxMessage
from cloud.notify.outbox import retry_delay
from cloud.notify.settings import NotifySettings
from etapalvelu.logs import event_log

log = event_log(__name__)


class NotifyWorker:
    """Sends the outbox of the database behind ``sessions``; ``start()`` runs it in a thread."""

    def __init__(self, sessions: sessionmaker, settings: NotifySettings | None = None, *,
                 name: str = "notify-1") -> None:
        self.sessions = sessions
        self.settings = settings or NotifySettings()
        self.name = name
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stopping: asyncio.Event | None = None
        self._wake: asyncio.Event | None = None
        self._started = threading.Event()

    def start(self) -> NotifyWorker:
        """Run the worker in a background thread until ``stop()``."""
        templates.load_domain_templates()  # render what any domain enqueued
        self._thread = threading.Thread(target=asyncio.run, args=(self.run(),),
                                        name=self.name, daemon=True)
        self._thread.start()
        self._started.wait(10)
        return self

    def stop(self, timeout: float = 15) -> None:
        """Finish the sends in flight and stop."""
        if self._loop is not None and self._stopping is not None:
            self._loop.call_soon_threadsafe(self._stopping.set)
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    @property
    def alive(self) -> bool:
        """Whether the worker's thread runs (started and neither stopped nor crashed)."""
        return self._thread is not None and self._thread.is_alive()

    def wake(self) -> None:
        """Look at the outbox now rather than at the next poll (callable from any thread)."""
        if self._loop is not None and self._wake is not None:
            self._loop.call_soon_threadsafe(self._wake.set)

    async def run(self) -> None:
        """Send due messages until stopped."""
        self._loop = asyncio.get_running_loop()
        self._stopping, self._wake = asyncio.Event(), asyncio.Event()
        channels = Channels(self.settings)
        limit = asyncio.Semaphore(self.settings.concurrency)
        in_flight: set[asyncio.Task] = set()
        self._outcomes: list[tuple] = []
        self._started.set()
        log.info("notify.worker_started", worker=self.name)
        try:
            while not self._stopping.is_set():
                try:
                    self._record_outcomes()
                    room = self.settings.batch_size - len(in_flight)
                    claimed = self._claim(room) if room > 0 else []
                except Exception:
                    log.exception("notify.round_failed", worker=self.name)
                    claimed = []
                for message in claimed:
                    task = asyncio.create_task(self._deliver(channels, limit, message))
                    in_flight.add(task)
                    task.add_done_callback(in_flight.discard)
                if not claimed:
                    await self._pause()
                else:
                    await asyncio.sleep(0)
            if in_flight:
                await asyncio.wait(in_flight, timeout=self.settings.smtp_timeout_s + 5)
            self._record_outcomes()
        finally:
            await channels.close()
            log.info("notify.worker_stopped", worker=self.name)

    async def _pause(self) -> None:
        """Wait for a wake-up, a stop or the poll interval; a wake-up that came while the
        worker was busy ends the pause at once (it is not lost)."""
        if not self._wake.is_set():
            waiters = [asyncio.ensure_future(e.wait()) for e in (self._stopping, self._wake)]
            await asyncio.wait(waiters, timeout=self.settings.poll_interval_s,
                               return_when=asyncio.FIRST_COMPLETED)
            for waiter in waiters:
                waiter.cancel()
        self._wake.clear()

    def _claim(self, limit: int) -> list[OutboxMessage]:
        """Take a lease on up to ``limit`` due messages no live worker holds.

        One UPDATE ... RETURNING whose WHERE repeats the due test is the lock: of two workers
        only one matches a row (PostgreSQL skips rows another worker is claiming)."""
        now = _now()
        free = or_(OutboxMessage.claimed_until.is_(None), OutboxMessage.claimed_until < now)
        due = and_(OutboxMessage.state == PENDING, OutboxMessage.next_attempt_at <= now, free)
        with self.sessions() as session:
            candidates = (select(OutboxMessage.id).where(due)
                          .order_by(OutboxMessage.next_attempt_at).limit(limit))
            if not session.execute(candidates.limit(1)).first():
                return []  # nothing due: no write, so no lock taken on SQLite
            if session.get_bind().dialect.name == "postgresql":
                candidates = candidates.with_for_update(skip_locked=True)
            lease = now + timedelta(seconds=self.settings.lease_s)
            claimed = list(session.scalars(
                update(OutboxMessage)
                .where(OutboxMessage.id.in_(candidates.scalar_subquery()), due)
                .values(claimed_until=lease).returning(OutboxMessage),
                execution_options={"synchronize_session": False}))
            session.commit()
            return claimed

    async def _deliver(self, channels: Channels, limit: asyncio.Semaphore,
                       message: OutboxMessage) -> None:
        async with limit:
            started = time.monotonic()
            error, permanent = None, False
            try:
                rendered = templates.render(message.template, message.language, message.context)
                await channels.send(message, rendered)
            except (PermanentError, templates.TemplateError) as exc:
                error, permanent = _describe(exc, message.recipient), True
            except Exception as exc:  # noqa: BLE001 - any other failure is worth a retry
                error = _describe(exc, message.recipient)
            self._outcomes.append((message, error, permanent, started, _now()))
            self._wake.set()  # record it without waiting for the next poll

    def _record_outcomes(self) -> None:
        """Write the attempts finished since the last call, in one transaction (the store
        has one writer at a time: one commit for many sends keeps the queue moving)."""
        if not self._outcomes:
            return
        done = list(self._outcomes)
        with self.sessions() as session:
            for message, error, permanent, started, finished in done:
                self._record(session, message, error, permanent, started, finished)
            session.commit()
        del self._outcomes[:len(done)]  # kept for the next round if the commit failed

    def _record(self, session, message: OutboxMessage, error: str | None, permanent: bool,
                started: float, now: datetime) -> None:
        duration_ms = int((time.monotonic() - started) * 1000)
        attempts = message.attempts + 1
        if error is None:
            outcome, values = SENT, {"state": SENT, "sent_at": now, "last_error": None}
        elif permanent or now - message.created_at > timedelta(
                seconds=self.settings.give_up_after_s):
            outcome, values = FAILED, {"state": FAILED, "last_error": error[:300]}
        else:
            delay = retry_delay(attempts, base_s=self.settings.retry_base_s,
                                cap_s=self.settings.retry_cap_s)
            outcome, values = "retry", {"next_attempt_at": now + delay, "last_error": error[:300]}
        session.add(Attempt(message_id=message.id, at=now, worker=self.name, outcome=outcome,
                            duration_ms=duration_ms, error=error))
        session.execute(update(OutboxMessage).where(OutboxMessage.id == message.id)
                        .values(attempts=attempts, claimed_until=None, **values))
        log.log(logging.INFO if error is None else logging.WARNING, "notify.attempt",
                id=message.id, channel=message.channel, outcome=outcome, attempt=attempts,
                ms=duration_ms, error=error)


def _describe(exc: BaseException, recipient: str) -> str:
    """What went wrong, for the attempt's error and the log: a channel's refusal by its codes,
    anything else by its type and text with the recipient's address cut out."""
    if isinstance(exc, ChannelError):
        return str(exc)
    text = f"{type(exc).__name__}: {exc}"
    return (text.replace(recipient, "<recipient>") if recipient else text)[:1000]


def _now() -> datetime:
    return datetime.now(UTC)
