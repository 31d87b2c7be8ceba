"""What both devices share: sequence numbers, event ids, the retry queue, the uplink, health
and telemetry, command answers and the main loop."""
import os

import wire
from clock import DeviceClock
from console import log
from link import Uplink
from store import RetryQueue, Sequence

LOOP_MS = 10


class Device:
    """Base of the call button and the occupancy sensor; subclasses implement ``step``."""

    name = None  # the device level of the topic tree
    id_prefix = None  # start of this device's event ids

    def __init__(self, board, config):
        self.board = board
        self.config = config
        self.boot_ms = board.now_ms()
        self.clock = DeviceClock(board, self.boot_ms)
        self.sequence = Sequence(config.path("seq"))
        self.queue = RetryQueue(config.path("queue"), config.queue_limit)
        self.uplink = Uplink(board, config, self.name, self.queue, self.clock,
                             self.on_command, self.on_connected)
        # a per-boot suffix keeps ids unique even if the sequence file is ever lost
        self._boot_tag = "%04x" % int.from_bytes(os.urandom(2), "big")
        self.reported_at = None

    def run(self):
        """The main loop; returns only through deep sleep (or ``Reboot`` on the Unix port)."""
        while True:
            now = self.board.now_ms()
            self.step(now)
            self.uplink.tick(now)
            self.board.tick(now)
            self.board.idle(LOOP_MS)

    def step(self, now):
        """One pass of the device's own logic."""
        raise NotImplementedError

    def send_event(self, kind, occupied=None):
        """Queue an event (QoS 1, kept on flash until the broker acknowledges it); return its id."""
        seq = self.sequence.next()
        ts, synced = self.clock.stamp()
        event_id = "%s-%010d-%s" % (self.id_prefix, seq, self._boot_tag)
        payload = wire.event(ts, seq, event_id, kind, occupied, synced)
        _, dropped = self.queue.push(seq, self.uplink.topic("event"), payload)
        log("event_queued", id=event_id, kind=kind, synced=synced, dropped=len(dropped))
        return event_id

    def send_ack(self, command, ok, detail=None):
        """Answer a command on ``.../ack`` (queued like an event)."""
        seq = self.sequence.next()
        payload = wire.ack(self.clock.stamp()[0], seq, command.id, command.name, ok, detail)
        self.queue.push(seq, self.uplink.topic("ack"), payload)

    def on_command(self, command):
        """Answer ``ping``; refuse commands this device does not know."""
        if command.name == "ping":
            self.send_ack(command, True)
        else:
            self.send_ack(command, False, "unknown command")

    def on_connected(self):
        """Birth: the retained health replaces the Last Will's ``missing``; then numbers."""
        self.report()

    def health(self):
        """``(state, code)`` of the device now."""
        volts = self.board.battery_v()
        if volts is not None and volts < self.config.battery_low_v:
            return "degraded", "battery_low"
        return "ok", None

    def metrics(self):
        """Telemetry numbers: battery voltage and Wi-Fi signal, when the board has them."""
        pairs = []
        volts = self.board.battery_v()
        if volts is not None:
            pairs.append(("battery_v", volts))
        rssi = self.board.rssi_dbm()
        if rssi is not None:
            pairs.append(("rssi_dbm", rssi))
        return pairs

    def report(self):
        """Publish health (retained, QoS 1) and telemetry (QoS 0) now if connected."""
        if not self.uplink.up:
            return False
        state, code = self.health()
        ts = self.clock.stamp()[0]
        sent = self.uplink.publish("health", wire.health(ts, self.sequence.next(), state, code),
                                   qos=1, retain=True)
        pairs = self.metrics()
        if sent and pairs:
            sent = self.uplink.publish("telemetry",
                                       wire.telemetry(ts, self.sequence.next(), pairs))
        if sent:
            self.reported_at = self.board.now_ms()
            log("reported", state=state, code=code)
        return sent
