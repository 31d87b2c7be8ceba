"""Settings of video sessions (prefix ``ETP_SESSIONS_``): the end of a session, the ICE servers
and the third parties' identity provider."""
from __future__ import annotations

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEVELOPMENT_TERMINAL_SECRET = "development-only-terminal-secret"
DEVELOPMENT_STATE_SECRET = "development-only-session-state-secret"


class SessionSettings(BaseSettings):
    """How long a session may run past its slot, which STUN/TURN servers the peers use and
    where a third party proves who they are."""

    model_config = SettingsConfigDict(env_prefix="ETP_SESSIONS_", extra="ignore")

    environment: str = Field("development", validation_alias="ETP_ENVIRONMENT")
    grace_minutes: int = Field(10, ge=0)  # a session ends this long after its slot at the latest
    warning_minutes: int = Field(5, ge=1)  # the peers are warned this long before the end
    early_minutes: int = Field(10, ge=0)  # the room and the expert may join this early
    # the kiosk's five faces give way to its waiting screen this long after a session's end
    feedback_s: float = Field(60.0, gt=0, le=1800)
    watch_period_s: float = Field(1.0, gt=0)  # how often a replica checks its sessions' ends
    # a staff member's socket ends at most this long after their staff session ends
    staff_check_s: float = Field(15.0, gt=0)
    stun_urls: list[str] = []
    turn_urls: list[str] = []  # e.g. ["turn:turn.example.invalid:3478?transport=udp"]
    turn_secret: SecretStr | None = None  # coturn's static-auth-secret (use-auth-secret)
    # a room terminal proves its room with HMAC(terminal_secret, "site/room")
    terminal_secret: SecretStr = SecretStr(DEVELOPMENT_TERMINAL_SECRET)
    invite_hours: float = Field(4.0, gt=0)  # an unopened invitation lapses (or with the session)
    oidc_issuer: str | None = None  # third parties cannot join while unset
    oidc_client_id: str | None = None
    oidc_client_secret: SecretStr | None = None
    oidc_redirect_url: str | None = None  # https://host/api/sessions/invite/callback
    oidc_scope: str = "openid profile"
    token_max_age_s: int = Field(300, ge=30)  # an ID token issued longer ago is stale
    state_secret: SecretStr = SecretStr(DEVELOPMENT_STATE_SECRET)
    cookie_secure: bool = True

    @model_validator(mode="after")
    def _safe_in_production(self) -> SessionSettings:
        development = (self.terminal_secret.get_secret_value() == DEVELOPMENT_TERMINAL_SECRET
                       or self.state_secret.get_secret_value() == DEVELOPMENT_STATE_SECRET)
        if self.environment == "production" and development:
            raise ValueError("set ETP_SESSIONS_TERMINAL_SECRET and "
                                 "ETP_SESSIONS_STATE_SECRET to real secrets in production")
        return self
