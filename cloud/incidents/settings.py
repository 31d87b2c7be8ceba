"""Settings of the incident engine, from the environment (prefix ``ETP_INCIDENTS_``)."""
from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from pydantic_settings import BaseSettings, SettingsConfigDict

from cloud.incidents.mass import MassPolicy
from cloud.incidents.matrix import SAMPLE_MATRIX, ResponsibilityMatrix, load_matrix
from cloud.incidents.rules import DebouncePolicy


class IncidentSettings(BaseSettings):
    """Detection thresholds, debounce, lifecycle windows and where links point."""

    model_config = SettingsConfigDict(env_prefix="ETP_INCIDENTS_", extra="ignore")

    matrix_file: Path = SAMPLE_MATRIX
    public_url: str = "http://127.0.0.1:8080"  # base of the ack/resolve links in messages
    link_ttl_s: float = 7 * 86400
    open_after_s: float = 60
    resolve_after_s: float = 120
    flap_window_s: float = 300
    flap_changes: int = 6
    flap_open_after_s: float = 600
    reopen_window_s: float = 3600
    critical_lead_min: float = 60  # before a site opens (its hours: ``cloud.sites``)
    button_silent_s: float = 3 * 3600
    clock_skew_bound_ms: int = 30_000
    data_loss_messages: int = 10
    data_loss_window_s: float = 900
    occupancy_stuck_s: float = 4 * 3600
    poll_interval_s: float = 0.1
    twin_interval_s: float = 30
    housekeeping_interval_s: float = 1.0
    lease_s: float = 15.0  # a standby engine takes over this long after the leader vanished
    give_up_after_failures: int = 3  # failed rounds in a row before the lease is handed back
    failure_pause_s: float = 1.0  # wait after a failed round before the next
    console_refresh_s: float = 30.0  # the support console reloads its queue this often
    # a mass disconnect (``mass.py``): this many rooms offline within the window, at least
    # ``mass_min_rooms`` and ``mass_fraction`` of the fleet, is one platform incident; its
    # rooms' own conditions wait until ``mass_settle_s`` after it ended
    mass_window_s: float = 120
    mass_min_rooms: int = 10
    mass_fraction: float = 0.05
    mass_settle_s: float = 180
    # the ingest's link to the broker (``cloud.runtime.broker``): a worker's row counts while
    # refreshed within ``link_stale_s``; after the link is back no room is judged for
    # ``link_grace_s``: the agents' reconnect backoff (the edge's ``reconnect_max_s``, 30 s)
    # and the twin's catching up
    link_stale_s: float = 60
    link_grace_s: float = 90
    # a round is bounded: at most this many incidents opened or resolved (the rest in the
    # next round, the rooms that cannot serve first), committed in chunks of ``commit_every``
    round_changes_max: int = 500
    commit_every: int = 100

    def matrix(self, registry) -> ResponsibilityMatrix:
        """The responsibility matrix of ``matrix_file``, checked against ``registry``'s sites:
        the one way every process, command and report loads it."""
        return load_matrix(self.matrix_file, list(registry.sites))

    def debounce(self) -> DebouncePolicy:
        """The debounce policy of these settings."""
        return DebouncePolicy(open_after=timedelta(seconds=self.open_after_s),
                              resolve_after=timedelta(seconds=self.resolve_after_s),
                              flap_window=timedelta(seconds=self.flap_window_s),
                              flap_changes=self.flap_changes,
                              flap_open_after=timedelta(seconds=self.flap_open_after_s))

    def mass(self) -> MassPolicy:
        """The mass-disconnect policy of these settings."""
        return MassPolicy(window=timedelta(seconds=self.mass_window_s),
                          min_rooms=self.mass_min_rooms, fraction=self.mass_fraction,
                          settle=timedelta(seconds=self.mass_settle_s))
