"""Commands from the cloud to rooms (``etp/v1/{site}/{room}/{device}/cmd/{name}``)."""
from __future__ import annotations

import itertools
import time
import uuid

from protocol.codec import encode
from protocol.payloads import Command
from protocol.topics import topic

# Command sequence numbers start from the clock so they rise across restarts of the sender.
_seq = itertools.count(time.time_ns() // 1_000_000)

RESEND = "resend"
RESEND_MARGIN_S = 10  # covers the time between the loss and noticing it


def command(site: str, room: str, device: str, name: str, **args) -> tuple[str, str, bytes]:
    """A command message: its id, topic and payload."""
    command_id = f"cmd-{uuid.uuid4().hex}"
    payload = Command(ts=time.time_ns() // 1_000_000, seq=next(_seq), id=command_id, args=args)
    return command_id, topic(site, room, device, "cmd", name), encode(payload)


def resend_commands(rooms: list[tuple[str, str]], since_ms: int) -> list[tuple[str, bytes]]:
    """Ask every room's agent to send again the events it delivered since ``since_ms``.

    Sent when an ingest worker (re)subscribes after a loss: a broker that crashed before it
    saved the worker's session, or that dropped messages past its queue bound, lost them.
    Duplicates are suppressed by event id, so asking too much is harmless; asking too little
    is not.
    """
    # a duration, not a time: the agents' clocks need not agree with ours
    seconds = max(0, time.time_ns() // 1_000_000 - since_ms) // 1000 + RESEND_MARGIN_S
    return [command(site, room, "agent", RESEND, seconds=seconds)[1:] for site, room in rooms]
