"""People who charge: contact details and the id tags they hold. Create, change, delete, and
the conditions the lists (web UI, API) search people and filter tags and transactions by.

The rules hold for every edge: a first or a last name; an e-mail address of the usual shape;
bounded text; the tags given exist and belong to nobody else. Functions run in the caller's
transaction and raise ``Invalid`` (field -> reason) or ``NotFound`` before writing anything.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, fields

from sqlalchemy import ColumnElement, Select, or_, select, update
from sqlalchemy.orm import Session

from soapgw.core.errors import Invalid, NotFound
from soapgw.store.models import IdTag, Person
from soapgw.timestamps import now

TEXT_LIMITS = {"first_name": 100, "last_name": 100, "email": 255, "phone": 40, "street": 255,
               "house_number": 20, "postal_code": 20, "city": 100, "country": 100,
               "note": 4000}
# one @, no spaces, a dot in the domain: the shape, not deliverability
_EMAIL = re.compile(r"[^@\s]+@[^@\s.]+(\.[^@\s.]+)+")
_PHONE = re.compile(r"\+?[0-9 ()./-]{3,40}")
MAX_TAGS = 100


@dataclass
class PersonValues:
    first_name: str | None = None
    last_name: str | None = None
    email: str | None = None
    phone: str | None = None
    street: str | None = None
    house_number: str | None = None
    postal_code: str | None = None
    city: str | None = None
    country: str | None = None
    note: str | None = None

    def columns(self) -> dict:
        """The checked column values (empty text: None); raises Invalid."""
        values = {f.name: (getattr(self, f.name) or "").strip() or None for f in fields(self)}
        problems = {name: f"at most {limit} characters" for name, limit in TEXT_LIMITS.items()
                    if values[name] is not None and len(values[name]) > limit}
        if values["first_name"] is None and values["last_name"] is None:
            problems["last_name"] = "enter a first or a last name"
        if values["email"] and "email" not in problems and not _EMAIL.fullmatch(values["email"]):
            problems["email"] = "not an e-mail address (name@example.org)"
        if values["phone"] and "phone" not in problems and not _PHONE.fullmatch(values["phone"]):
            problems["phone"] = "use digits, spaces and + ( ) - / . only"
        if problems:
            raise Invalid(problems)
        return values


def person(db: Session, pk: int) -> Person:
    found = db.get(Person, pk)
    if found is None:
        raise NotFound(f"no person {pk}")
    return found


def _tag_rows(db: Session, id_tags: list[str], owner: int | None) -> list[IdTag]:
    """The tags named, checked: they exist and nobody else holds them."""
    wanted = list(dict.fromkeys(t.strip() for t in id_tags if t and t.strip()))
    if len(wanted) > MAX_TAGS:
        raise Invalid({"id_tags": f"at most {MAX_TAGS} tags per person"})
    found = {t.id_tag: t for t in db.scalars(select(IdTag).where(IdTag.id_tag.in_(wanted)))}
    problems = [f"{t!r} is not a registered tag" for t in wanted if t not in found]
    held = [t for t in found.values() if t.person_id is not None and t.person_id != owner]
    names = {p.id: p.name for p in db.scalars(select(Person).where(
        Person.id.in_({t.person_id for t in held})))} if held else {}
    problems += [f"{t.id_tag!r} belongs to {names.get(t.person_id, 'someone else')} "
                 f"(user {t.person_id})" for t in held]
    if problems:
        shown = "; ".join(problems[:5]) + ("; …" if len(problems) > 5 else "")
        raise Invalid({"id_tags": shown})
    return [found[t] for t in wanted]


def _hold(db: Session, pk: int, tags: list[IdTag]) -> None:
    keep = [t.id for t in tags]
    db.execute(update(IdTag).where(IdTag.person_id == pk, IdTag.id.not_in(keep))
               .values(person_id=None))
    if keep:
        db.execute(update(IdTag).where(IdTag.id.in_(keep)).values(person_id=pk))


def create_person(db: Session, values: PersonValues, id_tags: list[str] = ()) -> Person:
    """Add a person holding ``id_tags`` (registered tags nobody else holds)."""
    columns = values.columns()
    tags = _tag_rows(db, list(id_tags), None)
    at = now()
    created = Person(**columns, created_at=at, updated_at=at)
    db.add(created)
    db.flush()
    _hold(db, created.id, tags)
    return created


def update_person(db: Session, pk: int, values: PersonValues, id_tags: list[str]) -> Person:
    """Change a person's details; they hold exactly ``id_tags`` afterwards."""
    found = person(db, pk)
    columns = values.columns()
    tags = _tag_rows(db, list(id_tags), pk)
    for name, value in columns.items():
        setattr(found, name, value)
    found.updated_at = now()
    _hold(db, pk, tags)
    db.flush()
    db.expire(found)
    return found


def delete_person(db: Session, pk: int) -> str:
    """Delete a person; their tags stay, held by nobody. Returns the name."""
    found = person(db, pk)
    name = found.name
    db.execute(update(IdTag).where(IdTag.person_id == pk).values(person_id=None))
    db.delete(found)
    return name


def tags_of(db: Session, pk: int) -> list[str]:
    return list(db.scalars(select(IdTag.id_tag).where(IdTag.person_id == pk)
                           .order_by(IdTag.id_tag)))


# --- conditions for the lists ------------------------------------------------------------------
def _contains(text: str) -> str:
    escaped = text.strip().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def person_search(text: str) -> ColumnElement:
    """People whose name (first, last, or both as typed), e-mail, phone or city contains
    ``text``, or who hold a tag containing it."""
    pattern = _contains(text)
    full = Person.first_name + " " + Person.last_name
    return or_(*(column.ilike(pattern, escape="\\") for column in (
        Person.first_name, Person.last_name, full, Person.email, Person.phone, Person.city)),
        Person.id.in_(select(IdTag.person_id).where(IdTag.id_tag.ilike(pattern, escape="\\"))))


def people_query(text: str | None = None) -> Select:
    """The people list, ordered by name."""
    query = select(Person).order_by(Person.last_name, Person.first_name, Person.id)
    if text and text.strip():
        query = query.where(person_search(text))
    return query


def tags_of_people(person_id: int | None = None, text: str | None = None) -> Select | None:
    """The id tags held by a person (by id) or by the people matching ``text``: for
    ``Transaction.id_tag.in_(...)`` / ``IdTag.id_tag.in_(...)``; None when neither is given."""
    if person_id is None and not (text and text.strip()):
        return None
    query = select(IdTag.id_tag).where(IdTag.person_id.is_not(None))
    if person_id is not None:
        query = query.where(IdTag.person_id == person_id)
    if text and text.strip():
        query = query.where(IdTag.person_id.in_(select(Person.id).where(person_search(text))))
    return query


def resolved_tags(db: Session, person_id: int | None = None, text: str | None = None,
                  limit: int = 2000) -> list[str] | Select | None:
    """``tags_of_people`` read once into a list when it is short (the list pages use it twice,
    for the rows and the count, and a list of values lets the database use its id tag
    indexes); the statement itself when it is long."""
    query = tags_of_people(person_id, text)
    if query is None:
        return None
    found = list(db.scalars(query.limit(limit + 1)))
    return found if len(found) <= limit else query


def holders(db: Session, id_tags: list[str]) -> dict[str, Person]:
    """id tag -> the person holding it, for the tags given (a page's worth)."""
    if not id_tags:
        return {}
    return dict(db.execute(select(IdTag.id_tag, Person).join(Person, Person.id == IdTag.person_id)
                           .where(IdTag.id_tag.in_(list(set(id_tags))))).all())
