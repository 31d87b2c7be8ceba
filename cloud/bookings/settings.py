"""Settings of the booking system (prefix ``ETP_BOOKINGS_``)."""
from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from pydantic_settings import BaseSettings, SettingsConfigDict

from cloud.bookings.catalogue import CATALOGUE_FILE


class BookingSettings(BaseSettings):
    """Retention of customers' personal data, the readiness check's and the reminders' lead
    times, the catalogue, and the public address of the links sent to customers."""

    model_config = SettingsConfigDict(env_prefix="ETP_BOOKINGS_", extra="ignore")

    retention_days: float = 30      # personal fields are purged this long after the visit
    readiness_lead_minutes: int = 15
    # reminders go out this long before the visit; unset: local noon the day before
    reminder_lead_s: float | None = None
    # the address customers open the links of text messages at (the feedback page)
    public_url: str = "http://127.0.0.1:8080"
    # the services and the experts' capacity (the demo's round-the-clock catalogue, a region's)
    catalogue_file: Path = CATALOGUE_FILE

    def rules(self, registry):
        """The booking rules of ``registry`` with this catalogue: the one way every process
        loads them."""
        from cloud.bookings.rules import BookingRules

        return BookingRules.load(registry, self.catalogue_file)

    @property
    def retention(self) -> timedelta:
        """The retention as a duration."""
        return timedelta(days=self.retention_days)

    @property
    def reminder_lead(self) -> timedelta | None:
        """The reminder's lead as a duration (None: noon the day before)."""
        return None if self.reminder_lead_s is None else timedelta(seconds=self.reminder_lead_s)
