"""Adapters that hand one message to its channel: SMTP (aiosmtplib) and HTTP (httpx).

Every adapter sends the message's idempotency key so the receiver can drop a repeat: the
``Idempotency-Key`` header (and a Message-ID derived from it) for e-mail, the
``Idempotency-Key`` HTTP header for SMS gateways and ticketing webhooks.
"""
from __future__ import annotations

import hashlib
import socket
from email.message import EmailMessage
from email.utils import formatdate

import aiosmtplib
import httpx

from cloud.notify.models import OutboxMessage
from cloud.notify.settings import NotifySettings
from cloud.notify.templates import Rendered
from etapalvelu.logs import event_log

log = event_log(__name__)


class ChannelError(Exception):
    """A channel's refusal, described by codes only: a server's own text may quote the
    recipient's address, which must reach no log and no error column."""


class PermanentError(ChannelError):
    """The channel refused the message for good (bad address, rejected request)."""


class TemporaryError(ChannelError):
    """The channel refused the message for now (busy mailbox, server trouble): retry."""


class Channels:
    """The senders of every channel, sharing one HTTP client."""

    def __init__(self, settings: NotifySettings) -> None:
        self.settings = settings
        self.http = httpx.AsyncClient(timeout=settings.http_timeout_s)
        # resolved once: aiosmtplib would otherwise look up the FQDN for every message
        self.local_hostname = settings.smtp_local_hostname or socket.getfqdn()

    async def close(self) -> None:
        """Release the HTTP connections."""
        await self.http.aclose()

    async def send(self, message: OutboxMessage, rendered: Rendered) -> None:
        """Hand ``message`` over; return when the channel accepted it, raise otherwise."""
        if message.channel == "email":
            await self._email(message, rendered)
        elif message.channel == "sms":
            await self._sms(message, rendered)
        else:
            await self._post(message.recipient, message, {
                "idempotency_key": message.idempotency_key, "template": message.template,
                "language": message.language, "reference": message.reference,
                "subject": rendered.subject, "body": rendered.body, "context": message.context})

    def email(self, message: OutboxMessage, rendered: Rendered) -> EmailMessage:
        """The e-mail of ``message``; its Message-ID is stable across retries."""
        mail = EmailMessage()
        mail["From"] = self.settings.from_address
        mail["To"] = message.recipient
        mail["Subject"] = rendered.subject
        mail["Date"] = formatdate(localtime=False)
        mail["Message-ID"] = message_id(message.idempotency_key, self.settings.message_id_domain)
        mail["Idempotency-Key"] = message.idempotency_key
        mail["Content-Language"] = message.language
        mail.set_content(rendered.body)
        return mail

    async def _email(self, message: OutboxMessage, rendered: Rendered) -> None:
        s = self.settings
        mail = self.email(message, rendered)
        if s.smtp_host is None:
            log.info("notify.email_logged", id=message.id, template=message.template)
            return
        try:
            await aiosmtplib.send(
                mail, hostname=s.smtp_host, port=s.smtp_port, username=s.smtp_username,
                password=s.smtp_password.get_secret_value() if s.smtp_password else None,
                start_tls=s.smtp_starttls, timeout=s.smtp_timeout_s,
                local_hostname=self.local_hostname)
        except aiosmtplib.SMTPRecipientsRefused as exc:  # RFC 5321 4.2.1: 5yz is for good
            codes = sorted({refusal.code for refusal in exc.recipients})
            kind = PermanentError if all(500 <= code < 600 for code in codes) else TemporaryError
            raise kind(f"smtp recipient refused {'/'.join(map(str, codes))}") from None
        except aiosmtplib.SMTPResponseException as exc:
            kind = PermanentError if 500 <= exc.code < 600 else TemporaryError
            raise kind(f"smtp {exc.code}") from None

    async def _sms(self, message: OutboxMessage, rendered: Rendered) -> None:
        if self.settings.sms_url is None:
            # the demo's SMS: its text (no recipient: a phone number is never logged), so a
            # demo user can open a feedback link from the log
            log.info("notify.sms_logged", id=message.id, template=message.template,
                     text=rendered.body)
            return
        await self._post(self.settings.sms_url, message,
                         {"to": message.recipient, "text": rendered.body},
                         token=self.settings.sms_token)

    async def _post(self, url: str, message: OutboxMessage, body: dict, token=None) -> None:
        headers = {"Idempotency-Key": message.idempotency_key}
        if token is not None:
            headers["Authorization"] = f"Bearer {token.get_secret_value()}"
        response = await self.http.post(url, json=body, headers=headers)
        if response.is_success:
            return
        status = response.status_code
        if 400 <= status < 500 and status not in (408, 409, 425, 429):
            raise PermanentError(f"http {status}")
        raise RuntimeError(f"http {status}")


def message_id(idempotency_key: str, domain: str) -> str:
    """A Message-ID that is the same for every retry of one message."""
    digest = hashlib.sha256(idempotency_key.encode()).hexdigest()[:40]
    return f"<{digest}@{domain}>"
