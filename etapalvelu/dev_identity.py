"""DEVELOPMENT ONLY: a small OpenID Connect provider for the tests and the demo, never for
production (it approves everyone at once). Discovery, JWKS, an authorize endpoint that approves
the person given in advance and a token endpoint with PKCE, served by uvicorn on a free
loopback port. It stands in for the national e-identification broker: ``claims`` adds claims
to the ID token (``acr``, ``name``; a claim set to None is left out), ``issued_ago_s`` makes a
stale token and ``replay`` hands out the last ID token again."""
from __future__ import annotations

import base64
import hashlib
import secrets
import threading
import time
from typing import Self
from urllib.parse import parse_qs, urlencode

import uvicorn
from fastapi import FastAPI, HTTPException, Request
from fastapi.responses import RedirectResponse
from joserfc import jwt
from joserfc.jwk import KeySet, RSAKey

from cloud.web.serve import route_uvicorn_logs
from etapalvelu.localservers import free_port


class Provider:
    """The development provider; ``subject`` is who logs in next; ``audience`` may be changed
    to test refusals."""

    def __init__(self, client_id: str, client_secret: str) -> None:
        self.port = free_port()
        self.issuer = f"http://127.0.0.1:{self.port}"
        self.client_id, self.client_secret = client_id, client_secret
        self.key = RSAKey.generate_key(2048, parameters={"kid": "k1", "use": "sig"})
        self.subject = "subject-1"
        self.audience = client_id
        self.codes: dict[str, dict] = {}
        self.claims: dict = {}
        self.issued_ago_s = 0
        self.replay = False
        self.last_id_token: str | None = None
        self.app = self._app()
        # no log config of uvicorn's own: its records go to the process's one renderer
        self.server = uvicorn.Server(uvicorn.Config(self.app, host="127.0.0.1", port=self.port,
                                                    log_level=None, log_config=None))
        route_uvicorn_logs()
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> Self:
        self.thread.start()
        deadline = time.monotonic() + 10
        while not self.server.started:
            if time.monotonic() > deadline:
                raise TimeoutError("OIDC provider did not start")
            time.sleep(0.01)
        return self

    def __exit__(self, *exc) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)

    def _app(self) -> FastAPI:
        app = FastAPI()

        @app.get("/.well-known/openid-configuration")
        def discovery() -> dict:
            return {"issuer": self.issuer, "authorization_endpoint": f"{self.issuer}/authorize",
                    "token_endpoint": f"{self.issuer}/token", "jwks_uri": f"{self.issuer}/jwks",
                    "response_types_supported": ["code"], "subject_types_supported": ["public"],
                    "id_token_signing_alg_values_supported": ["RS256"]}

        @app.get("/jwks")
        def jwks() -> dict:
            return KeySet([self.key]).as_dict(private=False)

        @app.get("/authorize")
        def authorize(client_id: str, redirect_uri: str, state: str, nonce: str,
                      code_challenge: str, code_challenge_method: str,
                      response_type: str, scope: str) -> RedirectResponse:
            if client_id != self.client_id or code_challenge_method != "S256" \
                    or "openid" not in scope.split():
                raise HTTPException(400, "bad request")
            code = secrets.token_urlsafe(16)
            self.codes[code] = {"challenge": code_challenge, "nonce": nonce,
                                "redirect_uri": redirect_uri, "sub": self.subject}
            return RedirectResponse(f"{redirect_uri}?{urlencode({'code': code, 'state': state})}",
                                    302)

        @app.post("/token")
        async def token(request: Request) -> dict:
            form = {k: v[0] for k, v in parse_qs((await request.body()).decode()).items()}
            code, code_verifier = form.get("code", ""), form.get("code_verifier", "")
            redirect_uri = form.get("redirect_uri")
            if request.headers.get("authorization") != "Basic " + base64.b64encode(
                    f"{self.client_id}:{self.client_secret}".encode()).decode():
                raise HTTPException(401, "invalid_client")
            grant = self.codes.pop(code, None)
            digest = base64.urlsafe_b64encode(hashlib.sha256(code_verifier.encode()).digest())
            if grant is None or grant["redirect_uri"] != redirect_uri \
                    or digest.rstrip(b"=").decode() != grant["challenge"]:
                raise HTTPException(400, "invalid_grant")
            now = int(time.time()) - self.issued_ago_s
            claims = {"iss": self.issuer, "aud": self.audience, "sub": grant["sub"],
                      "nonce": grant["nonce"], "iat": now, "exp": int(time.time()) + 300}
            claims = {k: v for k, v in (claims | self.claims).items() if v is not None}
            id_token = jwt.encode({"alg": "RS256", "kid": "k1"}, claims, self.key)
            if self.replay and self.last_id_token:
                id_token = self.last_id_token
            self.last_id_token = id_token
            return {"access_token": secrets.token_urlsafe(16), "token_type": "Bearer",
                    "id_token": id_token, "expires_in": 300}

        return app
