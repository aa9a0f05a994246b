"""Each route of the OpenAPI document with each scope: a token below the route's scope gets
403, one at or above it gets past authorization; no token, 401."""
from __future__ import annotations

import re

import pytest

from soapgw.core.api_tokens import SCOPES, allows

from api_support import Api, api, problem, tokens  # noqa: F401

PUBLIC = {"openapi"}


def _operations(document: dict):
    for path, methods in document["paths"].items():
        for method, operation in methods.items():
            yield path, method.upper(), operation


def _fill(path: str) -> str:
    # path parameters: values that exist nowhere (the route still authorizes first)
    return re.sub(r"\{[^}]+\}", lambda m: "Reset" if m.group(0) == "{action}" else "424242",
                  path)


def test_every_route_with_every_scope(api, tokens):
    document = api.as_(None).get("/api/v1/openapi.json").json()
    checked = 0
    for path, method, operation in _operations(document):
        if operation["operationId"] in PUBLIC:
            continue
        url = _fill(path)
        body = {} if method in ("POST", "PATCH") else None
        problem(api.as_(None).request(method, url, json=body), 401)
        for scope in SCOPES:
            answer = api.as_(tokens[scope]).request(method, url, json=body)
            if allows(scope, operation["x-scope"]):
                assert answer.status_code not in (401, 403, 500), (method, url, scope,
                                                                   answer.text)
            else:
                body_403 = problem(answer, 403)
                assert body_403["required_scope"] == operation["x-scope"]
            checked += 1
    assert checked >= 3 * 30


@pytest.mark.smoke
def test_scopes_are_what_the_issue_says(api):
    document = api.as_(None).get("/api/v1/openapi.json").json()
    scopes = {(m, p): o["x-scope"] for p, m, o in _operations(document)}
    assert scopes[("GET", "/api/v1/chargepoints")] == "read"
    assert scopes[("POST", "/api/v1/chargepoints")] == "admin"
    assert scopes[("POST", "/api/v1/tags")] == "operate"
    assert scopes[("POST", "/api/v1/commands/{action}")] == "operate"
    assert scopes[("POST", "/api/v1/webhooks")] == "admin"
    assert scopes[("PATCH", "/api/v1/settings")] == "admin"
    assert scopes[("GET", "/api/v1/tokens")] == "admin"
