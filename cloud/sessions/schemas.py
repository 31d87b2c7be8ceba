"""What the session API takes and gives."""
from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from cloud.api.inputs import Code, Id, Token
from cloud.instants import ApiInstant


class OpenIn(BaseModel):
    """Open the session of a booking, or of a walk-in (site, room, authority, service)."""

    model_config = ConfigDict(extra="forbid")
    booking_id: Id | None = None
    site: Code | None = None
    room: Code | None = None
    authority: Code | None = None
    service: Code | None = None
    minutes: int = Field(30, ge=15, le=60)


class ParticipantOut(BaseModel):
    """A participant as staff see it."""

    id: int
    role: str
    state: str
    name: str | None
    assurance: str | None
    connected: bool
    interpreter: bool = False  # came through the booking's interpreter invitation


class SessionOut(BaseModel):
    """A session and who is in it."""

    id: int
    booking_id: int | None
    site: str
    room: str
    authority: str
    service: str
    slot_start: ApiInstant
    slot_end: ApiInstant
    ends_at: ApiInstant
    started_at: ApiInstant | None
    ended_at: ApiInstant | None
    ended_by: str | None
    participants: list[ParticipantOut] = []


class JoinOut(BaseModel):
    """A participant's credential for the signalling (shown once) and where to use it."""

    session_id: int
    participant_id: int
    role: str
    state: str
    credential: str
    signal_path: str
    ends_at: ApiInstant


class TerminalIn(BaseModel):
    """A room terminal proves its room with the room's token."""

    model_config = ConfigDict(extra="forbid")
    site: Code
    room: Code
    room_token: Token
    session_id: Id | None = None


class NextVisitOut(BaseModel):
    """What the room's waiting screen shows."""

    session_id: int | None
    next_visit: ApiInstant | None
    call: str | None = None  # the room's open call: "called" (nobody took it yet) or "coming"


class InvitationOut(BaseModel):
    """The link the expert hands a third party."""

    url: str
    expires_at: ApiInstant


class FeedbackIn(BaseModel):
    """A feedback answer with the participant's credential: the customer's face (1-5), or the
    expert's score and two yes/no questions."""

    model_config = ConfigDict(extra="forbid")
    credential: Token
    score: int = Field(ge=1, le=5)
    media_ok: bool | None = None
    matter_resolved: bool | None = None


class AffirmIn(BaseModel):
    """The third party affirms they are in a place fit for confidential matters."""

    model_config = ConfigDict(extra="forbid")
    affirmed: bool
