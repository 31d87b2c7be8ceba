"""A third party's way in: the invitation link, strong authentication through OIDC, the
confidentiality affirmation. The login reuses the platform's OIDC client
(``cloud.accounts.oidc``: PKCE, state, nonce, the ID token's signature, issuer, audience and
expiry) with the third parties' own client, and adds what a third party needs: the assurance
level from ``acr``, a fresh token, and a token used only once. What passes between the login
and the affirmation travels in a signed, short-lived cookie, which the server accepts once;
nothing is stored until the person has affirmed, and then only the shown name, the level, the
times and, while the session runs, a keyed hash of the login's subject (the same person
logging in again replaces their earlier participant)."""
from __future__ import annotations

import json
import secrets
from datetime import UTC, datetime, timedelta

from itsdangerous import BadSignature, URLSafeTimedSerializer
from sqlalchemy.orm import Session

from cloud.accounts.oidc import OidcError, authorization_url, exchange_code
from cloud.accounts.settings import AccountSettings
from cloud.sessions import rules, service
from cloud.sessions.rules import ACCEPTED_ASSURANCE, SessionRefused
from cloud.sessions.settings import SessionSettings

FLOW_COOKIE, PENDING_COOKIE = "etp_invite_flow", "etp_invite_pending"
FLOW_SECONDS, PENDING_SECONDS = 600, 900


def configured(settings: SessionSettings) -> None:
    """Refuse when no identity provider for third parties is set."""
    if not (settings.oidc_issuer and settings.oidc_client_id and settings.oidc_redirect_url):
        raise SessionRefused("no_identity_provider", "third parties cannot join: no "
                             "identity provider is configured")


def _serializer(settings: SessionSettings, salt: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(settings.state_secret.get_secret_value(), salt=salt)


def start_login(settings: SessionSettings, *, invitation: str) -> tuple[str, str]:
    """The provider's authorisation URL and the signed flow cookie for one invitation."""
    configured(settings)
    url, flow = authorization_url(_client(settings),
                                  acr_values=" ".join(sorted(ACCEPTED_ASSURANCE)))
    return url, _serializer(settings, "invite-flow").dumps([*flow, invitation])


def _client(settings: SessionSettings) -> AccountSettings:
    """The third parties' OIDC client in the form the platform's OIDC client takes."""
    return AccountSettings(oidc_issuer=settings.oidc_issuer,
                           oidc_client_id=settings.oidc_client_id,
                           oidc_client_secret=settings.oidc_client_secret,
                           oidc_redirect_url=settings.oidc_redirect_url,
                           oidc_scope=settings.oidc_scope)


def finish_login(*, db: Session, settings: SessionSettings, flow_cookie: str, code: str | None,
                 state: str | None, now: datetime) -> str:
    """Check the provider's answer and the ID token; returns the signed pending cookie
    (session, shown name, level, time of authentication) for the affirmation."""
    configured(settings)
    try:
        flow_state, nonce, verifier, invitation = _serializer(settings, "invite-flow").loads(
            flow_cookie, max_age=FLOW_SECONDS)
    except (BadSignature, ValueError):
        raise SessionRefused("bad_flow", "the login took too long or was tampered with") \
            from None
    if not code or state != flow_state:
        raise SessionRefused("bad_flow", "the login's state does not match")
    video_session = service.invited_session(db=db, token=invitation, now=now)
    # a booking's invitation is its interpreter's: the staff's views show them as such
    interpreter = service.invitation_of(db=db, token=invitation, now=now).booking_id is not None
    try:
        claims = exchange_code(_client(settings), code=code, verifier=verifier, nonce=nonce)
    except OidcError as error:
        raise SessionRefused("bad_token", str(error)) from None
    acr = rules.check_assurance(claims.get("acr"))
    authenticated = rules.check_fresh(issued_at=claims.get("auth_time", claims.get("iat")),
                                      now=now, max_age=timedelta(seconds=settings.token_max_age_s))
    service.claim_id_token(db=db, id_token=json.dumps(claims, sort_keys=True),
                           expires_at=now + timedelta(seconds=settings.token_max_age_s * 2),
                           now=now)
    if not claims.get("sub"):
        raise SessionRefused("bad_token", "the login names no subject")
    return _serializer(settings, "invite-pending").dumps({
        "session": video_session.id, "name": rules.shown_name(claims), "acr": acr,
        "at": authenticated.timestamp(), "once": secrets.token_urlsafe(16),
        "interpreter": interpreter,
        "who": service.identity_key(settings, issuer=str(claims.get("iss", "")),
                                    subject=str(claims["sub"]))})


def pending(settings: SessionSettings, cookie: str) -> dict:
    """The authenticated, not yet affirmed third party of the pending cookie."""
    try:
        return _serializer(settings, "invite-pending").loads(cookie, max_age=PENDING_SECONDS)
    except (BadSignature, ValueError):
        raise SessionRefused("not_authenticated", "log in with strong authentication "
                             "first") from None


def affirm(*, db: Session, settings: SessionSettings, cookie: str, affirmed: bool,
           now: datetime):
    """Enter the lobby once the person affirms the place is fit for confidential matters;
    returns the participant and its credential."""
    who = pending(settings, cookie)
    if not affirmed:
        raise SessionRefused("no_affirmation", "joining needs the affirmation that you are "
                             "in a place fit for confidential matters")
    # the signed cookie could be sent again for its whole life: the server takes it once
    service.claim_once(db=db, key=f"affirmation\n{who['once']}",
                       expires_at=now + timedelta(seconds=PENDING_SECONDS), now=now)
    video_session = service.get(db=db, session_id=who["session"])
    return service.join(db=db, video_session=video_session, role=rules.THIRD_PARTY, now=now,
                        shown_name=who["name"], assurance=who["acr"],
                        authenticated_at=datetime.fromtimestamp(who["at"], UTC),
                        affirmed_at=now, identity_hash=who["who"],
                        interpreter=bool(who.get("interpreter")))
