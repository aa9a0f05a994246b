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
    ({"id_tag": "OK"}, "id_tag", "already exists"),
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
    assert response.status_code == 400  # as every other form the UI refuses
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


SCRIPT_TAG = "<script>alert(1)"  # 16 characters: a station may send it as an idTag


def test_a_tag_id_with_markup_from_a_station_is_shown_escaped_everywhere(client, rows, gateway,
                                                                         live_url):
    """Added through the form (any CiString20 is a valid idTag), then used by a station."""
    import json as json_module

    from soap_messages import envelope, post
    from soapgw.store.models import Reservation, Task, TaskResult, Transaction

    added = submit(client, "/tags/add", {**DEFAULTS, "id_tag": SCRIPT_TAG, "note": SCRIPT_TAG})
    assert added.status_code == 302
    station = rows.station("CB-X", registration_status="Accepted")
    escaped = SCRIPT_TAG.replace("<", "&lt;")
    answer = post(live_url, envelope("CB-X", (
        "<cs:startTransactionRequest><cs:connectorId>1</cs:connectorId>"
        f"<cs:idTag>{escaped}</cs:idTag><cs:timestamp>2030-01-01T00:00:00Z</cs:timestamp>"
        "<cs:meterStart>0</cs:meterStart></cs:startTransactionRequest>")))
    assert answer.status_code == 200, answer.text
    with gateway.sessions() as db:
        tag = db.scalars(select(IdTag).where(IdTag.id_tag == SCRIPT_TAG)).one()
        transaction = db.scalars(select(Transaction)).one()
        connector_pk = transaction.connector_pk
    assert transaction.id_tag == SCRIPT_TAG
    rows.add(Reservation(charge_box_pk=station.id, reservation_id=1, connector_pk=connector_pk,
                         id_tag=SCRIPT_TAG, parent_id_tag=SCRIPT_TAG,
                         expiry_date=utc(2030, 1, 2), status="Accepted"))
    task = rows.add(Task(operation="RemoteStartTransaction", origin="web", payload=json_module
                         .dumps({"idTag": SCRIPT_TAG, "connectorId": 1})))
    rows.add(TaskResult(task_id=task.id, charge_box_id="CB-X", state="failed",
                        error_kind="endpoint_refused", error=f"not sent: {SCRIPT_TAG}"))
    pages = ["/", "/tags/", f"/tags/?q={SCRIPT_TAG}", f"/tags/{tag.id}", f"/tags/{tag.id}/delete",
             "/transactions/", f"/transactions/?tag={SCRIPT_TAG}",
             f"/transactions/{transaction.id}", f"/transactions/{transaction.id}/chart.svg",
             "/reservations/", f"/reservations/?tag={SCRIPT_TAG}", f"/chargepoints/{station.id}",
             "/journal/", f"/operations/tasks/{task.id}",
             f"/operations/RemoteStartTransaction/1.6?station={SCRIPT_TAG}"]
    for page in pages:
        response = client.get(page)
        assert response.status_code == 200, page
        # our own scripts (static/operations.js) load from /static; no other script tag
        text = response.text.replace('<script src="/static/operations.js" defer></script>', "")
        assert "<script" not in text, page
    for page in ["/tags/", "/transactions/", "/reservations/", f"/transactions/{transaction.id}",
                 f"/operations/tasks/{task.id}"]:
        assert "&lt;script&gt;alert(1)" in client.get(page).text, page
