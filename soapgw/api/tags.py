"""OCPP id tags: list, create, read, change, delete (operate scope to change)."""
from __future__ import annotations

from flask import Response as FlaskResponse
from spectree import Response
from sqlalchemy import select

from soapgw.api.db import db
from soapgw.api.paging import keyset, page
from soapgw.api.present import iso, link
from soapgw.api.problems import ApiProblem, invalid
from soapgw.api.routing import route
from soapgw.api.schemas import Tag, TagCreate, TagPage, TagQuery, TagUpdate
from soapgw.core import tags
from soapgw.core.errors import Invalid
from soapgw.store.models import IdTag

TAG = "id tags"
FIELDS = {"id_tag": "idTag", "parent_id_tag": "parentIdTag", "expiry_date": "expiryDate",
          "max_active_transactions": "maxActiveTransactions", "note": "note"}
ID_RULE = "<string(maxlength=20):id_tag>"


def refused(error: Invalid) -> ApiProblem:
    problems = {FIELDS.get(k, k): v for k, v in error.problems.items()}
    if "already exists" in problems.get("idTag", ""):
        return ApiProblem(409, problems["idTag"], kind="exists")
    return invalid(problems)


def view(tag: IdTag) -> dict:
    return {"idTag": tag.id_tag, "parentIdTag": tag.parent_id_tag,
            "expiryDate": iso(tag.expiry_date),
            "maxActiveTransactions": tag.max_active_transactions, "blocked": bool(tag.blocked),
            "note": tag.note, "createdAt": iso(tag.created_at),
            "links": {"self": link("get_tag", id_tag=tag.id_tag),
                      "transactions": link("list_transactions", idTag=tag.id_tag)}}


def tag_or_404(id_tag: str) -> IdTag:
    found = db().scalars(select(IdTag).where(IdTag.id_tag == id_tag)).one_or_none()
    if found is None:
        raise ApiProblem(404, f"no id tag {id_tag!r}")
    return found


@route("GET", "/tags", tag=TAG, query=TagQuery, resp=Response(HTTP_200=TagPage))
def list_tags(query: TagQuery):
    """Id tags, oldest first."""
    statement = select(IdTag)
    if query.blocked is not None:
        statement = statement.where(IdTag.blocked == query.blocked)
    if query.parentIdTag:
        statement = statement.where(IdTag.parent_id_tag == query.parentIdTag)
    rows, cursor = keyset(db(), statement, IdTag.id, query.limit, query.cursor,
                          descending=False, last=lambda row: row.IdTag.id)
    return page([view(row.IdTag) for row in rows], cursor)


def _values(fields) -> tags.TagValues:
    return tags.TagValues(parent_id_tag=fields.parentIdTag, expiry_date=fields.expiryDate,
                          max_active_transactions=fields.maxActiveTransactions,
                          blocked=fields.blocked, note=fields.note)


@route("POST", "/tags", scope="operate", tag=TAG, json=TagCreate,
       resp=Response(HTTP_201=Tag, HTTP_409=None, HTTP_422=None))
def create_tag(json: TagCreate):
    """Add an id tag."""
    try:
        tags.add_tag(db(), json.idTag, _values(json))
    except Invalid as error:
        raise refused(error) from None
    db().commit()
    return view(tag_or_404(json.idTag)), 201, {"Location": link("get_tag", id_tag=json.idTag)}


@route("GET", f"/tags/{ID_RULE}", tag=TAG, resp=Response(HTTP_200=Tag, HTTP_404=None))
def get_tag(id_tag: str):
    """One id tag."""
    return view(tag_or_404(id_tag))


@route("PATCH", f"/tags/{ID_RULE}", scope="operate", tag=TAG, json=TagUpdate,
       resp=Response(HTTP_200=Tag, HTTP_404=None, HTTP_422=None))
def update_tag(id_tag: str, json: TagUpdate):
    """Change a tag; fields left out stay as they are (null clears parent, expiry, note)."""
    found = tag_or_404(id_tag)
    given = json.model_fields_set
    values = tags.TagValues(
        parent_id_tag=json.parentIdTag if "parentIdTag" in given else found.parent_id_tag,
        expiry_date=json.expiryDate if "expiryDate" in given else found.expiry_date,
        max_active_transactions=(json.maxActiveTransactions
                                 if json.maxActiveTransactions is not None
                                 else found.max_active_transactions),
        blocked=json.blocked if json.blocked is not None else found.blocked,
        note=json.note if "note" in given else found.note)
    try:
        tags.update_tag(db(), found.id, values)
    except Invalid as error:
        raise refused(error) from None
    db().commit()
    return view(tag_or_404(id_tag))


@route("DELETE", f"/tags/{ID_RULE}", scope="operate", tag=TAG,
       resp=Response(HTTP_204=None, HTTP_404=None))
def delete_tag(id_tag: str):
    """Delete a tag (its transactions keep the id tag as text)."""
    tags.delete_tag(db(), tag_or_404(id_tag).id)
    db().commit()
    return FlaskResponse(status=204)
