"""Settings of staff accounts (prefix ``ETP_ACCOUNTS_``)."""
from __future__ import annotations

from pydantic import SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class AccountSettings(BaseSettings):
    """Session lifetimes, login throttling and the OIDC identity provider."""

    model_config = SettingsConfigDict(env_prefix="ETP_ACCOUNTS_", extra="ignore")

    idle_minutes: int = 30          # a session unused this long ends
    absolute_hours: int = 10        # a session ends this long after login, used or not
    max_failed_logins: int = 5      # per username within the throttle window
    max_failed_per_client: int = 20  # per client address within the window
    throttle_minutes: int = 15
    cookie_secure: bool = True      # the session cookie only over HTTPS
    oidc_issuer: str | None = None  # OIDC login is off when unset
    oidc_client_id: str | None = None
    oidc_client_secret: SecretStr | None = None
    oidc_redirect_url: str | None = None  # e.g. https://host/api/accounts/oidc/callback
    oidc_scope: str = "openid email profile"
    state_secret: SecretStr = SecretStr("development-only-state-secret")
