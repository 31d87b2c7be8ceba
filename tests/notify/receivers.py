"""Real receivers for notifications in tests: an SMTP server (aiosmtpd) and an HTTP server
(the SMS gateway / ticketing webhook seam), both recording what they accepted."""
from __future__ import annotations

import email
import email.policy
import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from aiosmtpd.controller import Controller

from tests.servers import free_port


@dataclass
class Received:
    """One accepted delivery, with the cloud-side monotonic time it was accepted."""

    key: str
    subject: str
    body: str
    to: str
    headers: dict
    accepted_at: float = field(default_factory=time.time)


class _Recorder:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.received: list[Received] = []
        self.hold = threading.Event()
        self.hold.set()  # when cleared, a delivery is recorded but not answered until set

    def add(self, item: Received) -> None:
        with self.lock:
            self.received.append(item)

    def keys(self) -> list[str]:
        with self.lock:
            return [r.key for r in self.received]

    def by_key(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for key in self.keys():
            counts[key] = counts.get(key, 0) + 1
        return counts


class SmtpReceiver(_Recorder):
    """aiosmtpd on a free port; ``stop()``/``start()`` simulate the relay going down;
    ``refuse`` maps an address to the reply that refuses it at RCPT (``"550 5.1.1 ..."``)."""

    def __init__(self) -> None:
        super().__init__()
        self.port = free_port()
        self.controller: Controller | None = None
        self.refuse: dict[str, str] = {}
        self.refused: list[str] = []

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        """Accept the recipient unless it is to be refused."""
        if address in self.refuse:
            self.refused.append(address)
            return self.refuse[address]
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        """Record the message, then answer (after ``hold`` is set)."""
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        self.add(Received(key=message["Idempotency-Key"], subject=str(message["Subject"]),
                          body=message.get_content(), to=str(message["To"]),
                          headers={k: str(v).strip() for k, v in message.items()}))
        while not self.hold.is_set():
            import asyncio
            await asyncio.sleep(0.02)
        return "250 Message accepted for delivery"

    def start(self) -> SmtpReceiver:
        self.controller = Controller(self, hostname="127.0.0.1", port=self.port)
        self.controller.start()
        return self

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None


class HttpReceiver(_Recorder):
    """A threaded HTTP server that records JSON posts; ``status`` sets the answer code."""

    def __init__(self) -> None:
        super().__init__()
        self.status = 200
        recorder = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                length = int(self.headers.get("Content-Length", 0))
                body = json.loads(self.rfile.read(length) or b"{}")
                status = recorder.status
                if status < 300:
                    recorder.add(Received(key=self.headers.get("Idempotency-Key", ""),
                                          subject=body.get("subject", ""),
                                          body=body.get("body", body.get("text", "")),
                                          to=body.get("to", self.path),
                                          headers=dict(self.headers.items()) | {"json": body}))
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def start(self) -> HttpReceiver:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
