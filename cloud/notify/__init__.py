"""Notifications for the whole system: a transactional outbox, a sending worker, templates.

Callers write ``enqueue(session, channel=..., to=..., template=..., language=..., context=...,
idempotency_key=...)`` in their own transaction; ``NotifyWorker`` sends what was committed;
``forget_recipients(session, references=...)`` blanks the addresses of messages past retention.
"""
from cloud.notify.outbox import CHANNELS, accepted_at, enqueue, forget_recipients
from cloud.notify.templates import Text, register

__all__ = ["CHANNELS", "Text", "accepted_at", "enqueue", "forget_recipients", "register"]
