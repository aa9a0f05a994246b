"""Users, charge point locations and unknown tags in a real browser (Debian's Chromium driven
by Playwright), with screenshots in test-output/screenshots/: a person holding two tags, a
charge point with its location and map link, a tag a station presented unregistered."""
from __future__ import annotations

import pytest

from soap_messages import envelope, post
from test_web_browser import CHROMIUM, page, playwright_api, shot, site  # noqa: F401

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="/usr/bin/chromium is missing (make "
                                                     "browser installs Debian's chromium)"),
]

STATION = "CB-BERLIN"


def sign_in(page, site: str) -> None:
    page.goto(site + "/")
    page.fill("#username", "operator")
    page.fill("#password", "operator-pass")
    page.click("main button[type=submit]")
    playwright_api.expect(page.locator("h1")).to_have_text("Home")


def test_charge_point_with_location_and_a_user_with_two_tags(site, page):  # noqa: F811
    expect = playwright_api.expect
    sign_in(page, site)

    # A charge point registered with its location: the detail page links to the map.
    page.click("nav >> text=Charge points")
    page.click("text=Add charge points")
    page.fill("#ids", STATION)
    page.fill("#description", "Car park P2, level -1, bays 14-16")
    page.fill("#street", "Invalidenstraße")
    page.fill("#house_number", "117")
    page.fill("#postal_code", "10115")
    page.fill("#city", "Berlin")
    page.fill("#country", "Germany")
    page.fill("#latitude", "52.530644")
    page.fill("#longitude", "13.383068")
    page.fill("#time_zone", "Europe/Berlin")
    page.fill("#admin_address", "http://192.0.2.10/")
    shot(page, "30-add-charge-point-with-location")
    page.click("main form button[type=submit]")
    expect(page.locator("h1")).to_contain_text(f"Charge point {STATION}")
    details = page.locator("#details")
    expect(details).to_contain_text("Invalidenstraße 117, 10115 Berlin, Germany")
    expect(details.locator("a.map-link")).to_have_attribute(
        "href", "https://www.openstreetmap.org/?mlat=52.530644&mlon=13.383068"
                "#map=17/52.530644/13.383068")
    shot(page, "31-charge-point-location")
    # A bad time zone is refused next to its field, the stored one stays.
    details.locator("summary").click()
    page.fill("#time_zone", "Europe/Atlantis")
    details.locator("button[type=submit]").click()
    expect(page.locator("#time_zone-errors")).to_contain_text("is not a time zone name")
    page.click("nav >> text=Charge points")
    expect(page.locator("table.list")).to_contain_text("Berlin")
    page.fill("#place", "car park")
    page.click("main form.filters button[type=submit]")
    expect(page.locator("table.list tbody tr")).to_have_count(1)
    shot(page, "32-charge-points-with-city")

    # The station talks: one tag is registered, another is unknown and shows up as such.
    for tag in ("CARD-A1", "CARD-A2"):
        page.click("nav >> text=OCPP tags")
        page.click("text=Add a tag")
        page.fill("#id_tag", tag)
        page.click("main button[type=submit]")
    answer = post(site, envelope(STATION, "<cs:authorizeRequest><cs:idTag>STRANGER</cs:idTag>"
                                          "</cs:authorizeRequest>"))
    assert answer.status_code == 200 and b"Invalid" in answer.content
    page.click("nav >> text=OCPP tags")
    page.click("text=Unknown tags")
    row = page.locator("table.list tbody tr", has_text="STRANGER")
    expect(row).to_contain_text(STATION)
    shot(page, "33-unknown-tags")

    # A user holding both tags.
    page.click("nav >> text=Users")
    page.click("text=Add a user")
    page.fill("#first_name", "Jane")
    page.fill("#last_name", "Doe")
    page.fill("#email", "jane@example.org")
    page.fill("#phone", "+49 30 1234567")
    page.fill("#city", "Berlin")
    page.fill("#id_tags", "CARD-A1\nCARD-A2")
    page.click("main form button[type=submit]")
    expect(page.locator("h1")).to_have_text("Jane Doe")
    shot(page, "34-user")
    page.click("nav >> text=Users")
    row = page.locator("table.list tbody tr", has_text="Jane Doe")
    expect(row).to_contain_text("CARD-A1")
    expect(row).to_contain_text("CARD-A2")
    shot(page, "35-users")
    page.click("nav >> text=OCPP tags")
    expect(page.locator("table.list tbody tr", has_text="CARD-A2")).to_contain_text("Jane Doe")
    page.click("nav >> text=Home")
    expect(page.locator(".tile", has_text="users")).to_contain_text("1")
    expect(page.locator(".tile", has_text="unknown tags")).to_contain_text("1")
