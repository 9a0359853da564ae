"""Credentials the client sends: HTTP Basic, a static bearer token, or
Keycloak client credentials that are refreshed before they expire."""

from __future__ import annotations

import threading
import time
from typing import Callable, Optional

import requests

from .errors import UnauthorizedError, error_for_status


class Auth:
    """Base class: sets the Authorization header of a request."""

    def header(self) -> Optional[str]:
        """Return the Authorization header value, or None for anonymous."""
        return None

    def invalidate(self) -> None:
        """Forget a cached token after the server rejected it with 401."""


class BasicAuth(Auth):
    """HTTP Basic credentials: the root user, or any user name with a
    personal access token or robot secret as the password."""

    def __init__(self, user: str, password: str) -> None:
        import base64

        raw = f"{user}:{password}".encode()
        self._value = "Basic " + base64.b64encode(raw).decode()

    def header(self) -> Optional[str]:
        return self._value


class StaticToken(Auth):
    """A bearer token that never changes, such as an access token a
    pipeline already holds."""

    def __init__(self, token: str) -> None:
        self._value = "Bearer " + token

    def header(self) -> Optional[str]:
        return self._value


class ClientCredentials(Auth):
    """An OAuth 2.0 client-credentials grant against Keycloak's token
    endpoint, for example
    ``https://sso.example.com/realms/coffer/protocol/openid-connect/token``.

    The access token is fetched on first use and fetched again ``leeway``
    seconds before it expires, or after the server responded 401.
    """

    def __init__(self, token_url: str, client_id: str, client_secret: str, *,
                 scope: str = "", leeway: float = 30.0,
                 session: Optional[requests.Session] = None,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.token_url = token_url
        self.client_id = client_id
        self._secret = client_secret
        self.scope = scope
        self.leeway = leeway
        self._session = session or requests.Session()
        self._clock = clock
        self._lock = threading.Lock()
        self._token = ""
        self._expires = 0.0

    def header(self) -> Optional[str]:
        with self._lock:
            if not self._token or self._clock() >= self._expires - self.leeway:
                self._fetch()
            return "Bearer " + self._token

    def invalidate(self) -> None:
        with self._lock:
            self._token = ""

    def _fetch(self) -> None:
        form = {"grant_type": "client_credentials"}
        if self.scope:
            form["scope"] = self.scope
        resp = self._session.post(self.token_url, data=form,
                                  auth=(self.client_id, self._secret), timeout=30)
        if resp.status_code != 200:
            detail = _oauth_error(resp)
            if resp.status_code in (400, 401):
                raise UnauthorizedError(f"POST {self.token_url}: {resp.status_code}: {detail}",
                                        status=resp.status_code, detail=detail,
                                        method="POST", url=self.token_url)
            raise error_for_status(resp.status_code, detail, "POST", self.token_url)
        body = resp.json()
        self._token = body["access_token"]
        self._expires = self._clock() + float(body.get("expires_in", 60))


def _oauth_error(resp: requests.Response) -> str:
    try:
        body = resp.json()
    except ValueError:
        return resp.text[:200]
    return f"{body.get('error', '')}: {body.get('error_description', '')}".strip(": ")
