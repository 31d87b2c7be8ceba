"""Settings of the cloud services, from the environment (prefix ``ETP_``).

Embedded defaults run everything locally with no set-up; production sets the URLs and a real
admin token, which ``production`` mode insists on.
"""
from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from cloud.registry import PILOT_REGISTRY
from protocol.brokers import split_broker_urls

DEVELOPMENT_TOKEN = "development-only-admin-token"


class DatabasePool(BaseModel):
    """How many connections one process keeps to the relational store, and how long a request
    waits for one (``ETP_DATABASE_POOL__SIZE`` and so on)."""

    size: int = Field(10, ge=1)
    max_overflow: int = Field(20, ge=0)
    timeout_s: float = Field(30.0, gt=0)


class CloudSettings(BaseSettings):
    """Everything the cloud processes read at start."""

    model_config = SettingsConfigDict(env_prefix="ETP_", env_nested_delimiter="__", extra="ignore")

    environment: Literal["development", "production"] = "development"
    database_url: str = "sqlite:///var/etapalvelu.sqlite"
    database_pool: DatabasePool = DatabasePool()
    # the access audit writes through a pool of its own, so it never waits for a connection
    # that the requests it audits hold
    audit_pool: DatabasePool = DatabasePool(size=4, max_overflow=4)
    registry_file: Path = PILOT_REGISTRY
    # one broker, or the pair as a comma-separated list in order of preference
    # (``mqtts://a:8883,mqtts://b:8883``): a client moves to the next when one fails
    broker_url: str = "mqtt://127.0.0.1:1883"
    broker_username: str | None = None
    broker_password: SecretStr | None = None
    broker_ca_file: Path | None = None
    broker_cert_file: Path | None = None
    broker_key_file: Path | None = None
    # 3.1.1 parses faster in paho; the broker must then allow unlimited in-flight messages
    mqtt_protocol: Literal["5", "3.1.1"] = "3.1.1"
    ingest_partition: str = "0/1"  # "i/K": worker i of K reads the sites it owns (decision 80)
    ingest_name: str = "ingest-1"
    # messages a worker holds unprocessed; when full it stops reading and the broker queues
    ingest_inbox_max: int = Field(20_000, ge=100)
    twin_event_retention_days: int = Field(90, ge=1)  # button presses, occupancy changes
    influx_url: str | None = None  # telemetry history off when unset
    influx_token: SecretStr = SecretStr("")
    influx_org: str = "etapalvelu"
    influx_bucket: str = "etapalvelu"
    spool_file: Path = Path("var/telemetry-spool.sqlite")
    # points kept while the telemetry store is away; beyond, the oldest go (counted)
    spool_max_points: int = Field(5_000_000, ge=1_000)
    admin_token: SecretStr = SecretStr(DEVELOPMENT_TOKEN)
    # the processes (docs/operations.md): heartbeat rows and systemd's watchdog
    heartbeat_s: float = Field(10.0, gt=0)
    heartbeat_stale_s: float = Field(60.0, gt=0)  # `cloud status` fails past this age
    schedule_period_s: float = Field(60.0, gt=0)  # the booking schedule's round
    api_host: str = "127.0.0.1"
    api_port: int = Field(8080, ge=1, le=65535)

    @field_validator("broker_url")
    @classmethod
    def _broker_list(cls, value: str) -> str:
        return ",".join(split_broker_urls(value))

    @property
    def broker_urls(self) -> list[str]:
        """The brokers in order of preference (one when a single URL is set)."""
        return split_broker_urls(self.broker_url)

    @model_validator(mode="after")
    def _safe_in_production(self) -> CloudSettings:
        if self.environment == "production":
            if self.admin_token.get_secret_value() == DEVELOPMENT_TOKEN:
                raise ValueError("set ETP_ADMIN_TOKEN to a real secret in production")
            if self.database_url.startswith("sqlite"):
                raise ValueError("production runs on PostgreSQL: set ETP_DATABASE_URL")
        return self
