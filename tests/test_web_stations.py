"""Web UI: charge point list, add, detail, edits, delete, unknown stations, and the dashboard."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from soap_messages import envelope, post
from soapgw.store.models import (ChargeBox, EndpointChange, MeterValueRow, StationQuirk,
                                 Transaction, UnknownChargeBox)
from web_support import (XSS, admin, client, hours_ago, rows, submit, utc,  # noqa: F401
                         web_app)

BOOT = ("<cs:bootNotificationRequest><cs:chargePointVendor>ACME &amp; Co</cs:chargePointVendor>"
        "<cs:chargePointModel>Wallbox 7</cs:chargePointModel>"
        "<cs:firmwareVersion>1.2.3</cs:firmwareVersion></cs:bootNotificationRequest>")


def ids_on(html: str, *ids: str) -> list[str]:
    return [i for i in ids if f">{i}</a>" in html]


# --- list and filters ----------------------------------------------------------------------------
@pytest.fixture
def fleet(rows):
    a = rows.station("CB-A", registration_status="Accepted", ocpp_version="1.6",
                     last_heartbeat_at=hours_ago(0.01), last_message_at=hours_ago(0.01),
                     endpoint_address="http://192.0.2.1:8080/ocpp")
    b = rows.station("CB-B", registration_status="Pending", ocpp_version="1.5",
                     last_heartbeat_at=hours_ago(30), last_message_at=hours_ago(30))
    c = rows.station("CB-C", registration_status="Rejected")
    connector = rows.connector(a, 1)
    rows.status(connector, "Faulted", hours_ago(3))
    rows.status(connector, "Charging", hours_ago(1))  # the latest wins
    other = rows.connector(b, 1)
    rows.status(other, "Charging", hours_ago(5))
    rows.status(other, "Available", hours_ago(4))
    return a, b, c


@pytest.mark.parametrize("query,expected", [
    ("", ["CB-A", "CB-B", "CB-C"]),
    ("?status=Pending", ["CB-B"]),
    ("?version=1.5", ["CB-B"]),
    ("?version=none", ["CB-C"]),
    ("?online=yes", ["CB-A"]),
    ("?online=no", ["CB-B", "CB-C"]),
    ("?heartbeat=never", ["CB-C"]),
    ("?connector_status=Charging", ["CB-A"]),
    ("?connector_status=Faulted", []),
    ("?q=-b", ["CB-B"]),  # case-insensitive
    ("?q=%25", []),  # a LIKE wildcard typed by the user is a plain character
])
def test_station_filters(client, fleet, query, expected):
    response = client.get("/chargepoints/" + query)
    assert response.status_code == 200
    assert ids_on(response.text, "CB-A", "CB-B", "CB-C") == expected


def test_list_shows_version_status_heartbeat_online_and_address(client, fleet):
    html = client.get("/chargepoints/").text
    assert "http://192.0.2.1:8080/ocpp" in html
    assert html.count('class="badge online"') == 1 and html.count('class="badge offline"') == 2
    assert "1 d ago" in html and "never" in html


def test_list_is_paginated(client, rows):
    for i in range(60):
        rows.station(f"P-{i:03d}")
    first = client.get("/chargepoints/").text
    assert "60 in all" in first and "P-049" in first and "P-050" not in first
    second = client.get("/chargepoints/?page=2").text
    assert "P-050" in second and "P-049" not in second
    assert client.get("/chargepoints/?page=abc").status_code == 200


def test_unknown_filter_values_do_not_break_the_page(client, fleet):
    response = client.get("/chargepoints/?status=<b>&online=maybe&connector_status=<i>x")
    assert response.status_code == 200
    assert "<i>x" not in response.text and "Not a valid choice" in response.text


# --- add -----------------------------------------------------------------------------------------
def test_add_one_station_opens_its_page(client, gateway):
    response = submit(client, "/chargepoints/add", {"ids": "NEW-1", "status": "Pending"})
    assert response.status_code == 302 and "/chargepoints/" in response.headers["Location"]
    page = client.get(response.headers["Location"]).text
    assert "Charge point NEW-1" in page and "Added 1 charge point(s)." in page
    with gateway.sessions() as db:
        assert db.scalars(select(ChargeBox)).one().registration_status == "Pending"


def test_add_many_skips_blank_lines_duplicates_and_known_ids(client, rows, gateway):
    rows.station("OLD")
    rows.add(UnknownChargeBox(charge_box_id="M-2"))
    response = submit(client, "/chargepoints/add",
                      {"ids": "M-1\n\n  M-2 \nM-1\nOLD\n", "status": "Accepted"})
    assert response.status_code == 302
    page = client.get("/chargepoints/").text
    assert "Added 2 charge point(s). Already registered: OLD." in page
    with gateway.sessions() as db:
        assert sorted(db.scalars(select(ChargeBox.charge_box_id))) == ["M-1", "M-2", "OLD"]
        assert db.scalar(select(func.count()).select_from(UnknownChargeBox)) == 0


@pytest.mark.parametrize("ids,message", [
    ("", "Enter at least one charge point id"),
    ("X" * 256, "Line 1: the charge point id is longer than 255 characters"),
    ("OK\nbad\x01id", "Line 2: the charge point id contains control characters"),
])
def test_add_validation_errors_sit_next_to_the_field(client, ids, message, gateway):
    response = submit(client, "/chargepoints/add", {"ids": ids, "status": "Accepted"})
    assert response.status_code == 400  # as every other form the UI refuses
    assert 'class="errors" id="ids-errors"' in response.text
    assert message in response.text
    with gateway.sessions() as db:
        assert db.scalar(select(func.count()).select_from(ChargeBox)) == 0


def test_script_station_id_is_shown_escaped_everywhere(client, live_url, gateway):
    submit(client, "/chargepoints/add", {"ids": XSS, "status": "Accepted"})
    # The station talks: its id lands in the journal and on the dashboard too.
    identity = XSS.replace("<", "&lt;").replace(">", "&gt;")
    post(live_url, envelope(identity, BOOT))
    with gateway.sessions() as db:
        pk = db.scalar(select(ChargeBox.id))
    for path in ["/", "/chargepoints/", f"/chargepoints/{pk}", f"/chargepoints/{pk}/delete",
                 "/journal/", f"/journal/?station={XSS}", f"/transactions/?station={XSS}"]:
        html = client.get(path).text
        assert XSS not in html, path
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in client.get("/chargepoints/").text


# --- detail and edits ----------------------------------------------------------------------------
def test_detail_shows_boot_data_connectors_history_quirks_and_journal(client, live_url, rows,
                                                                      gateway):
    station = rows.station("CB-TALK")
    post(live_url, envelope("CB-TALK", BOOT, from_address="http://localhost:8080/cp"))
    post(live_url, envelope("CB-TALK", "<cs:statusNotificationRequest><cs:connectorId>1"
                            "</cs:connectorId><cs:status>Available</cs:status><cs:errorCode>"
                            "NoError</cs:errorCode><cs:timestamp>2026-01-01T10:00:00Z"
                            "</cs:timestamp></cs:statusNotificationRequest>"))
    html = client.get(f"/chargepoints/{station.id}").text
    assert "ACME &amp; Co" in html and "Wallbox 7" in html and "1.2.3" in html
    assert "Available" in html and "2026-01-01 10:00:00" in html
    assert "BootNotificationResponse" in html and "StatusNotification" in html
    with gateway.sessions() as db:
        quirks = db.scalars(select(StationQuirk.code)).all()
    for code in quirks:
        assert code in html
    assert 'class="badge online"' in html



def test_detail_shows_firmware_and_diagnostics_status(client, rows, live_url):
    station = rows.station("CB-FW")
    for body in ("<cs:firmwareStatusNotificationRequest><cs:status>Installed</cs:status>"
                 "</cs:firmwareStatusNotificationRequest>",
                 "<cs:diagnosticsStatusNotificationRequest><cs:status>UploadFailed</cs:status>"
                 "</cs:diagnosticsStatusNotificationRequest>"):
        assert post(live_url, envelope("CB-FW", body)).status_code == 200
    html = " ".join(client.get(f"/chargepoints/{station.id}").text.split())
    assert "<th>Firmware status</th><td>Installed <span" in html
    assert "<th>Diagnostics status</th><td>UploadFailed <span" in html

def test_registration_status_and_pinned_endpoint(client, rows, gateway):
    station = rows.station("CB-E", endpoint_address="http://192.0.2.9/old",
                           endpoint_source="wsa:From")
    page = f"/chargepoints/{station.id}"
    response = submit(client, page, {"registration_status": "Rejected",
                                     "endpoint_address": "https://192.0.2.10:8443/ocpp",
                                     "note": "moved <b>"})
    assert response.status_code == 302
    with gateway.sessions() as db:
        saved = db.get(ChargeBox, station.id)
        assert (saved.registration_status, saved.endpoint_address, saved.endpoint_pinned,
                saved.endpoint_source, saved.note) == (
            "Rejected", "https://192.0.2.10:8443/ocpp", True, "admin", "moved <b>")
        assert db.scalars(select(EndpointChange.source)).all() == ["admin"]
    html = client.get(page).text
    assert "Pinned: set by an admin" in html and "moved &lt;b&gt;" in html
    submit(client, page, {"registration_status": "Accepted",
                          "endpoint_address": "https://192.0.2.10:8443/ocpp", "unpin": "y"})
    with gateway.sessions() as db:
        assert db.get(ChargeBox, station.id).endpoint_pinned is False


def test_callback_verdict_is_shown_and_judged_again_when_an_admin_changes_the_address(
        client, rows, gateway, live_url):
    """A forged wsa:From (another host than the station's requests come from) is refused and
    shown; an admin-pinned address is allowed, a metadata address never."""
    station = rows.station("CB-V")
    post(live_url, envelope("CB-V", BOOT, from_address="http://192.0.2.50:8080/ocpp"))
    page = f"/chargepoints/{station.id}"

    def verdict() -> str:
        import html as html_module
        html = client.get(page).text
        shown = html.split('<p class="verdict ', 1)[1].split("</p>", 1)[0]
        return html_module.unescape(" ".join(shown.split()))

    shown = verdict()
    assert shown.startswith('refused">') and ">refused</span>" in shown
    assert "callback host 192.0.2.50 (192.0.2.50) is not the address the station's requests " \
           "come from (127.0.0.1)" in shown
    listing = client.get("/chargepoints/").text
    assert '<span class="badge s-rejected" title="callback host 192.0.2.50' in listing

    for address, expected in [("http://169.254.169.254/latest/meta-data/", "never called"),
                              ("http://192.0.2.60:8080/ocpp", "address set by an admin")]:
        response = submit(client, page, {"registration_status": "Accepted",
                                         "endpoint_address": address})
        assert response.status_code == 302
        assert expected in verdict()
    assert verdict().startswith('allowed">')
    with gateway.sessions() as db:
        row = db.get(ChargeBox, station.id)
        assert (row.endpoint_verdict, row.endpoint_pinned) == ("allowed", True)
    submit(client, page, {"registration_status": "Accepted",
                          "endpoint_address": "http://192.0.2.60:8080/ocpp", "unpin": "y"})
    assert "is not the address the station's requests come from (127.0.0.1)" in verdict()

@pytest.mark.parametrize("address", ["ftp://192.0.2.1/x", "http://", "not a url at all",
                                     "http://host:99999/"])
def test_bad_endpoint_address_is_refused_next_to_the_field(client, rows, address, gateway):
    station = rows.station("CB-E")
    response = submit(client, f"/chargepoints/{station.id}",
                      {"registration_status": "Accepted", "endpoint_address": address})
    assert response.status_code == 400
    assert 'id="endpoint_address-errors"' in response.text
    with gateway.sessions() as db:
        assert db.get(ChargeBox, station.id).endpoint_address is None


def test_delete_asks_then_removes_the_station_and_its_transactions(client, rows, gateway):
    station = rows.station("CB-DEL")
    connector = rows.connector(station)
    transaction = rows.transaction(connector, "T1", utc(2026, 1, 1))
    rows.meter(transaction, utc(2026, 1, 1, 0, 5), "1500")
    confirm = client.get(f"/chargepoints/{station.id}/delete").text
    assert "1 transaction(s)" in confirm
    response = submit(client, f"/chargepoints/{station.id}/delete", {})
    assert response.status_code == 302
    with gateway.sessions() as db:
        for model in (ChargeBox, Transaction, MeterValueRow):
            assert db.scalar(select(func.count()).select_from(model)) == 0
    assert client.get(f"/chargepoints/{station.id}").status_code == 404


def test_by_id_redirects_to_the_station(client, rows):
    station = rows.station("A B/C")
    response = client.get("/chargepoints/by-id?id=A B/C")
    assert response.headers["Location"] == f"/chargepoints/{station.id}"
    assert client.get("/chargepoints/by-id?id=nope").status_code == 404


# --- unknown stations ----------------------------------------------------------------------------
def test_unknown_station_can_be_accepted_or_dismissed(client, live_url, gateway):
    post(live_url, envelope("STRANGER", BOOT))  # answered Rejected, recorded as unknown
    post(live_url, envelope("OTHER", BOOT))
    html = client.get("/chargepoints/unknown").text
    assert "STRANGER" in html and "BootNotification" in html
    with gateway.sessions() as db:
        unknown = {u.charge_box_id: u.id for u in db.scalars(select(UnknownChargeBox))}
    submit(client, "/chargepoints/unknown", {},
           action=f"/chargepoints/unknown/{unknown['STRANGER']}/accept")
    submit(client, "/chargepoints/unknown", {},
           action=f"/chargepoints/unknown/{unknown['OTHER']}/dismiss")
    with gateway.sessions() as db:
        assert db.scalars(select(ChargeBox.charge_box_id)).all() == ["STRANGER"]
        assert db.scalar(select(func.count()).select_from(UnknownChargeBox)) == 0
    reply = post(live_url, envelope("STRANGER", BOOT))
    assert b"Accepted" in reply.content


# --- dashboard -----------------------------------------------------------------------------------
def test_dashboard_numbers_link_to_their_lists(client, fleet, rows, live_url):
    a, b, _ = fleet
    rows.tag("T1")
    rows.tag("T2")
    connector = rows.connector(a, 2)
    rows.transaction(connector, "T1", hours_ago(2))
    rows.transaction(connector, "T2", hours_ago(5), stop=hours_ago(4), meter_stop=2000)
    rows.reservation(connector, "T2", hours_ago(-1))
    rows.reservation(connector, "T2", hours_ago(1))  # expired
    rows.add(UnknownChargeBox(charge_box_id="U1"))
    post(live_url, envelope("CB-A", "<cs:heartbeatRequest/>"))
    html = client.get("/").text

    def tile(number, label, href):
        return (f'href="{href}"><strong>{number}</strong> {label}') in html

    assert tile(3, "charge points", "/chargepoints/")
    assert tile(1, "online", "/chargepoints/?online=yes")
    assert tile(2, "OCPP tags", "/tags/")
    assert tile(1, "active transactions", "/transactions/?state=active")
    assert tile(1, "active reservations", "/reservations/?state=active")
    assert tile(1, "unknown stations", "/chargepoints/unknown")
    assert 'href="/chargepoints/?status=Pending">1</a>' in html
    assert 'href="/chargepoints/?version=none">1</a>' in html
    assert 'href="/chargepoints/?heartbeat=today">1</a>' in html
    assert 'href="/chargepoints/?heartbeat=never">1</a>' in html
    assert 'href="/chargepoints/?connector_status=Charging">1</a>' in html
    assert 'href="/chargepoints/?connector_status=Available">1</a>' in html
    assert "Heartbeat</td>" in html  # the last message received
    # Each link shows exactly what the number counted.
    assert ids_on(client.get("/chargepoints/?heartbeat=today").text,
                  "CB-A", "CB-B", "CB-C") == ["CB-A"]
    active = client.get("/transactions/?state=active").text
    assert "1 in all" in active
