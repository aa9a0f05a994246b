"""Web UI: the message journal (search, pretty-printed escaped XML) and the settings page."""
from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from soap_messages import envelope, post
from soapgw.core.runtime_settings import RuntimeSettings
from soapgw.store.models import JournalEntry
from web_support import (XSS, admin, client, rows, submit, utc,  # noqa: F401
                         web_app)


def entries_on(html: str) -> list[int]:
    return [int(n) for n in re.findall(r'href="/journal/(\d+)">', html)]


@pytest.fixture
def journal(rows):
    made = {
        "hb": rows.journal(b"<a/>", charge_box_id="CB-A", action="Heartbeat",
                           created_at=utc(2026, 1, 1, 10)),
        "hb_reply": rows.journal(b"<b/>", charge_box_id="CB-A", direction="out",
                                 action="HeartbeatResponse", created_at=utc(2026, 1, 1, 10, 0, 1)),
        "boot": rows.journal(b"<c/>", charge_box_id="CB-B", action="BootNotification",
                             created_at=utc(2026, 2, 1, 10)),
    }
    return {name: entry.id for name, entry in made.items()}


@pytest.mark.parametrize("query,expected", [
    ("", ["boot", "hb_reply", "hb"]),
    ("?station=CB-A", ["hb_reply", "hb"]),
    ("?action=Heartbeat", ["hb_reply", "hb"]),
    ("?action=Heartbeat&direction=in", ["hb"]),
    ("?direction=out", ["hb_reply"]),
    ("?since=2026-01-15", ["boot"]),
    ("?until=2026-01-01T10:00", []),
])
def test_journal_search(client, journal, query, expected):
    response = client.get("/journal/" + query)
    assert response.status_code == 200
    assert entries_on(response.text) == [journal[e] for e in expected]


def test_bad_period_is_reported(client, journal):
    html = client.get("/journal/?since=soon").text
    assert 'id="since-errors"' in html and "Not a date and time" in html


def test_message_is_pretty_printed_escaped_with_headers_and_timing(client, live_url, rows,
                                                                  gateway):
    rows.station("CB-J")
    body = (f"<cs:dataTransferRequest><cs:vendorId>ACME</cs:vendorId>"
            f"<cs:data>{XSS.replace('<', '&lt;')}</cs:data></cs:dataTransferRequest>")
    post(live_url, envelope("CB-J", body, action="/DataTransfer", message_id="urn:uuid:m-1"))
    with gateway.sessions() as db:
        request, reply = db.scalars(select(JournalEntry).order_by(JournalEntry.id)).all()
    html = client.get(f"/journal/{request.id}").text
    assert XSS not in html
    assert "&amp;lt;script" in html  # the XML escape, escaped again for HTML
    assert "<h2>SOAP headers</h2>" in html
    pre = re.search(r'<h2>Envelope</h2>\s*<pre class="xml">(.*?)</pre>', html, re.S).group(1)
    assert "\n  &lt;s:Header&gt;" in pre or "\n  &lt;s:Header" in pre  # indented, escaped
    assert "urn:uuid:m-1" in html and "answered in" in html
    assert f'href="/journal/{reply.id}"' in html  # the reply, found by RelatesTo
    reply_html = client.get(f"/journal/{reply.id}").text
    assert "HTTP status" in reply_html and "200" in reply_html and " ms " in reply_html
    assert f'href="/journal/{request.id}"' in reply_html


def test_malformed_message_is_shown_as_received(client, rows):
    entry = rows.journal(b"<oops>" + XSS.encode() + b"&", charge_box_id="CB-X")
    html = client.get(f"/journal/{entry.id}").text
    assert "not well-formed XML" in html and XSS not in html
    assert "&lt;oops&gt;&lt;script&gt;" in html


def test_entities_in_a_message_are_not_expanded(client, rows):
    raw = (b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>'
           b"<x>&e;</x>")
    entry = rows.journal(raw)
    html = client.get(f"/journal/{entry.id}").text
    assert "root:" not in html


def test_unknown_entry_is_404(client):
    assert client.get("/journal/12345").status_code == 404


# --- settings ------------------------------------------------------------------------------------
VALID = {"heartbeat_interval": "60", "journal_retention_days": "30",
         "event_retention_days": "7", "connect_timeout": "30", "operation_timeout": "30"}


def test_settings_show_and_save(client, gateway):
    html = client.get("/settings").text
    assert 'name="heartbeat_interval" required type="number" value="300"' in html
    assert 'name="connect_timeout" required step="any" type="number" value="30"' in html
    response = submit(client, "/settings", {"heartbeat_interval": "120", "auto_register": "y",
                                            "journal_retention_days": "0",
                                            "event_retention_days": "2",
                                            "connect_timeout": "2.5", "operation_timeout": "3600"})
    assert response.status_code == 302
    with gateway.sessions() as db:
        saved = RuntimeSettings.load(db, gateway.settings)
    assert saved == RuntimeSettings(heartbeat_interval=120, auto_register=True,
                                    journal_retention_days=0, event_retention_days=2,
                                    connect_timeout=2.5, operation_timeout=3600)
    html = client.get("/settings").text
    assert "Settings saved." in html
    assert 'name="connect_timeout" required step="any" type="number" value="2.5"' in html
    assert 'name="operation_timeout" required step="any" type="number" value="3600"' in html


@pytest.mark.parametrize("data,field,message", [
    ({"heartbeat_interval": "0"}, "heartbeat_interval", "Use 1 to 604800 seconds."),
    ({"heartbeat_interval": "abc"}, "heartbeat_interval", None),
    ({"heartbeat_interval": ""}, "heartbeat_interval", "Enter a number of seconds."),
    ({"journal_retention_days": "-1"}, "journal_retention_days", None),
    ({"journal_retention_days": "99999"}, "journal_retention_days", None),
    ({"event_retention_days": "-1"}, "event_retention_days", "Use 0 (forever) to 3650 days."),
    ({"connect_timeout": "0"}, "connect_timeout",
     "Use more than 0 and at most 3600 seconds."),
    ({"connect_timeout": "-2.5"}, "connect_timeout",
     "Use more than 0 and at most 3600 seconds."),
    ({"connect_timeout": "soon"}, "connect_timeout",
     "Enter a number of seconds, e.g. 30 or 2.5."),
    ({"operation_timeout": "3600.5"}, "operation_timeout",
     "Use more than 0 and at most 3600 seconds."),
    ({"operation_timeout": "nan"}, "operation_timeout",
     "Use more than 0 and at most 3600 seconds."),
    ({"operation_timeout": ""}, "operation_timeout", "Enter a number of seconds."),
])
def test_settings_validation(client, gateway, data, field, message):
    response = submit(client, "/settings", {**VALID, **data})
    assert response.status_code == 400
    assert f'id="{field}-errors"' in response.text
    if message:  # the one error, right under its field
        assert f'<ul class="errors" id="{field}-errors"><li>{message}</li></ul>' in response.text
    with gateway.sessions() as db:
        assert RuntimeSettings.load(db, gateway.settings) == RuntimeSettings(
            heartbeat_interval=300, auto_register=False, journal_retention_days=30,
            event_retention_days=7, connect_timeout=30, operation_timeout=30)  # nothing saved: the environment's


def test_heartbeat_interval_from_settings_reaches_stations(client, live_url, rows):
    rows.station("CB-S")
    submit(client, "/settings", {**VALID, "heartbeat_interval": "77"})
    reply = post(live_url, envelope("CB-S", "<cs:bootNotificationRequest><cs:chargePointVendor>"
                                    "V</cs:chargePointVendor><cs:chargePointModel>M"
                                    "</cs:chargePointModel></cs:bootNotificationRequest>"))
    assert b">77<" in reply.content
