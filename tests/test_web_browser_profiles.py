"""Web UI in a real browser with the station simulator (issue 15): the operator stores a
charging profile (periods row by row, "Add rows" without JavaScript), sends it to the
simulated OCPP 1.6 station, sees it installed on the charge point page, asks for the
composite schedule; then sends a local list built from the tag table and sees the version the
station holds, read back with GetLocalListVersion. Screenshots under test-output/screenshots/.

Reuses the browser fixtures (and skips) of test_web_browser.py and the simulator fixture of
test_web_browser_simulator.py."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from test_web_browser import CHROMIUM, page, playwright_api, shot, site  # noqa: F401 (fixtures)
from test_web_browser_simulator import (PREFIX, WAIT_MS, sign_in,  # noqa: F401 (fixtures)
                                        simulation_starter)

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not CHROMIUM.exists(),
                       reason="/usr/bin/chromium is missing (make browser installs Debian's "
                              "chromium when run as root)"),
]


def _task_accepted(page, station: str) -> None:
    expect = playwright_api.expect
    results = page.locator("table.list tbody tr", has_text=station)
    expect(page.locator("h1 .badge")).to_have_text("finished", timeout=WAIT_MS)
    expect(results).to_contain_text("answered")
    expect(results.locator("pre.json").first).to_contain_text('"Accepted"')


def test_stored_profile_and_local_list_on_a_simulated_station(site, page, simulation_starter):
    expect = playwright_api.expect
    station = PREFIX + "0001"
    sign_in(page, site)
    page.click("text=Add charge points")
    page.fill("#ids", station)
    page.click("main button[type=submit]")
    expect(page.locator("h1")).to_contain_text(f"Charge point {station}")
    for tag in ("CARD-A", "CARD-B"):
        page.click("nav >> text=OCPP tags")
        page.click("text=Add a tag")
        page.fill("#id_tag", tag)
        page.click("main button[type=submit]")
    simulation = simulation_starter(site)
    assert simulation.wait_booted(timeout=20), list(simulation.station(station).history)

    # A stored profile: two periods typed row by row, one more row asked for without JavaScript.
    page.click("nav >> text=Charging profiles")
    expect(page.locator("h1")).to_have_text("Charging profiles")
    page.click("text=Add a profile")
    page.fill("#description", "Evening cap 16 A then 10 A")
    page.fill("#stack_level", "1")
    page.select_option("#purpose", "TxDefaultProfile")
    page.select_option("#kind", "Absolute")
    start = datetime.now(timezone.utc) - timedelta(minutes=5)
    page.fill("#start_schedule", start.strftime("%Y-%m-%dT%H:%M"))
    page.fill("#duration", "7200")
    page.fill("#periods-0-start_period", "0")
    page.fill("#periods-0-limit", "16")
    page.fill("#periods-1-start_period", "3600")
    page.fill("#periods-1-limit", "10")
    page.click("button[name=more]")
    expect(page.locator("table.periods-table tbody tr")).to_have_count(8)
    expect(page.locator("#periods-1-limit")).to_have_value("10")
    shot(page, "20-charging-profile-form")
    page.click("main button[type=submit]:not([name])")
    row = page.locator("table.list tbody tr", has_text="Evening cap")
    expect(row).to_contain_text("TxDefaultProfile")
    shot(page, "21-charging-profile-library")

    # Sent with SetChargingProfile to connector 1 of the simulated station.
    row.locator("text=Send…").click()
    page.select_option("#stations", station)
    page.fill("#connectors", "1")
    page.click("main button[type=submit]")
    expect(page.locator("h1")).to_contain_text("SetChargingProfile")
    _task_accepted(page, station)
    assert simulation.wait_for(lambda s: len(s.smart.profiles) == 1, timeout=10)

    # Shown as installed on the charge point page; the composite schedule asked from there.
    page.click("nav >> text=Charge points")
    page.click(f"text={station}")
    installed = page.locator("#charging-profiles table.list tbody tr")
    expect(installed).to_have_count(1)
    expect(installed).to_contain_text("TxDefaultProfile")
    expect(installed.locator("td").first).to_contain_text("1")
    page.locator("#charging-profiles").scroll_into_view_if_needed()
    shot(page, "22-charge-point-profiles-installed")
    page.fill("#composite-connector_id", "1")
    page.fill("#composite-duration", "3600")
    page.click("#charging-profiles button:text('GetCompositeSchedule')")
    expect(page.locator("h1")).to_contain_text("GetCompositeSchedule")
    _task_accepted(page, station)
    expect(page.locator("main")).to_contain_text("16")
    shot(page, "23-composite-schedule")

    # A local list of every tag, the next version offered; the station page shows it.
    page.go_back()
    page.reload()
    expect(page.locator("td.local-list-version")).to_contain_text("unknown")
    page.click("text=Send a local list…")
    expect(page.locator("#list_version")).to_have_value("1")
    page.check("input[name=scope][value=all]")
    shot(page, "24-local-list-form")
    page.click("main button[type=submit]")
    expect(page.locator("h1")).to_contain_text("SendLocalList")
    _task_accepted(page, station)
    assert simulation.wait_for(lambda s: s.auth.version == 1, timeout=10)
    assert sorted(simulation.station(station).auth.entries) == ["CARD-A", "CARD-B"]
    page.click("nav >> text=Charge points")
    page.click(f"text={station}")
    expect(page.locator("td.local-list-version")).to_have_text("1")
    page.click("#local-list button:text('GetLocalListVersion')")
    expect(page.locator("h1")).to_contain_text("GetLocalListVersion")
    expect(page.locator("h1 .badge")).to_have_text("finished", timeout=WAIT_MS)
    page.go_back()
    page.reload()
    expect(page.locator("td.local-list-version")).to_have_text("1")
    page.locator("#local-list").scroll_into_view_if_needed()
    shot(page, "25-charge-point-local-list-version")
