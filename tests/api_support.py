"""Helpers of the REST API tests: tokens of each scope and a small HTTP client."""
from __future__ import annotations

from dataclasses import dataclass

import pytest
import requests

from soapgw.core import api_tokens


def make_token(sessions, name: str, scope: str) -> str:
    with sessions.begin() as db:
        return api_tokens.create_token(db, name, scope).token


@dataclass
class Api:
    base: str
    token: str | None

    def request(self, method: str, path: str, **kwargs) -> requests.Response:
        headers = dict(kwargs.pop("headers", None) or {})
        if self.token:
            headers.setdefault("Authorization", f"Bearer {self.token}")
        kwargs.setdefault("timeout", 30)
        kwargs.setdefault("allow_redirects", False)
        return requests.request(method, self.base + path, headers=headers, **kwargs)

    def get(self, path, **kw):
        return self.request("GET", path, **kw)

    def post(self, path, **kw):
        return self.request("POST", path, **kw)

    def patch(self, path, **kw):
        return self.request("PATCH", path, **kw)

    def delete(self, path, **kw):
        return self.request("DELETE", path, **kw)

    def as_(self, token: str | None) -> "Api":
        return Api(self.base, token)


@pytest.fixture
def tokens(gateway) -> dict[str, str]:
    return {scope: make_token(gateway.sessions, f"test-{scope}", scope)
            for scope in api_tokens.SCOPES}


@pytest.fixture
def api(live_url, tokens) -> Api:
    """The API over real HTTP with an admin token (``api.as_(tokens['read'])`` for others)."""
    return Api(live_url, tokens["admin"])


def problem(response: requests.Response, status: int) -> dict:
    """The problem details of an error answer, checked for RFC 9457 shape."""
    assert response.status_code == status, (response.status_code, response.text)
    assert response.headers["Content-Type"].startswith("application/problem+json"), \
        response.headers["Content-Type"]
    body = response.json()
    assert body["status"] == status and body["type"].startswith("https://")
    assert body["title"] and isinstance(body["detail"], str)
    return body
