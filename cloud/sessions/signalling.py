"""The signalling of video sessions over WebSocket: one channel per session on the live bus.

Events travel on the platform's live bus (``app.state.live_bus``, one broker connection per
API replica), channel ``session/<id>``, so the peers of a session may be on different
replicas. A peer opens ``/api/sessions/{id}/signal`` and first sends ``{"type": "hello",
"credential": ...}`` (never in the URL, which proxies log). The server answers ``welcome``
(who the peer is, who else is in, the end and the ICE servers) or ``refused`` and closes. Then
it relays ``offer``, ``answer`` and ``candidate`` messages (``to`` a participant id) between
admitted participants, and carries the expert's ``admit``, ``deny``, ``remove`` and ``end``.
Every decision is the server's: the roles' permissions are checked here, not in the pages.

The newcomer offers: on ``welcome`` (or ``admitted``) a peer sends an offer to each peer
listed; the others answer. A peer whose channel drops is shown ``reconnecting`` to the others
and may come back with its own credential within the slot, offering again. At the end (the
expert's ``end``, or the slot's end plus the grace, checked by a watch on each replica) the
server sends ``ended`` and closes every socket; the credentials then stop working.
"""
from __future__ import annotations

import asyncio
import itertools
from collections import defaultdict
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from fastapi import WebSocket, WebSocketDisconnect
from starlette.concurrency import run_in_threadpool

from cloud.accounts.deps import StaffSessionWatch
from cloud.live.bus import LiveBus
from cloud.sessions import service
from cloud.sessions.models import Participant
from cloud.sessions.rules import (
    ADMITTED,
    BY_EXPERT,
    BY_SLOT_END,
    DENIED,
    EXPERT,
    WAITING,
    SessionRefused,
    require,
)
from cloud.sessions.settings import SessionSettings
from cloud.sessions.turn import ice_servers
from etapalvelu.logs import event_log

log = event_log(__name__)
HELLO_S = 10  # a socket that says nothing this long is closed
RELAYED = ("offer", "answer", "candidate")
DECISIONS = {"admit": "admitted", "deny": "denied", "remove": "removed"}
SIGNAL_FIELDS = ("sdp", "candidate", "sdpMid", "sdpMLineIndex", "kind")
CLOSE_ENDED, CLOSE_REFUSED, CLOSE_REMOVED, CLOSE_SUPERSEDED = 4000, 4403, 4003, 4001
CLOSE_RETRY = 1012  # the replica lost its bus link or fell behind: come back with the credential
_connection_ids = itertools.count(1)


def session_channel(session_id: int) -> str:
    """The live-bus channel of one session's signalling."""
    return f"session/{session_id}"


def superseded_event(participant_id: int, *, at: datetime) -> dict:
    """The event that closes every socket a participant opened before ``at``, when a new
    login took its place (the old page is told, then closed with 4001)."""
    return {"type": "superseded", "to": participant_id, "connection": None,
            "before": at.isoformat()}


def peer_view(participant: Participant) -> dict:
    """What the others see of a participant: no identity beyond the shown name."""
    return {"id": participant.id, "role": participant.role, "state": participant.state,
            "name": participant.shown_name, "assurance": participant.assurance,
            "connected": participant.connected, "interpreter": participant.interpreter}


class Signalling:
    """The signalling of one API replica: its open sockets by session, and a watch per
    session that warns before and ends at the slot's end plus the grace."""

    def __init__(self, *, sessionmaker, settings: SessionSettings, bus: LiveBus,
                 clock: Callable[[], datetime] | None = None,
                 on_ended: Callable[[int, datetime], object] | None = None) -> None:
        self.sessionmaker, self.settings, self.bus = sessionmaker, settings, bus
        self.on_ended = on_ended  # called in a worker thread once a session has ended
        self.clock = clock or (lambda: datetime.now(UTC))
        self.local: dict[int, set[Connection]] = defaultdict(set)
        self._watches: dict[int, asyncio.Task] = {}

    async def db(self, work):
        """Run ``work(db)`` in a worker thread and commit."""
        def run():
            with self.sessionmaker() as db:
                result = work(db)
                db.commit()
                return result
        return await run_in_threadpool(run)

    async def publish(self, session_id: int, event: dict) -> None:
        """Put an event on the session's channel for every replica."""
        await self.bus.publish(session_channel(session_id), event)

    async def serve(self, websocket: WebSocket, session_id: int) -> None:
        """Serve one peer's socket until it leaves, drops, is removed or the session ends."""
        await websocket.accept()
        try:
            hello = await asyncio.wait_for(websocket.receive_json(), HELLO_S)
            credential = str(hello.get("credential", "")) if isinstance(hello, dict) else ""
            now = self.clock()
            participant = await self.db(lambda db: service.authenticate(
                db=db, session_id=session_id, credential=credential, now=now))
        except SessionRefused as refusal:
            await _refuse(websocket, refusal)
            return
        except (TimeoutError, WebSocketDisconnect, ValueError, KeyError):
            await _close(websocket, CLOSE_REFUSED)
            return
        await Connection(self, websocket, session_id, participant.id).run()

    def attach(self, connection: Connection) -> None:
        """Count a socket of this replica and watch its session's clock."""
        self.local[connection.session_id].add(connection)
        watch = self._watches.get(connection.session_id)
        if watch is None or watch.done():
            self._watches[connection.session_id] = asyncio.create_task(
                self._watch(connection.session_id))

    def detach(self, connection: Connection) -> None:
        """Forget a closed socket."""
        self.local[connection.session_id].discard(connection)

    async def end(self, session_id: int, *, by: str, actor_id: int | None = None) -> bool:
        """End the session (once across replicas) and tell every peer."""
        now = self.clock()

        def work(db):
            actor = db.get(Participant, actor_id) if actor_id else None
            return service.end_session(db=db, session_id=session_id, by=by, now=now,
                                       actor=actor)
        ended = await self.db(work)
        if ended:
            log.info("sessions.ended", session=session_id, by=by)
            if self.on_ended is not None:
                await run_in_threadpool(self.on_ended, session_id, now)
        await self.publish(session_id, {"type": "ended", "by": by})
        return ended

    async def _watch(self, session_id: int) -> None:
        """Warn before the end, end at the end, and close this replica's sockets then even
        if the bus lost the word."""
        while self.local.get(session_id) and not await self._tick(session_id, self.clock()):
            await asyncio.sleep(self.settings.watch_period_s)
        self.local.pop(session_id, None)

    async def _tick(self, session_id: int, now: datetime) -> bool:
        """One look at the session's clock; True once it is over."""
        video_session = await self.db(lambda db: service.get(db=db, session_id=session_id))
        if video_session.ended_at is not None or now >= video_session.ends_at:
            if video_session.ended_at is None:
                await self.end(session_id, by=BY_SLOT_END)
            for connection in list(self.local.get(session_id, ())):
                await connection.close_ended(video_session.ended_by or BY_SLOT_END)
            return True
        warning = timedelta(minutes=self.settings.warning_minutes)
        due = now >= video_session.ends_at - warning and video_session.warned_at is None
        if due and await self.db(lambda db: service.warn(db=db, session_id=session_id,
                                                         now=now)):
            await self.publish(session_id, {"type": "warning",
                                            "ends_at": video_session.ends_at.isoformat()})
        return False


class Connection:
    """One peer's socket: reads its messages, writes the session's events meant for it."""

    def __init__(self, signalling: Signalling, websocket: WebSocket, session_id: int,
                 participant_id: int) -> None:
        self.signalling, self.websocket = signalling, websocket
        self.session_id, self.participant_id = session_id, participant_id
        self.id = next(_connection_ids)
        self.role, self.state = "", WAITING
        self.admitted: set[int] = set()  # the admitted peers one may signal to
        self.closed = asyncio.Event()
        self.finished = False  # left, removed, superseded or ended: no "reconnecting"
        self.connected_at: datetime | None = None
        self.staff: StaffSessionWatch | None = None  # an expert's or advisor's login

    async def run(self) -> None:
        """Subscribe, announce, then relay until the socket closes."""
        sig = self.signalling
        async with sig.bus.subscribe(session_channel(self.session_id)) as events:
            welcome, kind = await sig.db(self._connect)
            sig.attach(self)
            try:
                await self.websocket.send_json(welcome)
                await sig.publish(self.session_id, {"type": "superseded",
                                                    "to": self.participant_id,
                                                    "connection": self.id})
                await sig.publish(self.session_id, self._peer_event(kind, welcome["you"]))
                await self._pump(events)
            finally:
                sig.detach(self)
                if not self.finished:
                    await _close(self.websocket, CLOSE_RETRY)  # if the peer is still there
                    await self._dropped()

    def _connect(self, db) -> tuple[dict, str]:
        sig = self.signalling
        now = sig.clock()
        participant = db.get(Participant, self.participant_id)
        kind = service.connected(db=db, participant=participant, now=now)
        self.connected_at, self.role, self.state = participant.connected_at, \
            participant.role, participant.state
        if participant.staff_id is not None:
            self.staff = StaffSessionWatch.of(self.websocket, sig.settings.staff_check_s,
                                              participant.staff_id)
        video_session = service.get(db=db, session_id=self.session_id)
        everyone = service.participants(db=db, session_id=self.session_id)
        welcome = {"type": "welcome", "you": peer_view(participant),
                   "ends_at": video_session.ends_at.isoformat(),
                   "slot_end": video_session.slot_end.isoformat(),
                   "ice_servers": ice_servers(sig.settings, label=f"s{self.session_id}p"
                                              f"{participant.id}",
                                              expires_at=video_session.ends_at),
                   "peers": [], "lobby": []}
        if self.state == ADMITTED:
            others = [p for p in everyone if p.id != participant.id and p.state == ADMITTED]
            self.admitted = {p.id for p in others}
            welcome["peers"] = [peer_view(p) for p in others if p.connected]
        if self.role == EXPERT:
            welcome["lobby"] = [peer_view(p) for p in everyone if p.state == WAITING]
        if kind == "joined" and self.state == WAITING:
            kind = "waiting"
        return welcome, kind

    def _peer_event(self, kind: str, view: dict, *, private: bool | None = None) -> dict:
        """A change of this peer (``from`` it, so its own socket skips it) or, for a
        decision, of the one decided about (every expert page hears it, the deciding one
        too). Of one never admitted (waiting, turned away, leaving the lobby) only the
        experts and the person learn (``private``)."""
        event = {"type": "peer", "event": kind, "peer": view}
        if kind not in DECISIONS.values():
            event["from"] = self.participant_id
        if view["state"] in (WAITING, DENIED) if private is None else private:
            event["to_role"] = EXPERT
        return event

    async def _pump(self, events) -> None:
        reader = asyncio.create_task(self._read())
        writer = asyncio.create_task(self._write(events))
        closed = asyncio.create_task(self.closed.wait())
        tasks = {reader, writer, closed}
        if self.staff is not None:
            tasks.add(asyncio.create_task(self._watch_staff(self.staff)))
        await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        for task in tasks:
            task.cancel()
        outcomes = await asyncio.gather(*tasks, return_exceptions=True)
        for outcome in outcomes:
            if isinstance(outcome, Exception):  # e.g. the bus dropped this subscriber
                log.warning("sessions.channel_lost", session=self.session_id,
                            participant=self.participant_id, error=type(outcome).__name__)

    # --- from the peer ---------------------------------------------------------------------

    async def _read(self) -> None:
        while True:
            try:
                message = await self.websocket.receive_json()
            except (WebSocketDisconnect, RuntimeError):
                return
            except ValueError:
                await self._error("bad_message", "send JSON objects")
                continue
            if not isinstance(message, dict):
                await self._error("bad_message", "send JSON objects")
                continue
            try:
                if await self._handle(message):
                    return
            except SessionRefused as refusal:
                await self._error(refusal.reason, str(refusal))

    async def _handle(self, message: dict) -> bool:
        """Act on one message; True when this socket is done."""
        kind, sig = message.get("type"), self.signalling
        if kind in RELAYED:
            require(self.role, "signal", state=self.state)
            target = message.get("to")
            if target not in self.admitted:
                raise SessionRefused("no_participant", "signal only to admitted participants")
            relayed = {k: message[k] for k in SIGNAL_FIELDS if k in message}
            await sig.publish(self.session_id, {"type": kind, "from": self.participant_id,
                                                "to": target, **relayed})
        elif kind in DECISIONS:
            await self._decide(kind, message.get("participant"))
        elif kind == "end":
            require(self.role, "end", state=self.state)
            await sig.end(self.session_id, by=BY_EXPERT, actor_id=self.participant_id)
        elif kind == "leave":
            now, from_lobby = sig.clock(), self.state == WAITING
            left = await sig.db(lambda db: peer_view(service.leave(
                db=db, participant=db.get(Participant, self.participant_id), now=now)))
            self.finished = True
            await sig.publish(self.session_id, self._peer_event("left", left,
                                                                private=from_lobby))
            await _close(self.websocket, 1000)
            return True
        elif kind == "ping":
            await self.websocket.send_json({"type": "pong"})
        else:
            raise SessionRefused("bad_message", f"unknown message type {kind!r}")
        return False

    async def _decide(self, action: str, target_id: object) -> None:
        if not isinstance(target_id, int):
            raise SessionRefused("no_participant", "name the participant by its id")
        now = self.signalling.clock()

        def work(db):
            actor = db.get(Participant, self.participant_id)
            return peer_view(service.decide(db=db, actor=actor, action=action,
                                            participant_id=target_id, now=now))
        view = await self.signalling.db(work)
        await self.signalling.publish(self.session_id, self._peer_event(DECISIONS[action],
                                                                        view))

    # --- to the peer -------------------------------------------------------------------------

    async def _write(self, events) -> None:
        async for event in events:
            if event.get("type") == "ended":
                await self.close_ended(event.get("by"))
                return
            if event.get("type") == "peer":
                self._follow(event["peer"])
            if not self._meant_for_me(event):
                continue
            if event.get("type") == "superseded":
                if self._superseded_by(event):
                    # the same participant came back on another socket, or logged in again
                    self.finished = True
                    await self.websocket.send_json({"type": "superseded"})
                    await _close(self.websocket, CLOSE_SUPERSEDED)
                    return
                continue
            if event.get("type") == "peer" and not await self._peer_changed(event):
                return
            await self.websocket.send_json({k: v for k, v in event.items()
                                            if k not in ("to", "to_role")})

    def _superseded_by(self, event: dict) -> bool:
        """Whether another socket of the same participant (``connection``), or a new login
        (every socket opened ``before``), took this one's place."""
        before = event.get("before")
        if before is not None:
            return self.connected_at is None or self.connected_at < datetime.fromisoformat(before)
        return event.get("connection") != self.id

    def _follow(self, view: dict) -> None:
        """Keep the set of admitted peers one may signal to, whoever made the change."""
        if view["id"] == self.participant_id:
            return
        if view["state"] == ADMITTED:
            self.admitted.add(view["id"])
        else:
            self.admitted.discard(view["id"])

    def _meant_for_me(self, event: dict) -> bool:
        to = event.get("to")
        if to is not None:
            return to == self.participant_id
        if event.get("from") == self.participant_id:
            return False
        if event.get("type") == "peer" and event["peer"]["id"] == self.participant_id:
            return True  # what the expert decided about me
        role = event.get("to_role")
        if role is not None:
            return role == self.role
        return self.state == ADMITTED or event.get("type") == "warning"

    async def _peer_changed(self, event: dict) -> bool:
        """Follow a participant's change; False when this socket is done (removed)."""
        view, kind = event["peer"], event["event"]
        if view["id"] != self.participant_id:
            return True
        self.state = view["state"]
        if kind == "admitted":
            peers = await self.signalling.db(self._admitted_peers)
            await self.websocket.send_json({"type": "admitted", "peers": peers})
        elif kind in ("denied", "removed"):
            self.finished = True
            await self.websocket.send_json({"type": kind})
            await _close(self.websocket, CLOSE_REMOVED)
            return False
        return True

    def _admitted_peers(self, db) -> list[dict]:
        others = [p for p in service.participants(db=db, session_id=self.session_id)
                  if p.id != self.participant_id and p.state == ADMITTED]
        self.admitted = {p.id for p in others}
        return [peer_view(p) for p in others if p.connected]

    async def close_ended(self, by: str | None) -> None:
        """Tell the peer the session is over and close its socket."""
        if self.finished:
            return
        self.finished = True
        try:
            await self.websocket.send_json({"type": "ended", "by": by})
        except (RuntimeError, WebSocketDisconnect, OSError):
            pass
        await _close(self.websocket, CLOSE_ENDED)
        self.closed.set()

    async def _watch_staff(self, staff: StaffSessionWatch) -> None:
        """End the socket once the staff session that opened it has ended (logout, expiry,
        a disabled account): the person has left, and the socket is refused, so the page
        does not come back on its own."""
        while not await staff.ended():
            await asyncio.sleep(staff.every_s)
        sig, now = self.signalling, self.signalling.clock()
        self.finished = True
        left = await sig.db(lambda db: peer_view(service.leave(
            db=db, participant=db.get(Participant, self.participant_id), now=now)))
        await sig.publish(self.session_id, self._peer_event("left", left))
        try:
            await self.websocket.send_json({"type": "refused", "reason": "logged_out",
                                            "message": "the staff session has ended"})
        except (RuntimeError, WebSocketDisconnect, OSError):
            pass
        await _close(self.websocket, CLOSE_REFUSED)

    async def _dropped(self) -> None:
        sig, now = self.signalling, self.signalling.clock()

        def work(db):
            participant = db.get(Participant, self.participant_id)
            if participant.connected_at != self.connected_at:
                return None  # a newer socket of the same participant is in
            service.dropped(db=db, participant=participant, now=now)
            return peer_view(participant)
        view = await sig.db(work)
        if view is not None:
            await sig.publish(self.session_id, self._peer_event("reconnecting", view))

    async def _error(self, reason: str, message: str) -> None:
        await self.websocket.send_json({"type": "error", "reason": reason, "message": message})


async def _refuse(websocket: WebSocket, refusal: SessionRefused) -> None:
    try:
        await websocket.send_json({"type": "refused", "reason": refusal.reason,
                                   "message": str(refusal)})
    finally:
        await _close(websocket, CLOSE_REFUSED)


async def _close(websocket: WebSocket, code: int) -> None:
    try:
        await websocket.close(code)
    except (RuntimeError, WebSocketDisconnect, OSError):
        pass  # already closed by the peer
