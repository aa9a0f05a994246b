"""People (users holding id tags): list with search, create, read, change, delete (operate
scope to change). Every write is a core.people function, as in the web UI."""
from __future__ import annotations

from flask import Response as FlaskResponse
from spectree import Response
from sqlalchemy import select

from soapgw.api.db import db
from soapgw.api.paging import keyset, page
from soapgw.api.present import iso, link
from soapgw.api.problems import ApiProblem, invalid
from soapgw.api.routing import route
from soapgw.api.schemas import Person, PersonCreate, PersonPage, PersonQuery, PersonUpdate
from soapgw.core import people
from soapgw.core.errors import Invalid, NotFound
from soapgw.store.models import IdTag, Person as PersonRow

TAG = "people"
ID_RULE = "<int(max=2147483647):person_id>"
# core.people's field names -> the API's
FIELDS = {"first_name": "firstName", "last_name": "lastName", "email": "email",
          "phone": "phone", "street": "street", "house_number": "houseNumber",
          "postal_code": "postalCode", "city": "city", "country": "country", "note": "note",
          "id_tags": "idTags"}


def view(row: PersonRow, tags: list[str]) -> dict:
    return {**{api: getattr(row, column) for column, api in FIELDS.items()
               if column != "id_tags"},
            "id": row.id, "idTags": tags, "createdAt": iso(row.created_at),
            "updatedAt": iso(row.updated_at),
            "links": {"self": link("get_person", person_id=row.id),
                      "transactions": link("list_transactions", person=row.id)}}


def _person_or_404(person_id: int) -> PersonRow:
    try:
        return people.person(db(), person_id)
    except NotFound as error:
        raise ApiProblem(404, str(error)) from None


def _values(json, found: PersonRow | None = None) -> people.PersonValues:
    """The values sent; with ``found``, fields left out keep their stored value."""
    given = json.model_fields_set
    return people.PersonValues(**{
        column: getattr(json, api) if found is None or api in given else getattr(found, column)
        for column, api in FIELDS.items() if column != "id_tags"})


def _refused(error: Invalid) -> ApiProblem:
    return invalid({FIELDS.get(k, k): v for k, v in error.problems.items()})


@route("GET", "/people", tag=TAG, query=PersonQuery, resp=Response(HTTP_200=PersonPage))
def list_people(query: PersonQuery):
    """People, newest first; ``q`` searches name, e-mail, phone, city and their tags."""
    statement = select(PersonRow)
    if query.q and query.q.strip():
        statement = statement.where(people.person_search(query.q))
    rows, cursor = keyset(db(), statement, PersonRow.id, query.limit, query.cursor,
                          last=lambda row: row.Person.id)
    ids = [row.Person.id for row in rows]
    held: dict[int, list[str]] = {}
    if ids:
        for person_id, id_tag in db().execute(
                select(IdTag.person_id, IdTag.id_tag).where(IdTag.person_id.in_(ids))
                .order_by(IdTag.id_tag)):
            held.setdefault(person_id, []).append(id_tag)
    return page([view(row.Person, held.get(row.Person.id, [])) for row in rows], cursor)


@route("POST", "/people", scope="operate", tag=TAG, json=PersonCreate,
       resp=Response(HTTP_201=Person, HTTP_422=None))
def create_person(json: PersonCreate):
    """Add a person holding ``idTags``."""
    try:
        created = people.create_person(db(), _values(json), json.idTags)
    except Invalid as error:
        db().rollback()
        raise _refused(error) from None
    db().commit()
    return get_person(created.id), 201, {"Location": link("get_person", person_id=created.id)}


@route("GET", f"/people/{ID_RULE}", tag=TAG, resp=Response(HTTP_200=Person, HTTP_404=None))
def get_person(person_id: int):
    """One person, with the tags they hold."""
    return view(_person_or_404(person_id), people.tags_of(db(), person_id))


@route("PATCH", f"/people/{ID_RULE}", scope="operate", tag=TAG, json=PersonUpdate,
       resp=Response(HTTP_200=Person, HTTP_404=None, HTTP_422=None))
def update_person(person_id: int, json: PersonUpdate):
    """Change a person; fields left out stay (null clears); ``idTags`` replaces their tags."""
    found = _person_or_404(person_id)
    tags = json.idTags if json.idTags is not None else people.tags_of(db(), person_id)
    try:
        people.update_person(db(), person_id, _values(json, found), tags)
    except Invalid as error:
        db().rollback()
        raise _refused(error) from None
    db().commit()
    return get_person(person_id)


@route("DELETE", f"/people/{ID_RULE}", scope="operate", tag=TAG,
       resp=Response(HTTP_204=None, HTTP_404=None))
def delete_person(person_id: int):
    """Delete a person; their tags stay, held by nobody."""
    people.delete_person(db(), _person_or_404(person_id).id)
    db().commit()
    return FlaskResponse(status=204)
