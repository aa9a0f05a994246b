"""Web UI: OCPP tags — filters, add, bulk add, edit, delete, validation."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from soapgw.store.models import IdTag
from web_support import (XSS, admin, client, hours_ago, rows, submit, utc,  # noqa: F401
                         web_app)

DEFAULTS = {"max_active_transactions": "1"}


def tags_on(html: str, *names: str) -> list[str]:
    return [n for n in names if f">{n}</a>" in html]


@pytest.fixture
def tags(rows):
    station = rows.station("CB-1")
    connector = rows.connector(station)
    rows.tag("OK")
    rows.tag("BLOCKED", blocked=True)
    rows.tag("EXPIRED", expiry_date=hours_ago(1))
    rows.tag("BUSY", max_active_transactions=0)
    rows.transaction(connector, "BUSY", hours_ago(2))
    rows.transaction(connector, "BUSY", hours_ago(1))
    rows.transaction(connector, "OK", hours_ago(3), stop=hours_ago(2), meter_stop=2000)
    return ["OK", "BLOCKED", "EXPIRED", "BUSY"]


@pytest.mark.parametrize("query,expected", [
    ("", ["BLOCKED", "BUSY", "EXPIRED", "OK"]),
    ("?blocked=yes", ["BLOCKED"]),
    ("?blocked=no", ["BUSY", "EXPIRED", "OK"]),
    ("?expired=yes", ["EXPIRED"]),
    ("?expired=no", ["BLOCKED", "BUSY", "OK"]),
    ("?active=yes", ["BUSY"]),
    ("?active=no", ["BLOCKED", "EXPIRED", "OK"]),
    ("?q=us", ["BUSY"]),
])
def test_tag_filters(client, tags, query, expected):
    html = client.get("/tags/" + query).text
    assert tags_on(html, "BLOCKED", "BUSY", "EXPIRED", "OK") == expected


def test_list_shows_active_transactions_per_tag(client, tags):
    html = client.get("/tags/").text
    assert 'href="/transactions/?tag=BUSY&amp;state=active">2</a>' in html
    assert "no limit" in html and "expired</span>" in html and "blocked</span>" in html


def test_add_a_tag(client, rows, gateway):
    rows.tag("PARENT")
    response = submit(client, "/tags/add", {
        "id_tag": "CARD-1", "parent_id_tag": "PARENT", "expiry": "2030-01-31T12:30",
        "max_active_transactions": "2", "blocked": "y", "note": XSS})
    assert response.status_code == 302
    with gateway.sessions() as db:
        tag = db.scalars(select(IdTag).where(IdTag.id_tag == "CARD-1")).one()
    assert (tag.parent_id_tag, tag.expiry_date, tag.max_active_transactions, tag.blocked,
            tag.note) == ("PARENT", utc(2030, 1, 31, 12, 30), 2, True, XSS)
    assert XSS not in client.get("/tags/").text


@pytest.mark.parametrize("data,field,message", [
    ({"id_tag": ""}, "id_tag", "Enter the id tag."),
    ({"id_tag": "X" * 21}, "id_tag", "longer than 20 characters"),
    ({"id_tag": " LEAD"}, "id_tag", "starts or ends with spaces"),
    ({"id_tag": "OK"}, "id_tag", "exists already"),
    ({"id_tag": "NEW", "parent_id_tag": "NOPE"}, "parent_id_tag", "There is no id tag"),
    ({"id_tag": "NEW", "parent_id_tag": "NEW"}, "parent_id_tag", "its own parent"),
    ({"id_tag": "NEW", "expiry": "31/01/2030"}, "expiry", "Not a date and time"),
    ({"id_tag": "NEW", "expiry": "2030-02-30T10:00"}, "expiry", "Not a date and time"),
    ({"id_tag": "NEW", "max_active_transactions": "-1"}, "max_active_transactions", "Use 0"),
    ({"id_tag": "NEW", "max_active_transactions": "many"}, "max_active_transactions",
     "Not a valid integer value"),
])
def test_add_validation_errors(client, rows, gateway, data, field, message):
    rows.tag("OK")
    response = submit(client, "/tags/add", {**DEFAULTS, **data})
    assert response.status_code == 200
    assert f'id="{field}-errors"' in response.text
    assert message in response.text
    with gateway.sessions() as db:
        assert db.scalars(select(IdTag.id_tag)).all() == ["OK"]


def test_bulk_add(client, rows, gateway):
    rows.tag("KNOWN")
    response = submit(client, "/tags/bulk", {"ids": "B-1\nB-2\n\nKNOWN\nB-1",
                                             "max_active_transactions": "0",
                                             "expiry": "2031-01-01"})
    assert response.status_code == 302
    assert "Added 2 id tag(s). Already there: KNOWN." in client.get("/tags/").text
    with gateway.sessions() as db:
        added = db.scalars(select(IdTag).where(IdTag.id_tag.like("B-%"))
                           .order_by(IdTag.id_tag)).all()
    assert [(t.id_tag, t.max_active_transactions, t.expiry_date) for t in added] == [
        ("B-1", 0, utc(2031, 1, 1)), ("B-2", 0, utc(2031, 1, 1))]


def test_bulk_add_reports_bad_lines(client, gateway):
    response = submit(client, "/tags/bulk", {"ids": "GOOD\n" + "Y" * 30, **DEFAULTS})
    assert "Line 2: the id tag is longer than 20 characters" in response.text
    with gateway.sessions() as db:
        assert db.scalars(select(IdTag)).all() == []


def test_edit_a_tag(client, rows, gateway):
    rows.tag("PARENT")
    tag = rows.tag("CARD", expiry_date=utc(2030, 5, 1, 8, 0))
    page = client.get(f"/tags/{tag.id}").text
    assert 'value="2030-05-01T08:00"' in page
    response = submit(client, f"/tags/{tag.id}", {
        "parent_id_tag": "PARENT", "expiry": "", "max_active_transactions": "0",
        "note": "lost"})
    assert response.status_code == 302
    with gateway.sessions() as db:
        saved = db.get(IdTag, tag.id)
    assert (saved.parent_id_tag, saved.expiry_date, saved.max_active_transactions,
            saved.blocked, saved.note) == ("PARENT", None, 0, False, "lost")
    refused = submit(client, f"/tags/{tag.id}", {"parent_id_tag": "CARD", **DEFAULTS})
    assert refused.status_code == 400 and "its own parent" in refused.text


def test_delete_a_tag(client, tags, gateway):
    with gateway.sessions() as db:
        busy = db.scalars(select(IdTag).where(IdTag.id_tag == "BUSY")).one()
    assert "It is in 2 active transaction(s)." in client.get(f"/tags/{busy.id}/delete").text
    assert submit(client, f"/tags/{busy.id}/delete", {}).status_code == 302
    with gateway.sessions() as db:
        assert "BUSY" not in db.scalars(select(IdTag.id_tag)).all()
    assert client.get(f"/tags/{busy.id}").status_code == 404
