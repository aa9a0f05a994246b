"""Bearer tokens (``core.api_tokens``): who calls, and whether the scope allows the route.

A route's scope is set with ``@scope("operate")`` (default ``read``). Unknown, revoked or
missing tokens get 401 with ``WWW-Authenticate: Bearer``; a scope too small gets 403. The
token's last use is written at most once a minute, in its own short transaction.
"""
from __future__ import annotations

from flask import current_app, g, request

from soapgw.api.problems import ApiProblem
from soapgw.core import api_tokens
from soapgw.store.database import READ_ONLY

SCOPE_ATTRIBUTE = "api_scope"


def scope(needed: str):
    """Mark a view as needing ``needed`` (read, operate or admin)."""
    assert needed in api_tokens.SCOPES

    def mark(view):
        setattr(view, SCOPE_ATTRIBUTE, needed)
        return view
    return mark


def needed_scope(view) -> str:
    while view is not None:
        if (found := getattr(view, SCOPE_ATTRIBUTE, None)) is not None:
            return found
        view = getattr(view, "__wrapped__", None)
    return "read"


def _unauthorized(detail: str) -> ApiProblem:
    return ApiProblem(401, detail, headers={"WWW-Authenticate": 'Bearer realm="soapgw"'})


def authenticate(sessions) -> api_tokens.Caller:
    """The caller of this request, or ApiProblem 401."""
    header = request.headers.get("Authorization", "")
    kind, _, token = header.partition(" ")
    if kind.lower() != "bearer" or not token.strip():
        raise _unauthorized("send a token as `Authorization: Bearer TOKEN` "
                            "(soapgw token create NAME --scope read|operate|admin)")
    engine = sessions.kw["bind"]
    with sessions(bind=engine.execution_options(**{READ_ONLY: True})) as db:
        caller, last_used = api_tokens.authenticate(db, token.strip())
    if caller is None:
        raise _unauthorized("the token is unknown or revoked")
    if api_tokens.needs_touch(last_used):
        with sessions.begin() as db:
            api_tokens.touch(db, caller.id)
    return caller


def check_request() -> None:
    """Run before every API view: authenticate, then the route's scope."""
    sessions = current_app.extensions["soapgw_sessions"]
    g.api_caller = caller = authenticate(sessions)
    view = current_app.view_functions.get(request.endpoint)
    needed = needed_scope(view)
    if not api_tokens.allows(caller.scope, needed):
        raise ApiProblem(403, f"this needs a token of scope {needed!r}; "
                              f"{caller.name!r} has {caller.scope!r}",
                         required_scope=needed)


def caller() -> api_tokens.Caller:
    return g.api_caller
