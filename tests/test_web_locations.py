"""Charge point details (core.locations): description, postal address, coordinates, time zone,
admin address; in the add form, on the detail page with a map link, in the list."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from soapgw.core import stations
from soapgw.core.errors import Invalid
from soapgw.core.locations import StationDetails, map_link
from soapgw.store.models import ChargeBox
from web_support import XSS, admin, client, rows, submit, web_app  # noqa: F401

BERLIN = {"description": "Car park P2, level -1", "street": "Invalidenstraße",
          "house_number": "117", "postal_code": "10115", "city": "Berlin",
          "country": "Germany", "latitude": "52.530644", "longitude": "13.383068",
          "time_zone": "Europe/Berlin", "admin_address": "http://192.0.2.10/config"}


@pytest.mark.parametrize("changes,field,reason", [
    ({"latitude": 90.5, "longitude": 0}, "latitude", "-90 to 90"),
    ({"latitude": 0, "longitude": -180.01}, "longitude", "-180 to 180"),
    ({"latitude": 10.0}, "longitude", "together"),
    ({"longitude": 10.0}, "latitude", "together"),
    ({"time_zone": "Europe/Atlantis"}, "time_zone", "not a time zone"),
    ({"time_zone": "../etc/passwd"}, "time_zone", "not a time zone"),
    ({"admin_address": "javascript:alert(1)"}, "admin_address", "http:// or https://"),
    ({"admin_address": "http://host:99999/"}, "admin_address", "not a URL"),
    ({"city": "x" * 101}, "city", "at most 100"),
])
def test_details_rules(changes, field, reason):
    with pytest.raises(Invalid) as refused:
        StationDetails(**changes).columns()
    assert reason in refused.value.problems[field]


def test_details_are_trimmed_and_the_map_link_is_plain():
    columns = StationDetails(city=" Berlin ", street="", latitude=-33.8688,
                             longitude=151.2093, time_zone="Australia/Sydney").columns()
    assert (columns["city"], columns["street"], columns["time_zone"]) == (
        "Berlin", None, "Australia/Sydney")
    assert map_link(-33.8688, 151.2093) == (
        "https://www.openstreetmap.org/?mlat=-33.868800&mlon=151.209300"
        "#map=17/-33.868800/151.209300")
    assert map_link(None, 1.0) is None


def test_register_with_details_and_update_them(gateway):
    with gateway.sessions.begin() as db:
        stations.register(db, ["CB-L1", "CB-L2"], details=StationDetails(
            city="Berlin", latitude=52.5, longitude=13.4), note="two at once")
    with gateway.sessions.begin() as db:
        rows = db.scalars(select(ChargeBox).order_by(ChargeBox.charge_box_id)).all()
        assert [(r.city, r.latitude, r.note) for r in rows] == [
            ("Berlin", 52.5, "two at once")] * 2
        stations.update_details(db, rows[0].id, StationDetails(description="moved"))
    with gateway.sessions() as db:
        first = db.scalars(select(ChargeBox).where(ChargeBox.charge_box_id == "CB-L1")).one()
        assert (first.description, first.city, first.latitude, first.note) == (
            "moved", None, None, "two at once")


def test_add_a_charge_point_with_its_location(client, gateway):
    response = submit(client, "/chargepoints/add", {"ids": "CB-BER", "status": "Accepted",
                                                    "note": "ours", **BERLIN})
    assert response.status_code == 302
    with gateway.sessions() as db:
        saved = db.scalars(select(ChargeBox)).one()
    assert (saved.city, saved.latitude, saved.longitude, saved.time_zone, saved.note) == (
        "Berlin", 52.530644, 13.383068, "Europe/Berlin", "ours")
    html = client.get(response.headers["Location"]).text
    assert ('href="https://www.openstreetmap.org/?mlat=52.530644&amp;mlon=13.383068'
            '#map=17/52.530644/13.383068"') in html
    assert "52.530644, 13.383068" in html
    assert "Invalidenstraße 117, 10115 Berlin, Germany" in html
    assert 'href="http://192.0.2.10/config"' in html
    assert "Car park P2, level -1" in html


@pytest.mark.parametrize("data,field,message", [
    ({"latitude": "91"}, "latitude", "Use -90 to 90"),
    ({"latitude": "north"}, "latitude", "Not a valid float value."),
    ({"longitude": ""}, "longitude", "Give the latitude and the longitude together."),
    ({"time_zone": "Mars/Olympus"}, "time_zone", "is not a time zone name"),
    ({"admin_address": "ftp://192.0.2.10/"}, "admin_address", "http:// or https://"),
])
def test_add_form_refuses_bad_details(client, gateway, data, field, message):
    response = submit(client, "/chargepoints/add", {"ids": "CB-X", "status": "Accepted",
                                                    **BERLIN, **data})
    assert response.status_code == 400
    assert f'id="{field}-errors"' in response.text and message in response.text
    with gateway.sessions() as db:
        assert db.scalars(select(ChargeBox)).all() == []


def test_edit_details_on_the_detail_page(client, rows, gateway):
    station = rows.station("CB-D", note="keep me")
    page = f"/chargepoints/{station.id}"
    assert "Open in OpenStreetMap" not in client.get(page).text
    response = submit(client, page, {**BERLIN, "description": XSS},
                      action=f"{page}/details")
    assert response.status_code == 302
    html = client.get(page).text
    assert "Open in OpenStreetMap" in html and XSS not in html
    with gateway.sessions() as db:
        saved = db.get(ChargeBox, station.id)
        assert (saved.description, saved.time_zone, saved.note) == (XSS, "Europe/Berlin",
                                                                     "keep me")
    refused = submit(client, page, {**BERLIN, "time_zone": "Nowhere/City"},
                     action=f"{page}/details")
    assert refused.status_code == 400 and "is not a time zone name" in refused.text
    assert "<details open>" in refused.text
    with gateway.sessions() as db:
        assert db.get(ChargeBox, station.id).time_zone == "Europe/Berlin"


def test_list_shows_description_and_city_and_filters_by_them(client, rows):
    rows.station("CB-1", description="Garage north", city="Berlin")
    rows.station("CB-2", description="Shop front", city="Hamburg")
    rows.station("CB-3")
    html = client.get("/chargepoints/").text
    assert "<td>Berlin</td>" in html and "Garage north" in html and "<td>Hamburg</td>" in html

    def listed(query):
        text = client.get("/chargepoints/" + query).text
        return [s for s in ("CB-1", "CB-2", "CB-3") if f">{s}</a>" in text]
    assert listed("?place=hamb") == ["CB-2"]
    assert listed("?place=garage") == ["CB-1"]
    assert listed("?place=%25") == []
