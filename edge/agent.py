"""The room agent: reads the room's devices, stores every message in the outbox, keeps the link
to the broker and answers the cloud's commands.

One thread per agent does all MQTT work (the paho client is not shared); adapters, the link
probe's thread (``edge.probe``) and callers on other threads only add messages to the outbox,
which is thread-safe. Several agents can run in one process (the demo runs three).

In-process use::

    from edge.config import simulated_config

    agent = Agent(simulated_config("porvoo", "r1", outbox_path=tmp / "outbox.sqlite"))
    agent.start()
    agent.inject_fault("doccam", "unplugged")   # health goes out at once
    agent.inject_fault("callbutton", "press")    # a button_press event
    agent.stop()                                 # clean: offline status, DISCONNECT
    # or agent.kill(): vanish without DISCONNECT, the broker publishes the Last Will
"""
from __future__ import annotations

import signal
import threading
import time
from collections import OrderedDict
from collections.abc import Callable

import etapalvelu
from edge import messages
from edge.adapters import Adapter, AdapterError, Reading, make_adapters
from edge.config import AgentConfig
from edge.mqtt import BrokerLink
from edge.outbox import Outbox, OutboxFull, Pending
from edge.probe import LinkLimits, ProbePlan, ProbeRunner, ProbeTarget, next_probe_at
from etapalvelu.logs import event_log
from protocol.codec import Message
from protocol.payloads import Command, LinkFigures
from protocol.topics import topic

log = event_log(__name__)

QOS = {"health": 1, "telemetry": 0, "event": 1, "ack": 1}
RETAIN = {"health": True, "telemetry": False, "event": False, "ack": False}
WATCH_S = 2.0  # how often device health is read to catch changes between reports
RESEND_SETTLE_S = 5.0  # longest wait for in-flight messages before serving a resend
_CODE_OK = frozenset("abcdefghijklmnopqrstuvwxyz0123456789_")
_RANK = {"ok": 0, "degraded": 1, "fault": 2, "missing": 3}
MAX_BOOKINGS = 64  # booking starts a probe schedule may hold
PROBE_RETRY_S = 30.0  # a probe that could not measure is tried again this soon


class Agent:
    """One room's agent. ``start`` runs it in a background thread; ``stop`` ends it cleanly;
    ``kill`` makes it vanish (no DISCONNECT) so the broker fires the Last Will."""

    def __init__(self, config: AgentConfig, *, clock: Callable[[], float] = time.time,
                 inflight_limit: int = 256) -> None:
        self.config = config
        self.clock = clock
        self.inflight_limit = inflight_limit
        self.adapters: dict[str, Adapter] = make_adapters(config, self._on_device_event)
        self.outbox: Outbox | None = None
        self.link: BrokerLink | None = None
        self._lock = threading.Lock()  # seq allocation and outbox order go together
        self._seqs: dict[str, int] = {}
        self._answers: OrderedDict[str, tuple[bool, str | None]] = OrderedDict()
        self._thread: threading.Thread | None = None
        self._stopping = threading.Event()
        self._clean_stop = True
        self._urgent: set[str] = set()  # devices whose health must go out now
        self._outbox_full = False
        self._resend: tuple[float, float] | None = None  # (since, asked at) of a cloud request
        self._last_health: dict[str, Reading] = {}
        self.probe = self._link_probe()
        self._probe_reading: Reading | None = None  # the last probe's verdict on the network
        self._probed_at: float | None = None  # epoch seconds of the last probe's start
        self._booking_starts: list[float] = []  # epoch seconds, from ``probe_schedule``

    def _link_probe(self) -> ProbeRunner | None:
        probe = self.config.probe
        if probe is None:
            return None
        target = ProbeTarget(
            probe.url, self.config.site, self.config.room, probe.secret(),
            tuple({"urls": s.urls, "username": s.username,
                   "credential": s.credential.get_secret_value() if s.credential else None}
                  for s in probe.ice_servers), probe.relay_only)
        plan = ProbePlan(pings=probe.pings, ping_interval_s=probe.ping_interval_s,
                         burst_kbps=probe.burst_kbps, timeout_s=probe.timeout_s)
        limits = LinkLimits(probe.limit_rtt_ms, probe.limit_jitter_ms, probe.limit_loss_pct,
                            probe.limit_bitrate_kbps)
        return ProbeRunner(target, plan, limits, self._on_probe_done)

    # -- lifecycle -------------------------------------------------------------------------
    def start(self) -> Agent:
        """Open the outbox and start the agent's thread; returns at once."""
        if self._thread is not None:
            raise RuntimeError("agent already started")
        self.outbox = Outbox(self.config.outbox.path, self.config.outbox.max_bytes,
                             self.config.outbox.synchronous)
        self._seqs = {}
        self.link = BrokerLink(self.config, self.outbox, self._on_command,
                               inflight_limit=self.inflight_limit, version=etapalvelu.__version__)
        self._stopping.clear()
        self._thread = threading.Thread(target=self._run, daemon=True,
                                        name=f"agent-{self.config.site}-{self.config.room}")
        self._thread.start()
        log.info("edge.agent_started", site=self.config.site, room=self.config.room,
                 devices=list(self.adapters))
        return self

    def stop(self, timeout: float = 10.0) -> None:
        """Stop cleanly: publish ``offline`` (retained), DISCONNECT, close the outbox."""
        self._finish(clean=True, timeout=timeout)

    def kill(self, timeout: float = 10.0) -> None:
        """Vanish like a crashed process: close the socket without DISCONNECT and send
        nothing more, so the broker publishes the Last Will."""
        self._finish(clean=False, timeout=timeout)

    def run_forever(self) -> None:
        """Run in the foreground until SIGTERM or SIGINT, then stop cleanly (for ``edge run``)."""
        done = threading.Event()
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, lambda *_: done.set())
        self.start()
        while not done.wait(1.0):
            if self._thread is not None and not self._thread.is_alive():
                raise RuntimeError("agent thread died")
        self.stop()

    @property
    def connected(self) -> bool:
        """Whether the agent is online at the broker (commands subscribed, birth sent)."""
        return self.link is not None and self.link.connected

    def wait_connected(self, timeout: float = 10.0) -> bool:
        """Wait until the agent is online; return whether it is."""
        deadline = time.monotonic() + timeout
        while not self.connected:
            if time.monotonic() > deadline:
                return False
            time.sleep(0.01)
        return True

    # -- in-process control (also reached by commands) ---------------------------------------
    def inject_fault(self, device: str, fault: str) -> str:
        """Inject a fault or action into a simulated device; its health goes out at once.
        Raises ``AdapterError`` for an unknown device, a real device or an unknown fault."""
        detail = self._adapter(device).inject(fault)
        self._health_now(device)
        return detail

    def restart_device(self, device: str) -> str:
        """Restart a device through its adapter; raises ``AdapterError`` when it fails."""
        adapter = self._adapter(device)
        try:
            return adapter.restart()
        finally:
            self._health_now(device)

    def emit_event(self, device: str, data: dict, *, synced: bool = True) -> str:
        """Store an event of ``device`` for sending; return its id. Raises ``OutboxFull``."""
        event_id = messages.new_event_id(self._now_ms())
        self._store(device, "event", lambda ts, seq: messages.event(
            ts=ts, seq=seq, id=event_id, data=data, synced=synced))
        return event_id

    def emit_events(self, device: str, events: list[dict], *, synced: bool = True) -> list[str]:
        """Store many events of ``device`` in one transaction (one fsync); return their ids."""
        ids = [messages.new_event_id(self._now_ms()) for _ in events]
        self._store_many([(device, "event", lambda ts, seq, i=i, d=d: messages.event(
            ts=ts, seq=seq, id=i, data=d, synced=synced)) for i, d in zip(ids, events)])
        return ids

    def publish_health(self, devices: list[str] | None = None, *,
                       only_changed: bool = False) -> None:
        """Store the current health of the devices (all by default) for sending;
        ``only_changed`` skips devices whose state is what was last sent."""
        batch = []
        for device in devices or list(self.adapters):
            if device not in self.adapters:
                continue
            reading = self._read_health(device)
            if reading is None or (only_changed and self._last_health.get(device) == reading):
                continue
            self._last_health[device] = reading
            batch.append((device, "health", lambda ts, seq, r=reading: messages.health(
                ts=ts, seq=seq, state=r.state, code=r.code,
                detail=messages.clip_detail(r.detail))))
        self._store_many(batch)

    def publish_telemetry(self) -> None:
        """Store one telemetry point of every device that has numbers."""
        batch = []
        for device, adapter in self.adapters.items():
            try:
                metrics = dict(adapter.read_telemetry())
            except Exception:
                log.exception("edge.telemetry_read_failed", device=device)
                continue
            if device == "agent" and self.outbox is not None:
                metrics.update(outbox_bytes=self.outbox.bytes, outbox_msgs=len(self.outbox),
                               outbox_dropped=self.outbox.dropped,
                               outbox_refused=self.outbox.refused)
            if metrics:
                batch.append((device, "telemetry", lambda ts, seq, m=metrics:
                              messages.telemetry(ts=ts, seq=seq, metrics=m)))
        self._store_many(batch)

    # -- the thread ------------------------------------------------------------------------
    def _run(self) -> None:
        assert self.link is not None
        intervals = self.config.intervals
        due = dict.fromkeys(("health", "watch", "telemetry"), time.monotonic())
        try:
            while not self._stopping.is_set():
                try:
                    self._tick(due, intervals)
                except Exception:  # never let one bad reading or message end the agent
                    log.exception("edge.agent_tick_failed", site=self.config.site,
                                  room=self.config.room)
                    self._stopping.wait(0.5)
        finally:
            self.link.close(clean=self._clean_stop)

    def _tick(self, due: dict[str, float], intervals) -> None:
        assert self.link is not None
        now = time.monotonic()
        if now >= due["health"]:
            due["health"] = now + intervals.health_s
            due["watch"] = now + min(WATCH_S, intervals.health_s)
            self._store_quietly(self.publish_health)
        elif now >= due["watch"]:  # a change goes out within WATCH_S, not one health interval
            due["watch"] = now + min(WATCH_S, intervals.health_s)
            self._store_quietly(lambda: self.publish_health(only_changed=True))
        if now >= due["telemetry"]:
            due["telemetry"] = now + intervals.telemetry_s
            self._store_quietly(self.publish_telemetry)
        if self._urgent:
            with self._lock:
                urgent, self._urgent = self._urgent, set()
            self._store_quietly(lambda: self.publish_health(sorted(urgent)))
        window = self.link.take_failover()
        if window is not None:  # a new broker: what the old one held for the cloud is gone
            self._request_resend(window)
        self._resend_when_settled(now)
        self._probe_when_due()
        self.link.step(now)
        wait = self.link.idle_wait()
        if wait:
            self._stopping.wait(wait)

    # -- the link probe ----------------------------------------------------------------------
    def probe_link(self) -> str:
        """Start a link probe now (unless one runs); its figures follow as telemetry."""
        if self.probe is None:
            raise AdapterError("the link probe is not configured (probe: in the config)")
        self._probed_at = time.time()
        return "probe started" if self.probe.start() else "a probe is under way"

    def set_booking_starts(self, starts: str) -> str:
        """Take the room's coming booking starts (comma-separated epoch ms, the
        ``probe_schedule`` command); a probe runs ``before_booking_s`` before each."""
        try:
            values = [int(part) for part in starts.split(",") if part.strip()]
        except ValueError:
            raise AdapterError("starts must be epoch milliseconds separated by commas") from None
        self._take_booking_starts(values)
        return f"{len(self._booking_starts)} booking starts"

    @property
    def booking_starts(self) -> list[float]:
        """The room's coming booking starts the agent knows (epoch seconds)."""
        return list(self._booking_starts)

    def _take_booking_starts(self, starts_ms: list[int]) -> None:
        self._booking_starts = sorted({ms / 1000 for ms in starts_ms})[:MAX_BOOKINGS]

    def next_probe_at(self, now: float | None = None) -> float | None:
        """When the next link probe is due (epoch seconds); None when the probe is off."""
        if self.config.probe is None:
            return None
        return next_probe_at(now=time.time() if now is None else now, last_at=self._probed_at,
                             every_s=self.config.probe.every_s,
                             booking_starts=self._booking_starts,
                             lead_s=self.config.probe.before_booking_s)

    def _probe_when_due(self) -> None:
        if self.probe is None or self.probe.running:
            return
        now = time.time()
        if now >= self.next_probe_at(now):
            self.probe_link()

    def _on_probe_done(self, figures: LinkFigures | None, reading: Reading | None,
                       booking_starts_ms: list[int] | None) -> None:
        """On the probe's thread: its figures become network telemetry, its verdict part of
        the network's health (sent at once); the bookings the cloud told replace ours. No
        reading (the endpoint did not answer) leaves the health as it was."""
        if self._stopping.is_set():
            return  # the outbox is closing; the next start probes again
        if reading is not None:
            self._probe_reading = reading
        if booking_starts_ms is not None:
            self._take_booking_starts(booking_starts_ms)
        if figures is None and self.config.probe is not None and self._probed_at is not None:
            # the next regular turn comes PROBE_RETRY_S after this failure
            self._probed_at = time.time() - self.config.probe.every_s + PROBE_RETRY_S
        if figures is not None:
            self._store_quietly(lambda: self._store_link(figures))
        self._health_now("network")

    def _store_link(self, figures: LinkFigures) -> None:
        metrics = figures.model_dump()
        self._store("network", "telemetry",
                    lambda ts, seq: messages.telemetry(ts=ts, seq=seq, metrics=metrics))

    def _request_resend(self, seconds: float) -> str:
        """Remember the cloud's ask; it is served once what is in flight now is confirmed,
        because a message the broker accepted but dropped may still await its PUBACK."""
        since = time.time() - seconds
        earliest = min(since, self._resend[0]) if self._resend else since
        self._resend = (earliest, time.monotonic())
        return "events of the window are queued once the messages in flight are confirmed"

    def _resend_when_settled(self, now: float) -> None:
        if self._resend is None or self.outbox is None:
            return
        since, asked = self._resend
        if self.link is not None and self.link.inflight and now - asked < RESEND_SETTLE_S:
            return
        self._resend = None
        count = self.outbox.resend(time.time() - since)
        log.info("edge.resend", site=self.config.site, room=self.config.room, events=count)

    @staticmethod
    def _store_quietly(publish: Callable[[], None]) -> None:
        try:
            publish()
        except OutboxFull:
            pass  # logged where it happened; health and telemetry are best effort

    def _finish(self, clean: bool, timeout: float) -> None:
        if self._thread is None:
            return
        self._clean_stop = clean
        self._stopping.set()
        self._thread.join(timeout)
        if self.probe is not None:
            self.probe.join(min(timeout, 5.0))
        self._thread = None
        if self.outbox is not None:
            self.outbox.close()
        log.info("edge.agent_stopped", site=self.config.site, room=self.config.room,
                 clean=clean)

    # -- messages --------------------------------------------------------------------------
    def _now_ms(self) -> int:
        return int(self.clock() * 1000)

    def _next_seq(self, device: str) -> int:
        assert self.outbox is not None
        if device not in self._seqs:
            last = self.outbox.last_seq(device)
            self._seqs[device] = -1 if last is None else last
        self._seqs[device] += 1
        return self._seqs[device]

    def _store(self, device: str, kind: str, build: Callable[[int, int], bytes]) -> None:
        self._store_many([(device, kind, build)])

    def _store_many(self, items: list[tuple[str, str, Callable[[int, int], bytes]]]) -> None:
        """Give each message its device's next seq and store the lot in one transaction."""
        if not items:
            return
        if self.outbox is None:
            raise RuntimeError("agent not started")
        site, room = self.config.site, self.config.room
        with self._lock:
            batch = []
            for device, kind, build in items:
                seq = self._next_seq(device)
                try:
                    payload = build(self._now_ms(), seq)
                except ValueError:  # a reading outside the contract: skip it, keep the seq
                    self._seqs[device] -= 1
                    log.exception("edge.message_invalid", device=device, kind=kind)
                    continue
                batch.append(Pending(device, kind, topic(site, room, device, kind), payload,
                                     QOS[kind], RETAIN[kind], seq))
            try:
                self.outbox.put(batch)
            except OutboxFull as exc:
                self._outbox_full = True
                self._seqs.clear()  # refused messages used seqs: restart from what is stored
                log.error("edge.outbox_full", site=site, room=room, detail=str(exc))
                raise
            if any(kind == "event" for _, kind, _ in items):
                self._outbox_full = False

    def _read_health(self, device: str) -> Reading | None:
        adapter = self.adapters[device]
        try:
            reading = adapter.read_health()
        except Exception as exc:
            log.exception("edge.health_read_failed", device=device)
            reading = Reading("fault", "adapter_error", str(exc))
        if device == "agent" and self._outbox_full and (reading is None or reading.state == "ok"):
            reading = Reading("degraded", "outbox_full", "events refused: outbox full")
        probed = self._probe_reading
        if device == "network" and probed is not None and (
                reading is None or _RANK[probed.state] > _RANK[reading.state]):
            reading = probed  # the worse of the broker check and the last probe
        return reading

    def _health_now(self, device: str) -> None:
        with self._lock:
            self._urgent.add(device)

    def _adapter(self, device: str) -> Adapter:
        adapter = self.adapters.get(device)
        if adapter is None:
            raise AdapterError(f"device {device!r} not found")
        return adapter

    def _on_device_event(self, device: str, data: dict) -> None:
        try:
            event_id = self.emit_event(device, data)
        except OutboxFull:
            return  # logged in _store_many; the agent's health reports it
        log.info("edge.device_event", device=device, type=data.get("type"), id=event_id)

    # -- commands --------------------------------------------------------------------------
    def _on_command(self, message: Message) -> None:
        command = message.payload
        assert isinstance(command, Command)
        device, name = message.topic.device, message.topic.command or ""
        if device != "agent" and not self._answers_for(device):
            return  # a device that speaks MQTT itself answers its own commands
        if command.id in self._answers:  # QoS 1 redelivery: answer again, do not act twice
            ok, detail = self._answers[command.id]
        else:
            ok, detail = self._execute(device, name, dict(command.args))
            self._answers[command.id] = (ok, detail)
            while len(self._answers) > 256:
                self._answers.popitem(last=False)
        log.info("edge.command", device=device, cmd=name, id=command.id, ok=ok)
        cmd = name if name and set(name) <= _CODE_OK and name[0].isalpha() else "unknown"
        try:
            self._store(device, "ack", lambda ts, seq: messages.ack(
                ts=ts, seq=seq, id=command.id, cmd=cmd[:40], ok=ok,
                detail=messages.clip_detail(detail)))
        except OutboxFull:
            pass  # logged; the cloud's command times out

    def _answers_for(self, device: str) -> bool:
        adapter = self.adapters.get(device)
        return adapter is not None and adapter.simulated

    def _execute(self, device: str, name: str, args: dict) -> tuple[bool, str | None]:
        try:
            if device != "agent":
                return True, f"{name} noted by simulated {device}"
            if name == "ping":
                return True, None
            if name == "restart_device":
                return True, self.restart_device(str(args.get("device", "")))
            if name == "resend":
                return True, self._request_resend(float(args.get("seconds", 0)))
            if name == "probe_link":
                return True, self.probe_link()
            if name == "probe_schedule":
                return True, self.set_booking_starts(str(args.get("starts", "")))
            if name == "inject_fault":
                return True, self.inject_fault(str(args.get("device", "")),
                                               str(args.get("fault", "")))
            return False, f"unknown command {name!r}"
        except AdapterError as exc:
            return False, str(exc)
        except Exception as exc:  # an adapter bug answers the command instead of killing it
            log.exception("edge.command_error", cmd=name)
            return False, f"{type(exc).__name__}: {exc}"
