"""Staff login through an OpenID Connect identity provider (production).

Authorization code flow with PKCE (S256), ``state`` and ``nonce``. The three values travel in a
signed, short-lived, HttpOnly cookie between ``/login`` and ``/callback``, so any API replica can
finish a login another one began. The ID token's signature is checked against the provider's
JWKS, then ``iss``, ``aud``, ``exp`` and ``nonce``. A member of staff is found by the
(issuer, subject) pair they were imported with: the provider proves who someone is, the
platform's own account says what they may do.
"""
from __future__ import annotations

import time
from urllib.parse import urlencode

import httpx
from authlib.common.security import generate_token
from authlib.oauth2.rfc7636 import create_s256_code_challenge
from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse
from itsdangerous import BadSignature, URLSafeTimedSerializer
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet
from sqlalchemy import select

from cloud.accounts import service
from cloud.accounts.deps import (
    SESSION_COOKIE,
    AccountSettingsDep,
    NowDep,
    client_address,
)
from cloud.accounts.models import Staff
from cloud.accounts.settings import AccountSettings
from cloud.api.deps import SessionDep
from cloud.api.inputs import Token
from cloud.api.refusals import Refusal

router = APIRouter(prefix="/oidc", tags=["accounts"])
FLOW_COOKIE = "etp_oidc_flow"
FLOW_SECONDS = 600
ALGORITHMS = ["RS256", "ES256", "PS256"]
_DISCOVERY: dict[str, tuple[float, dict]] = {}  # issuer -> (fetched at, document)


class OidcError(Exception):
    """A login through the provider that cannot be accepted."""


def discovery(issuer: str, *, max_age_s: float = 3600) -> dict:
    """The provider's discovery document, cached for an hour."""
    cached = _DISCOVERY.get(issuer)
    if cached and time.monotonic() - cached[0] < max_age_s:
        return cached[1]
    answer = httpx.get(f"{issuer.rstrip('/')}/.well-known/openid-configuration", timeout=10)
    answer.raise_for_status()
    document = answer.json()
    if document.get("issuer") != issuer:
        raise OidcError("the discovery document names another issuer")
    _DISCOVERY[issuer] = (time.monotonic(), document)
    return document


def _serializer(settings: AccountSettings) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(settings.state_secret.get_secret_value(), salt="oidc-flow")


def _configured(settings: AccountSettings) -> None:
    if not (settings.oidc_issuer and settings.oidc_client_id and settings.oidc_redirect_url):
        raise Refusal(404, "not_found", "OIDC login is not configured")


def authorization_url(settings: AccountSettings, **extra: str) -> tuple[str, list[str]]:
    """The provider's authorisation URL for a new login (``extra`` query parameters, e.g.
    ``acr_values``) and the flow's [state, nonce, PKCE verifier] to keep for the callback."""
    provider = discovery(settings.oidc_issuer)
    state, nonce, verifier = generate_token(32), generate_token(32), generate_token(64)
    query = urlencode({
        "response_type": "code", "client_id": settings.oidc_client_id,
        "redirect_uri": settings.oidc_redirect_url, "scope": settings.oidc_scope,
        "state": state, "nonce": nonce, "code_challenge_method": "S256",
        "code_challenge": create_s256_code_challenge(verifier), **extra})
    return f"{provider['authorization_endpoint']}?{query}", [state, nonce, verifier]


@router.get("/login")
def login(accounts: AccountSettingsDep) -> RedirectResponse:
    """Send the browser to the identity provider."""
    _configured(accounts)
    url, (state, nonce, verifier) = authorization_url(accounts)
    response = RedirectResponse(url, 302)
    response.set_cookie(FLOW_COOKIE, _serializer(accounts).dumps([state, nonce, verifier]),
                        max_age=FLOW_SECONDS, httponly=True, secure=accounts.cookie_secure,
                        samesite="lax", path="/")
    return response


def exchange_code(settings: AccountSettings, *, code: str, verifier: str, nonce: str) -> dict:
    """Trade the code for tokens and return the verified ID token's claims."""
    provider = discovery(settings.oidc_issuer)
    secret = settings.oidc_client_secret.get_secret_value() if settings.oidc_client_secret \
        else None
    answer = httpx.post(provider["token_endpoint"], timeout=10, data={
        "grant_type": "authorization_code", "code": code, "code_verifier": verifier,
        "redirect_uri": settings.oidc_redirect_url, "client_id": settings.oidc_client_id},
        auth=(settings.oidc_client_id, secret) if secret else None)
    if answer.status_code != 200:
        raise OidcError(f"token endpoint answered {answer.status_code}")
    id_token = answer.json().get("id_token")
    if not id_token:
        raise OidcError("no id_token in the token response")
    keys = KeySet.import_key_set(httpx.get(provider["jwks_uri"], timeout=10).json())
    try:
        token = jwt.decode(id_token, keys, algorithms=ALGORITHMS)
        jwt.JWTClaimsRegistry(
            iss={"essential": True, "value": settings.oidc_issuer},
            aud={"essential": True, "value": settings.oidc_client_id},
            sub={"essential": True}, exp={"essential": True},
            nonce={"essential": True, "value": nonce}).validate(token.claims)
    except (JoseError, ValueError) as error:
        raise OidcError(f"ID token refused: {type(error).__name__}") from None
    return token.claims


@router.get("/callback")
def callback(request: Request, session: SessionDep, accounts: AccountSettingsDep, now: NowDep,
             code: Token | None = None, state: Token | None = None,
             error: Token | None = None) -> RedirectResponse:
    """Finish the login: check the flow, the tokens and the staff account; start a session."""
    _configured(accounts)
    client = client_address(request)
    try:
        flow_state, nonce, verifier = _serializer(accounts).loads(
            request.cookies.get(FLOW_COOKIE, ""), max_age=FLOW_SECONDS)
        if error or not code or state != flow_state:
            raise OidcError(error or "state mismatch")
        claims = exchange_code(accounts, code=code, verifier=verifier, nonce=nonce)
    except (BadSignature, OidcError, ValueError) as refusal:
        service.audit(session, actor="oidc", action="login", outcome="failed", now=now,
                      client=client, reason=str(refusal)[:120] or "bad flow")
        session.commit()  # the audit entry stays
        raise Refusal(401, "not_authenticated",
                      "login through the identity provider failed") from None
    staff = session.scalar(select(Staff).where(Staff.oidc_issuer == accounts.oidc_issuer,
                                               Staff.oidc_subject == claims["sub"],
                                               Staff.active.is_(True)))
    if staff is None:
        service.audit(session, actor="oidc", action="login", outcome="refused", now=now,
                      client=client, reason="no staff account for this identity")
        session.commit()
        raise Refusal(403, "not_allowed", "no staff account for this identity")
    service.audit(session, actor=staff.username, action="login", outcome="ok", now=now,
                  client=client, reason="oidc")
    new = service.open_session(session, accounts, staff=staff, method="oidc", client=client,
                               now=now)
    session.commit()
    response = RedirectResponse("/", 303)
    response.delete_cookie(FLOW_COOKIE, path="/")
    response.set_cookie(SESSION_COOKIE, new.token, httponly=True, secure=accounts.cookie_secure,
                        samesite="lax", path="/", max_age=accounts.absolute_hours * 3600)
    return response
