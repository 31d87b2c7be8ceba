"""The rules of a video session, pure: a participant's states, who may do what by role, when
a session may be joined and when it ends, and which assurance levels admit a third party.
Nothing here does I/O; every rule that depends on time takes ``now``."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from cloud.api.refusals import Refusal

TERMINAL, EXPERT, THIRD_PARTY, ADVISOR = "terminal", "expert", "third_party", "advisor"
ROLES = (TERMINAL, EXPERT, THIRD_PARTY, ADVISOR)
WAITING, ADMITTED, DENIED, LEFT, REMOVED = "waiting", "admitted", "denied", "left", "removed"
STATES = (WAITING, ADMITTED, DENIED, LEFT, REMOVED)
BY_EXPERT, BY_SLOT_END = "expert", "slot_end"

# the national e-identification's and eIDAS's levels "substantial" and "high"; nothing else
ACCEPTED_ASSURANCE = frozenset({
    "http://ftn.ficora.fi/2017/loa2", "http://ftn.ficora.fi/2017/loa3",
    "http://eidas.europa.eu/LoA/substantial", "http://eidas.europa.eu/LoA/high"})

# (state, action) -> the state it leads to; a pair not listed is refused
TRANSITIONS: dict[tuple[str, str], str] = {
    (WAITING, "admit"): ADMITTED,
    (WAITING, "deny"): DENIED,
    (WAITING, "leave"): LEFT,
    (ADMITTED, "remove"): REMOVED,
    (ADMITTED, "leave"): LEFT,
}
# what each role may do in a session; only the expert admits, removes and ends
PERMISSIONS: dict[str, frozenset[str]] = {
    EXPERT: frozenset({"signal", "admit", "deny", "remove", "end", "invite", "leave"}),
    TERMINAL: frozenset({"signal", "leave", "call_advisor", "customer_feedback"}),
    THIRD_PARTY: frozenset({"signal", "leave"}),
    ADVISOR: frozenset({"signal", "leave"}),
}
SKIPS_LOBBY = frozenset({EXPERT, TERMINAL})  # the room and the expert are in at once
MAX_ADMITTED = 4  # the mesh's limit (docs/decisions.md): room, expert and two more


# the status of each refusal's reason that is not "you may not" (403)
REFUSAL_STATUS = {"room_busy": 409, "bad_times": 422, "bad_score": 422, "bad_state": 409,
                  "no_participant": 404, "no_identity_provider": 404, "not_found": 404,
                  "not_yet_open": 409}


class SessionRefused(Refusal):
    """A session action that cannot be allowed; ``reason`` is a stable code for clients."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(REFUSAL_STATUS.get(reason, 403), reason, message)


def next_state(state: str, action: str) -> str:
    """The state a participant in ``state`` reaches by ``action``, or a refusal."""
    try:
        return TRANSITIONS[(state, action)]
    except KeyError:
        raise SessionRefused("bad_state", f"a participant {state} cannot {action}") from None


def check_room_for_one_more(admitted: int) -> None:
    """Refuse an admission that would take the session past the mesh's limit."""
    if admitted >= MAX_ADMITTED:
        raise SessionRefused("session_full", f"a session takes at most {MAX_ADMITTED} "
                             "participants")


def rejoin_state(*, admitted_before: bool) -> str:
    """Where a participant that left comes back with its own credential: into the session
    if the expert had admitted it, else into the lobby again (leaving skips no lobby)."""
    return ADMITTED if admitted_before else WAITING


def first_state(role: str) -> str:
    """Where a newcomer of ``role`` starts: in the session, or in the lobby."""
    if role not in ROLES:
        raise SessionRefused("bad_role", f"no role {role!r}")
    return ADMITTED if role in SKIPS_LOBBY else WAITING


def require(role: str, action: str, *, state: str = ADMITTED) -> None:
    """Refuse ``action`` unless ``role`` may do it; only an admitted participant acts (one in
    the lobby may only leave)."""
    if action not in PERMISSIONS.get(role, frozenset()):
        raise SessionRefused("not_allowed", f"a {role} may not {action}")
    if state != ADMITTED and action != "leave":
        raise SessionRefused("not_admitted", f"a participant {state} may not {action}")


@dataclass(frozen=True)
class Window:
    """When a session may be joined: from a little before its slot to the slot's end plus
    the grace, with a warning before that end."""

    slot_start: datetime
    slot_end: datetime
    grace: timedelta
    early: timedelta
    warning: timedelta

    @property
    def ends_at(self) -> datetime:
        """The latest end of the session."""
        return self.slot_end + self.grace

    @property
    def warn_at(self) -> datetime:
        """When the peers are told the session is about to end."""
        return self.ends_at - self.warning

    def open_at(self, now: datetime) -> bool:
        """Whether the session may be joined at ``now``."""
        return self.slot_start - self.early <= now < self.ends_at


def phase(*, now: datetime, ends_at: datetime, warning: timedelta,
          ended_at: datetime | None) -> str:
    """``running``, ``warning`` (within ``warning`` of the end) or ``over``."""
    if ended_at is not None or now >= ends_at:
        return "over"
    return "warning" if now >= ends_at - warning else "running"


def terminal_may_join(*, session_room: tuple[str, str], terminal_room: tuple[str, str],
                      window: Window, ended: bool, now: datetime) -> None:
    """A room terminal joins only its own room's current session."""
    if terminal_room != session_room:
        raise SessionRefused("other_room", "this terminal belongs to another room")
    if ended or not window.open_at(now):
        raise SessionRefused("not_current", "this is not the room's current session")


def check_assurance(acr: object) -> str:
    """The assurance level of a third party's login, refused unless substantial or high."""
    if not isinstance(acr, str) or acr not in ACCEPTED_ASSURANCE:
        raise SessionRefused("weak_authentication",
                             "strong authentication (substantial or high) is required")
    return acr


def check_fresh(*, issued_at: object, now: datetime, max_age: timedelta) -> datetime:
    """The instant an ID token was issued, refused when missing, in the future or stale."""
    if not isinstance(issued_at, int | float) or isinstance(issued_at, bool):
        raise SessionRefused("stale_token", "the login carries no issue time")
    at = datetime.fromtimestamp(issued_at, now.tzinfo)
    if at > now + timedelta(seconds=60) or now - at > max_age:  # a minute of clock skew
        raise SessionRefused("stale_token", "the login is too old: log in again")
    return at


def shown_name(claims: dict) -> str:
    """The name the expert sees of a third party: the provider's display name, else given
    and family name; never an identity code."""
    name = claims.get("name") or " ".join(
        str(claims[k]) for k in ("given_name", "family_name") if claims.get(k))
    name = str(name).strip()[:100]
    return name or "?"
