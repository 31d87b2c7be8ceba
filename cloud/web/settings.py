"""Settings of the web front of the API (prefix ``ETP_WEB_``)."""
from __future__ import annotations

from pydantic import SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class WebSettings(BaseSettings):
    """What the app needs to know about the network in front of it."""

    model_config = SettingsConfigDict(env_prefix="ETP_WEB_", extra="ignore")

    # The address the staff's browsers use (e.g. https://etapalvelu.example.invalid): the
    # origin that may post with a session cookie; the request's own origin is always allowed.
    public_url: str | None = None
    # Peers whose X-Forwarded-For / X-Forwarded-Proto are believed (the load balancer's
    # addresses); anyone else's are ignored, so the login throttle and the audit see the peer.
    trusted_proxies: list[str] = []
    max_body_bytes: int = 256 * 1024  # the largest request body read; larger: 413
    # /metrics needs ``Authorization: Bearer <token>``; unset: the admin token
    metrics_token: SecretStr | None = None
