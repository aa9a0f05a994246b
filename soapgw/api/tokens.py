"""API tokens (admin): list, create (the token is in the answer, once), revoke."""
from __future__ import annotations

from spectree import Response

from soapgw.api import auth
from soapgw.api.db import db
from soapgw.api.present import iso, link
from soapgw.api.problems import ApiProblem, invalid
from soapgw.api.routing import route
from soapgw.api.schemas import Token, TokenCreate, TokenList, TokenWithSecret
from soapgw.core import api_tokens
from soapgw.core.errors import Invalid, NotFound

TAG = "tokens"


def view(row) -> dict:
    return {"id": row.id, "name": row.name, "scope": row.scope, "prefix": row.prefix,
            "createdAt": iso(row.created_at), "lastUsedAt": iso(row.last_used_at),
            "revokedAt": iso(row.revoked_at),
            "links": {"self": link("revoke_token", token_id=row.id)}}


@route("GET", "/tokens", scope="admin", tag=TAG, resp=Response(HTTP_200=TokenList))
def list_tokens():
    """Every token (revoked ones too), with its last use."""
    return {"items": [view(row) for row in api_tokens.tokens(db())]}


@route("POST", "/tokens", scope="admin", tag=TAG, json=TokenCreate,
       resp=Response(HTTP_201=TokenWithSecret, HTTP_409=None, HTTP_422=None))
def create_token(json: TokenCreate):
    """A new token; the answer is the only time it is shown."""
    try:
        created = api_tokens.create_token(db(), json.name, json.scope)
    except Invalid as error:
        if "exists already" in error.problems.get("name", ""):
            raise ApiProblem(409, error.problems["name"], kind="exists") from None
        raise invalid(error.problems) from None
    db().commit()
    return {**view(created.row), "token": created.token}, 201


@route("DELETE", "/tokens/<int(max=2147483647):token_id>", scope="admin", tag=TAG,
       resp=Response(HTTP_200=Token, HTTP_404=None, HTTP_409=None))
def revoke_token(token_id: int):
    """Revoke a token (it stays listed); a token cannot revoke itself."""
    if token_id == auth.caller().id:
        raise ApiProblem(409, "a token cannot revoke itself: use another admin token or "
                              "`soapgw token revoke`", kind="self-revoke")
    try:
        row = api_tokens.revoke(db(), token_id)
    except NotFound as error:
        raise ApiProblem(404, str(error)) from None
    db().commit()
    return view(row)
