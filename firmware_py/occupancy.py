"""The occupancy sensor: a PIR or mmWave output turned into ``occupancy`` events with
hysteresis, plus periodic health and telemetry. It is mains-powered and stays connected."""
from console import log
from device import Device
from presence import OccupancyFilter


class OccupancySensor(Device):
    """The occupancy sensor's logic on any board."""

    name = "occupancy"
    id_prefix = "occ"

    def __init__(self, board, config):
        super().__init__(board, config)
        self.filter = OccupancyFilter(config.confirm_ms, config.hold_ms, self.boot_ms)
        log("boot", device=self.name, wake=board.wake_reason(), queued=len(self.queue))

    def step(self, now):
        """Sample the sensor; send a change; report every ``report_s``."""
        change = self.filter.update(now, self.board.motion())
        if change is not None:
            self.send_event("occupancy", occupied=change)
        due = self.reported_at is None or now - self.reported_at >= self.config.report_s * 1000
        if due and self.uplink.up:
            self.report()
        self.board.set_led("on" if self.filter.occupied else "off")
