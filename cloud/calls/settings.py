"""Settings of the call-button summon loop, from the environment (prefix ``ETP_CALLS_``)."""
from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from cloud.calls.rules import EscalationRules


class CallSettings(BaseSettings):
    """When an unanswered call escalates, and how often the schedule looks.

    ``second_alert_s`` after the press the consoles get a second, stronger alert;
    ``sms_after_s`` after that second alert the site's backup number gets an SMS;
    ``expire_after_s`` after the press a call still open is cleared as ``timeout``;
    ``keepalive_s``: how often an idle live stream sends a ``keepalive`` event, so a page's
    watchdog hears its link is up (it reconnects after twice this of silence);
    ``link_poll_s``: how often a replica holding live streams reads the ingest's broker link,
    so an open page shows its loss or return within about that (``cloud.live.brokerlink``).
    """

    model_config = SettingsConfigDict(env_prefix="ETP_CALLS_", extra="ignore")

    second_alert_s: float = Field(60.0, gt=0)
    sms_after_s: float = Field(120.0, gt=0)
    expire_after_s: float = Field(1800.0, gt=0)
    round_s: float = Field(2.0, gt=0)  # the escalation round of the schedule process
    keepalive_s: float = Field(15.0, gt=0)  # a keepalive event on an idle stream this often
    link_poll_s: float = Field(3.0, gt=0)
    sms_language: str = "fi"

    def rules(self) -> EscalationRules:
        """The pure escalation rules of these settings."""
        return EscalationRules(self.second_alert_s, self.sms_after_s, self.expire_after_s)
