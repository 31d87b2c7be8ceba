"""Settings of the notification worker, from the environment (prefix ``ETP_NOTIFY_``)."""
from __future__ import annotations

from pydantic import SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class NotifySettings(BaseSettings):
    """Where and how notifications are sent.

    ``sms_url`` is the SMS gateway's HTTP endpoint (JSON ``{"to", "text"}``); webhooks post to
    the recipient URL itself. When ``smtp_host`` or ``sms_url`` is unset that channel only logs
    (the demo), and the message counts as sent.
    """

    model_config = SettingsConfigDict(env_prefix="ETP_NOTIFY_", extra="ignore")

    smtp_host: str | None = None
    smtp_port: int = 25
    smtp_username: str | None = None
    smtp_password: SecretStr | None = None
    smtp_starttls: bool = False
    smtp_timeout_s: float = 10.0
    smtp_local_hostname: str | None = None  # the EHLO name; default: this host's FQDN
    from_address: str = "etapalvelu@example.invalid"
    message_id_domain: str = "etapalvelu.example.invalid"
    sms_url: str | None = None
    sms_token: SecretStr | None = None
    http_timeout_s: float = 10.0
    poll_interval_s: float = 0.1
    batch_size: int = 50
    concurrency: int = 8
    lease_s: float = 60.0
    retry_base_s: float = 2.0
    retry_cap_s: float = 300.0
    give_up_after_s: float = 86400.0  # a day of retries, then the message is marked failed
