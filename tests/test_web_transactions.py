"""Web UI: transactions (filters, CSV, detail, SVG chart, manual stop) and reservations."""
from __future__ import annotations

import csv
import io
import re

import pytest
from lxml import etree
from sqlalchemy import select

from soapgw.store.models import Transaction
from web_support import (XSS, admin, client, hours_ago, rows, submit, utc,  # noqa: F401
                         web_app)

SVG = "{http://www.w3.org/2000/svg}"


@pytest.fixture
def data(rows):
    a, b = rows.station("CB-A"), rows.station("CB-B")
    ca, cb = rows.connector(a, 1), rows.connector(b, 2)
    rows.tag("T1")
    old = rows.transaction(ca, "T1", utc(2026, 1, 10, 8), 1000, utc(2026, 1, 10, 9), 8500,
                           stop_reason="Local", stopped_by="station")
    new = rows.transaction(cb, "=HYPERLINK(1)", utc(2026, 3, 1, 12), 0)
    return old, new


def ids_on(html: str) -> list[int]:
    return [int(n) for n in re.findall(r'href="/transactions/(\d+)">', html)]


@pytest.mark.parametrize("query,expected", [
    ("", ["new", "old"]),
    ("?station=CB-A", ["old"]),
    ("?tag=T1", ["old"]),
    ("?state=active", ["new"]),
    ("?state=finished", ["old"]),
    ("?start_from=2026-02-01", ["new"]),
    ("?start_to=2026-02-01T00:00", ["old"]),
    ("?station=CB-A&state=active", []),
])
def test_transaction_filters(client, data, query, expected):
    old, new = data
    response = client.get("/transactions/" + query)
    assert response.status_code == 200
    assert ids_on(response.text) == [{"old": old.id, "new": new.id}[e] for e in expected]


def test_bad_period_is_reported_next_to_the_field(client, data):
    html = client.get("/transactions/?start_from=yesterday&start_to=2026-13-01").text
    assert 'id="start_from-errors"' in html and 'id="start_to-errors"' in html
    reversed_ = client.get("/transactions/?start_from=2026-05-01&start_to=2026-04-01").text
    assert "The end comes before the start." in reversed_


def test_list_shows_energy_and_state(client, data):
    html = client.get("/transactions/").text
    assert "7.500 kWh" in html and "active</span>" in html and "Local" in html


def test_csv_export_follows_the_filters_and_defuses_formulas(client, data):
    old, new = data
    response = client.get("/transactions/export.csv")
    assert response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    table = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    assert [int(r["transaction_id"]) for r in table] == [new.id, old.id]
    assert table[1] | {} == {
        "transaction_id": str(old.id), "charge_box_id": "CB-A", "connector_id": "1",
        "id_tag": "T1", "start_timestamp": "2026-01-10T08:00:00+00:00", "meter_start_wh": "1000",
        "stop_timestamp": "2026-01-10T09:00:00+00:00", "meter_stop_wh": "8500",
        "energy_wh": "7500", "stop_reason": "Local", "stopped_by": "station"}
    assert table[0]["id_tag"] == "'=HYPERLINK(1)"
    filtered = client.get("/transactions/export.csv?state=finished").get_data(as_text=True)
    assert len(filtered.strip().splitlines()) == 2


@pytest.fixture
def metered(rows):
    station = rows.station(XSS)
    connector = rows.connector(station)
    t = rows.transaction(connector, "T1", utc(2026, 2, 1, 10), 10_000)
    for minute, register, watts in [(10, 12_000, 7400), (20, 14_500, 11000), (30, 15_000, 3000)]:
        at = utc(2026, 2, 1, 10, minute)
        rows.meter(t, at, str(register))  # no measurand: Energy.Active.Import.Register, Wh
        rows.meter(t, at, str(watts / 1000), "Power.Active.Import", "kW")
        rows.meter(t, at, "not a number", "Power.Active.Import", "W", phase="L1")
    rows.meter(t, utc(2026, 2, 1, 10, 30), "80", "SoC", "Percent", location="EV")
    return t


def test_detail_shows_meter_values_and_an_svg_chart(client, metered):
    html = client.get(f"/transactions/{metered.id}").text
    assert "Meter values (10)" in html and "not a number" in html
    svg = etree.fromstring(re.search(r"<svg.*?</svg>", html, re.S).group(0))
    energy = svg.find(f".//{SVG}polyline[@class='energy']").get("points").split()
    power = svg.find(f".//{SVG}polyline[@class='power']").get("points").split()
    assert len(energy) == 4 and len(power) == 3  # the start plus three registers; three powers
    # Energy starts at zero (meterStart) on the left and rises; power peaks in the middle.
    ys = [float(p.split(",")[1]) for p in energy]
    assert ys == sorted(ys, reverse=True)
    assert float(energy[0].split(",")[0]) < float(energy[-1].split(",")[0])
    texts = [t.text for t in svg.iter(f"{SVG}text")]
    assert "Energy delivered (kWh)" in texts and "Power (kW)" in texts
    assert "10:10" in texts and "time (UTC)" in texts
    title = svg.find(f"{SVG}title").text
    assert title.startswith("Transaction") and XSS in title  # parsed back from escaped text
    assert XSS not in html


def test_chart_as_svg_file(client, metered):
    response = client.get(f"/transactions/{metered.id}/chart.svg")
    assert response.mimetype == "image/svg+xml"
    svg = etree.fromstring(response.data)
    assert svg.tag == f"{SVG}svg" and svg.find(f".//{SVG}polyline") is not None



@pytest.mark.parametrize("offsets,labels", [
    ((0.5, 1.2, 2.7), ["10:00:01", "10:00:02"]),  # a few seconds: ticks every second
    ((0.2, 0.5, 0.9), ["10:00:00", "10:00:00"]),  # under a second: both ends labelled
])
def test_a_short_transaction_still_has_a_time_axis(client, rows, offsets, labels):
    from datetime import timedelta
    connector = rows.connector(rows.station("CB-SHORT"))
    start = utc(2026, 2, 1, 10)
    t = rows.transaction(connector, "T1", start + timedelta(seconds=offsets[0]), 0)
    for n, offset in enumerate(offsets[1:], 1):
        rows.meter(t, start + timedelta(seconds=offset), str(n * 3))
    svg = etree.fromstring(client.get(f"/transactions/{t.id}/chart.svg").data)
    axis = [e.text for e in svg.iter(f"{SVG}text") if e.get("text-anchor") == "middle"
            and e.get("transform") is None and e.text != "time (UTC)"]
    assert axis == labels

def test_transaction_without_meter_values_draws_start_and_stop(client, data):
    old, _ = data
    svg = etree.fromstring(client.get(f"/transactions/{old.id}/chart.svg").data)
    points = svg.find(f".//{SVG}polyline[@class='energy']").get("points").split()
    assert len(points) == 2
    assert svg.find(f".//{SVG}polyline[@class='power']") is None


def test_manual_stop(client, metered, gateway):
    page = f"/transactions/{metered.id}"
    form = client.get(page).text
    assert 'name="meter_stop" required type="number" value="15000"' in form  # latest register
    response = submit(client, page, {"stop_timestamp": "2026-02-01T11:00",
                                     "meter_stop": "15200", "reason": "Other"},
                      action=f"{page}/stop")
    assert response.status_code == 302
    with gateway.sessions() as db:
        t = db.get(Transaction, metered.id)
    assert (t.stop_timestamp, t.meter_stop, t.stopped_by, t.stop_reason) == (
        utc(2026, 2, 1, 11), 15200, "operator", "Other")
    html = client.get(page).text
    assert "Stop manually" not in html and "(by operator)" in html


@pytest.mark.parametrize("data,field,message", [
    ({"stop_timestamp": "2026-02-01T09:00", "meter_stop": "20000"}, "stop_timestamp",
     "The stop comes before the start"),
    ({"stop_timestamp": "2026-02-01T11:00", "meter_stop": "5"}, "meter_stop",
     "Below the meter at start (10000 Wh)."),
    ({"stop_timestamp": "", "meter_stop": "20000"}, "stop_timestamp", "Enter the stop time."),
    ({"stop_timestamp": "2026-02-01T11:00", "meter_stop": "x"}, "meter_stop", "Not a valid"),
])
def test_manual_stop_validation(client, metered, gateway, data, field, message):
    page = f"/transactions/{metered.id}"
    response = submit(client, page, {"reason": "Other", **data}, action=f"{page}/stop")
    assert response.status_code == 400
    assert f'id="{field}-errors"' in response.text and message in response.text
    with gateway.sessions() as db:
        assert db.get(Transaction, metered.id).stop_timestamp is None


def test_unknown_transaction_is_404(client):
    assert client.get("/transactions/999").status_code == 404
    assert client.get("/transactions/999/chart.svg").status_code == 404


# --- reservations --------------------------------------------------------------------------------
@pytest.mark.parametrize("query,expected", [
    ("", ["used", "expired", "active"]),
    ("?station=CB-B", ["used"]),
    ("?tag=T2", ["expired"]),
    ("?tag=PARENT", ["active"]),  # a reservation for a parent tag
    ("?status=Used", ["used"]),
    ("?state=active", ["active"]),
    ("?expiry_from=2020-01-01&expiry_to=2026-01-01", ["used"]),
])
def test_reservation_filters(client, rows, query, expected):
    a, b = rows.station("CB-A"), rows.station("CB-B")
    ca, cb = rows.connector(a), rows.connector(b)
    made = {"active": rows.reservation(ca, "T1", hours_ago(-2)),
            "expired": rows.reservation(ca, "T2", hours_ago(2)),
            "used": rows.reservation(cb, "T3", utc(2025, 6, 1), status="Used")}
    from soapgw.store.models import Reservation
    with rows.sessions.begin() as db:
        db.get(Reservation, made["active"].id).parent_id_tag = "PARENT"
    html = client.get("/reservations/" + query).text
    shown = [int(n) for n in re.findall(r"<tr>\s*<td>(\d+)</td>", html)]
    assert shown == [made[e].id for e in expected]
