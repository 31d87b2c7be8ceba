"""Settings of the booking system (prefix ``ETP_BOOKINGS_``)."""
from __future__ import annotations

from datetime import timedelta

from pydantic_settings import BaseSettings, SettingsConfigDict


class BookingSettings(BaseSettings):
    """Retention of customers' personal data and the readiness check's lead time."""

    model_config = SettingsConfigDict(env_prefix="ETP_BOOKINGS_", extra="ignore")

    retention_days: int = 30        # personal fields are purged this long after the visit
    readiness_lead_minutes: int = 15

    @property
    def retention(self) -> timedelta:
        """The retention as a duration."""
        return timedelta(days=self.retention_days)
