"""Settings of the link-probe endpoint (prefix ``ETP_PROBE_``)."""
from __future__ import annotations

from typing import Literal

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEVELOPMENT_SECRET = "development-only-probe-secret"


class ProbeSettings(BaseSettings):
    """The secret room tokens derive from, and the bounds on the probes the cloud serves."""

    model_config = SettingsConfigDict(env_prefix="ETP_PROBE_", extra="ignore")

    environment: Literal["development", "production"] = Field(
        "development", validation_alias="ETP_ENVIRONMENT")
    secret: SecretStr = SecretStr(DEVELOPMENT_SECRET)
    max_concurrent: int = Field(8, ge=1)  # probes at once per API replica; more get 503
    max_duration_s: float = Field(60.0, gt=0)  # a probe's peer is closed after this at most
    booking_horizon_h: float = Field(24.0, gt=0)  # bookings told to the agent in an answer
    stun_urls: list[str] = []  # for a cloud peer behind NAT; none when it has a public address

    @model_validator(mode="after")
    def _safe_in_production(self) -> ProbeSettings:
        if self.environment == "production" and (
                self.secret.get_secret_value() == DEVELOPMENT_SECRET
                or len(self.secret.get_secret_value()) < 32):
            raise ValueError("production needs ETP_PROBE_SECRET: 32 or more random characters")
        return self
