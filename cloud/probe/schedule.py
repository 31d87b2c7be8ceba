"""The command that tells a room's agent its coming bookings, so it probes its link before
each (``edge.agent``, command ``probe_schedule``)."""
from __future__ import annotations

from datetime import datetime

from cloud.commands import command

PROBE_SCHEDULE = "probe_schedule"
MAX_STARTS = 64  # as many as the agent keeps


def probe_schedule_command(site: str, room: str, starts: list[datetime]) -> tuple[str, bytes]:
    """The topic and payload of ``probe_schedule``: the bookings' starts (aware instants) as
    comma-separated epoch milliseconds, earliest first. Not retained: the agent ignores
    retained commands, so the sender repeats it (each round of the booking schedule)."""
    ms = sorted(int(start.timestamp() * 1000) for start in starts)[:MAX_STARTS]
    return command(site, room, "agent", PROBE_SCHEDULE, starts=",".join(map(str, ms)))[1:]
