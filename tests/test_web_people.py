"""People (the Users page): core.people's rules, the pages, and the tag and transaction lists
shown and filtered by person."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from soapgw.core import people
from soapgw.core.errors import Invalid, NotFound
from soapgw.store.models import IdTag, Person
from web_support import (XSS, admin, client, hours_ago, rows, submit,  # noqa: F401
                         web_app)

JANE = {"first_name": "Jane", "last_name": "Doe", "email": "jane@example.org",
        "phone": "+49 30 1234567", "street": "Hauptstraße", "house_number": "5a",
        "postal_code": "10115", "city": "Berlin", "country": "Germany", "note": XSS}


def values(**changes) -> people.PersonValues:
    return people.PersonValues(**{**JANE, **changes})


# --- core ----------------------------------------------------------------------------------------
def test_create_update_delete_a_person_with_tags(gateway, rows):
    rows.tag("CARD-A")
    rows.tag("CARD-B")
    rows.tag("CARD-C")
    with gateway.sessions.begin() as db:
        pk = people.create_person(db, values(), ["CARD-A", "CARD-B", "CARD-A"]).id
    with gateway.sessions.begin() as db:
        assert people.tags_of(db, pk) == ["CARD-A", "CARD-B"]
        changed = people.update_person(db, pk, values(city=" Potsdam ", phone=""),
                                       ["CARD-B", "CARD-C"])
        assert (changed.city, changed.phone, changed.name) == ("Potsdam", None, "Jane Doe")
    with gateway.sessions.begin() as db:
        assert people.tags_of(db, pk) == ["CARD-B", "CARD-C"]
        assert db.scalar(select(IdTag.person_id).where(IdTag.id_tag == "CARD-A")) is None
        assert people.delete_person(db, pk) == "Jane Doe"
    with gateway.sessions() as db:
        assert db.scalars(select(IdTag.id_tag).order_by(IdTag.id_tag)).all() == [
            "CARD-A", "CARD-B", "CARD-C"]  # the tags stay, held by nobody
        assert db.scalars(select(IdTag.person_id)).all() == [None, None, None]
        with pytest.raises(NotFound):
            people.person(db, pk)


@pytest.mark.parametrize("changes,tags,field,reason", [
    ({"first_name": "", "last_name": " "}, [], "last_name", "first or a last name"),
    ({"email": "jane.example.org"}, [], "email", "not an e-mail address"),
    ({"email": "jane@localhost"}, [], "email", "not an e-mail address"),
    ({"email": "a b@example.org"}, [], "email", "not an e-mail address"),
    ({"phone": "call me"}, [], "phone", "digits"),
    ({"last_name": "D" * 101}, [], "last_name", "at most 100"),
    ({}, ["NOPE"], "id_tags", "not a registered tag"),
    ({}, ["HELD"], "id_tags", "belongs to Max Doe (user "),
])
def test_person_rules(gateway, rows, changes, tags, field, reason):
    rows.tag("HELD")
    with gateway.sessions.begin() as db:
        people.create_person(db, values(first_name="Max", email=None), ["HELD"])
    with gateway.sessions() as db, pytest.raises(Invalid) as refused:
        people.create_person(db, values(**changes), tags)
    assert reason in refused.value.problems[field]


def test_search_by_name_email_phone_city_and_tag(gateway, rows):
    rows.tag("RFID-77")
    with gateway.sessions.begin() as db:
        people.create_person(db, values(), ["RFID-77"])
        people.create_person(db, values(first_name="Max", last_name="Muster",
                                        email="max@example.com", phone="0301", city="Köln"))
    with gateway.sessions() as db:
        def found(text):
            return [p.first_name for p in db.scalars(people.people_query(text))]
        assert found("") == ["Jane", "Max"]  # by last name: Doe, Muster
        assert found("jane doe") == ["Jane"]
        assert found("EXAMPLE.COM") == ["Max"]
        assert found("0301") == ["Max"]
        assert found("Köln") == ["Max"]
        assert found("fid-7") == ["Jane"]
        assert found("100%") == []


# --- pages ---------------------------------------------------------------------------------------
def test_add_a_user_with_two_tags_and_see_them(client, rows, gateway):
    rows.tag("CARD-1")
    rows.tag("CARD-2")
    response = submit(client, "/people/add", {**JANE, "id_tags": "CARD-1\r\nCARD-2\r\n"})
    assert response.status_code == 302
    with gateway.sessions() as db:
        person = db.scalars(select(Person)).one()
        assert (person.email, person.note) == ("jane@example.org", XSS)
    html = client.get(response.headers["Location"]).text
    assert "<h1>Jane Doe</h1>" in html and XSS not in html
    listing = client.get("/people/").text
    assert ">Jane Doe</a>" in listing and ">CARD-1</a>, <a" in listing and ">CARD-2</a>" in listing
    assert client.get("/").text.count("<strong>1</strong> users") == 1


@pytest.mark.parametrize("data,field,message", [
    ({"first_name": "", "last_name": ""}, "last_name", "Enter a first or a last name."),
    ({"email": "nope"}, "email", "Not an e-mail address"),
    ({"id_tags": "MISSING"}, "id_tags", "is not a registered tag"),
    ({"last_name": "x" * 101}, "last_name", "Field cannot be longer than 100 characters."),
])
def test_add_form_errors(client, gateway, data, field, message):
    response = submit(client, "/people/add", {**JANE, **data})
    assert response.status_code == 400
    assert f'id="{field}-errors"' in response.text and message in response.text
    with gateway.sessions() as db:
        assert db.scalars(select(Person)).all() == []


def test_user_page_lists_tags_transactions_and_reservations(client, rows, gateway):
    station = rows.station("CB-P")
    connector = rows.connector(station)
    rows.tag("MINE")
    rows.tag("OTHER")
    with gateway.sessions.begin() as db:
        pk = people.create_person(db, values(), ["MINE"]).id
    mine = rows.transaction(connector, "MINE", hours_ago(3), stop=hours_ago(2), meter_stop=4500)
    other = rows.transaction(connector, "OTHER", hours_ago(1))
    rows.reservation(connector, "MINE", hours_ago(-1))
    html = client.get(f"/people/{pk}").text
    assert f'href="/transactions/{mine.id}">{mine.id}</a>' in html
    assert f'href="/transactions/{other.id}"' not in html
    assert "3,500" in html  # energy of the finished transaction
    assert "<td>MINE</td><td>CB-P / 1</td>" in html  # the reservation


def test_edit_and_delete_a_user(client, rows, gateway):
    rows.tag("T-1")
    rows.tag("T-2")
    with gateway.sessions.begin() as db:
        pk = people.create_person(db, values(), ["T-1"]).id
    page = client.get(f"/people/{pk}").text
    assert "T-1</textarea>" in page
    response = submit(client, f"/people/{pk}", {**JANE, "city": "Hamburg", "id_tags": "T-2"})
    assert response.status_code == 302
    with gateway.sessions() as db:
        assert db.get(Person, pk).city == "Hamburg"
        assert people.tags_of(db, pk) == ["T-2"]
    refused = submit(client, f"/people/{pk}", {**JANE, "email": "x@"})
    assert refused.status_code == 400 and "Not an e-mail address" in refused.text
    assert "T-2" in client.get(f"/people/{pk}/delete").text
    assert submit(client, f"/people/{pk}/delete", {}).status_code == 302
    assert client.get(f"/people/{pk}").status_code == 404
    with gateway.sessions() as db:
        assert db.scalar(select(IdTag.person_id).where(IdTag.id_tag == "T-2")) is None


def test_people_list_search_and_paging(client, gateway):
    with gateway.sessions.begin() as db:
        db.add_all([Person(first_name=f"P{i:03}", last_name=f"Family{i:03}",
                           email=f"p{i}@example.org") for i in range(120)])
    first = client.get("/people/").text
    assert "120 in all, showing 1–50" in first and "P000 Family000" in first
    assert "P119" not in first
    third = client.get("/people/?page=3").text
    assert "P119 Family119" in third and "showing 101–120" in third
    found = client.get("/people/?q=family11").text
    assert "10 in all" in found  # Family110 ... Family119


def test_tag_and_transaction_lists_show_and_filter_by_user(client, rows, gateway):
    station = rows.station("CB-F")
    connector = rows.connector(station)
    for name in ("J-1", "J-2", "M-1", "NOBODY"):
        rows.tag(name)
    with gateway.sessions.begin() as db:
        jane = people.create_person(db, values(), ["J-1", "J-2"]).id
        people.create_person(db, values(first_name="Max", last_name="Muster"), ["M-1"])
    for name in ("J-1", "J-2", "M-1", "NOBODY"):
        rows.transaction(connector, name, hours_ago(1))

    tags = client.get(f"/tags/?person_id={jane}").text
    assert ">J-1</a>" in tags and ">J-2</a>" in tags and ">M-1</a>" not in tags
    assert "Held by" in tags and ">Jane Doe</a>" in tags
    by_text = client.get("/tags/?person=muster").text
    assert ">M-1</a>" in by_text and ">J-1</a>" not in by_text
    assert f'href="/people/{jane}">Jane Doe</a>' in client.get("/tags/").text

    listing = client.get(f"/transactions/?person_id={jane}").text
    assert "2 in all" in listing and ">Jane Doe</a>" in listing and "Max Muster" not in listing
    assert "1 in all" in client.get("/transactions/?person=max").text
    everything = client.get("/transactions/").text
    assert "4 in all" in everything and everything.count(">Jane Doe</a>") == 2

    with gateway.sessions() as db:
        tag = db.scalars(select(IdTag).where(IdTag.id_tag == "J-1")).one()
        free = db.scalars(select(IdTag).where(IdTag.id_tag == "NOBODY")).one()
    assert f'href="/people/{jane}">Jane Doe</a>' in client.get(f"/tags/{tag.id}").text
    assert "add a user holding it" in client.get(f"/tags/{free.id}").text
