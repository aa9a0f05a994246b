"""Web UI in a real browser with the station simulator talking to the gateway (issue 5): the
operator registers a station, the simulator boots it against the running gateway, the
station shows online at its learnt address, the operator reserves it with ReserveNow
(OCPP 1.6) and watches the self-refreshing task page reach the station's "Accepted", sees the
reservation listed, starts a transaction remotely and opens its chart.

Reuses the browser fixtures (and skips) of test_web_browser.py."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from test_web_browser import CHROMIUM, page, playwright_api, shot, site  # noqa: F401 (fixtures)

simulator = pytest.importorskip("soapgw.simulator", reason="the station simulator is absent")

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not CHROMIUM.exists(),
                       reason="/usr/bin/chromium is missing (make browser installs Debian's "
                              "chromium when run as root)"),
]

PREFIX, TAG, RESERVATION_ID = "CB-SIM-", "CARD-SIM", 4711
QUICK = dict(react_delay=0.02, step_delay=0.1, reboot_delay=0.1, retry_delay=0.5,
             session_interval=0, meter_interval=1, heartbeat=30, boot_spread=0,
             prefix=PREFIX)
WAIT_MS = 30_000  # every wait for the station or the gateway is bounded by this


@pytest.fixture
def simulation_starter():
    """start(central_url) runs one simulated OCPP 1.6 station; it is stopped afterwards."""
    started = []

    def start(central_url: str):
        simulation = simulator.start_simulation(central_url, 1, "1.6", **QUICK)
        started.append(simulation)
        return simulation

    yield start
    for simulation in started:
        simulation.stop(timeout=5)


def sign_in(page, site: str) -> None:
    page.goto(site + "/chargepoints/")
    page.fill("#username", "operator")
    page.fill("#password", "operator-pass")
    page.click("main button[type=submit]")
    playwright_api.expect(page.locator("h1")).to_have_text("Charge points")


def open_operation(page, operation: str, station: str) -> None:
    page.click("nav >> text=Operations")
    playwright_api.expect(page.locator("h1")).to_have_text("Operations")
    page.click(f'a[href="/operations/{operation}/1.6"]')
    playwright_api.expect(page.locator("h1")).to_contain_text(operation)
    page.select_option("#stations", station)


def test_operator_reserves_and_charges_a_simulated_station(site, page, simulation_starter):
    expect = playwright_api.expect
    station = PREFIX + "0001"
    sign_in(page, site)

    # Register the station id; it has never talked: offline, no address.
    page.click("text=Add charge points")
    page.fill("#ids", station)
    page.click("main button[type=submit]")
    expect(page.locator("h1")).to_contain_text(f"Charge point {station}")
    expect(page.locator("h1 .badge")).to_have_text("offline")

    # The tag the reservation and the transaction use.
    page.click("nav >> text=OCPP tags")
    page.click("text=Add a tag")
    page.fill("#id_tag", TAG)
    page.click("main button[type=submit]")
    expect(page.locator("table.list")).to_contain_text(TAG)

    # The simulator boots the station against the running gateway.
    simulation = simulation_starter(site)
    assert simulation.ids == [station]
    assert simulation.wait_booted(timeout=20), list(simulation.station(station).history)
    address = simulation.url(station)

    # Online in the list, at the address it announced (wsa:From); the page is reloaded until
    # the first StatusNotification has landed too (bounded).
    page.click("nav >> text=Charge points")
    row = page.locator("table.list tbody tr", has_text=station)
    deadline = datetime.now() + timedelta(milliseconds=WAIT_MS)
    while not row.locator(".badge.online").count() and datetime.now() < deadline:
        page.wait_for_timeout(250)
        page.reload()
    expect(row.locator(".badge.online")).to_have_count(1)
    expect(row.locator("td.address")).to_contain_text(address)
    shot(page, "12a-simulated-charge-point-online")

    # ReserveNow from the Operations page; the task page refreshes itself until the answer.
    open_operation(page, "ReserveNow", station)
    expiry = datetime.now(timezone.utc) + timedelta(hours=2)
    page.fill("#p_connectorId", "1")
    page.fill("#p_expiryDate", expiry.strftime("%Y-%m-%dT%H:%M"))
    page.fill("#p_idTag", TAG)
    page.fill("#p_reservationId", str(RESERVATION_ID))
    page.click("main button[type=submit]")
    expect(page.locator("h1")).to_contain_text("ReserveNow")
    results = page.locator("table.list tbody tr", has_text=station)
    expect(results.locator("pre.json")).to_contain_text('"Accepted"', timeout=WAIT_MS)
    expect(page.locator("h1 .badge")).to_have_text("finished", timeout=WAIT_MS)
    expect(results).to_contain_text("answered")
    expect(results.locator("td.address")).to_have_text(address)
    shot(page, "12-task-page")
    assert simulation.wait_for(lambda s: s.connectors[1].reservation is not None, timeout=10)

    # The reservation is listed, Accepted.
    page.click("nav >> text=Reservations")
    reservation = page.locator("table.list tbody tr", has_text=station)
    expect(reservation).to_have_count(1)
    expect(reservation).to_contain_text(TAG)
    expect(reservation).to_contain_text("Accepted")
    expect(reservation.locator("td").first).to_have_text(str(RESERVATION_ID))
    shot(page, "13-reservations")

    # GetConfiguration: the station's keys come back as a table (and are kept for the
    # charge point page).
    open_operation(page, "GetConfiguration", station)
    page.fill("#p_key", "HeartbeatInterval\nMeterValueSampleInterval\nNoSuchKey")
    page.click("main button[type=submit]")
    rich = page.locator("table.list tbody tr", has_text=station).locator(".rich")
    expect(rich.locator("table.list tbody tr")).to_have_count(2, timeout=WAIT_MS)
    expect(rich.locator("table.list tbody tr").first).to_contain_text("HeartbeatInterval")
    expect(rich).to_contain_text("Unknown keys: NoSuchKey")
    shot(page, "12b-task-page-configuration-keys")

    # RemoteStartTransaction for the reserving tag: the station starts charging.
    open_operation(page, "RemoteStartTransaction", station)
    page.fill("#p_idTag", TAG)
    page.fill("#p_connectorId", "1")
    page.click("main button[type=submit]")
    results = page.locator("table.list tbody tr", has_text=station)
    expect(results.locator("pre.json")).to_contain_text('"Accepted"', timeout=WAIT_MS)
    transaction_link = results.locator('a[href^="/transactions/"]')
    expect(transaction_link).to_have_count(1, timeout=WAIT_MS)
    transaction_id = int(transaction_link.get_attribute("href").rsplit("/", 1)[1])
    assert simulation.wait_for(lambda s: s.transaction_ids() == [transaction_id], timeout=10)

    # A few MeterValues (one a second), then the chart of the running transaction.
    assert simulation.wait_for(lambda s: s.connectors[1].meter_wh > 0, timeout=10)
    transaction_link.click()
    chart = page.locator("figure.chart svg")
    deadline = datetime.now() + timedelta(milliseconds=WAIT_MS)
    while chart.locator("polyline.energy").count() == 0 and datetime.now() < deadline:
        page.wait_for_timeout(500)
        page.reload()
    expect(chart).to_be_visible()
    expect(chart.locator("polyline.energy")).to_have_count(1)
    expect(chart.locator("polyline.power")).to_have_count(1)
    expect(page.locator("main")).to_contain_text(TAG)
    shot(page, "14-simulated-transaction-chart")

    # Stopping the simulator ends the session: the transaction gets its stop.
    simulation.stop(timeout=10)
    assert [t.transaction_id for t in simulation.station(station).completed] == [transaction_id]
    page.reload()
    page.click("nav >> text=Transactions")
    expect(page.locator("table.list tbody tr", has_text=station)).to_have_count(1)
