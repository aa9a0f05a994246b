"""Web UI in a real browser (Debian's Chromium driven by Playwright): sign in, register a
station, make it talk, see it online, run a transaction, open its chart, read the journal.
Screenshots of each main page go to test-output/screenshots/ (gitignored)."""
from __future__ import annotations

from pathlib import Path

import pytest

from conftest import ROOT, make_settings, serve_wsgi
from soap_messages import envelope, post
from soapgw.app import Gateway, create_app
from soapgw.store.migrate import upgrade
from soapgw.store.models import AdminUser
from soapgw.web.security import hash_password

CHROMIUM = Path("/usr/bin/chromium")
SCREENSHOTS = ROOT / "test-output" / "screenshots"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                 "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]

playwright_api = pytest.importorskip(
    "playwright.sync_api", reason="playwright is not installed (pip install -e '.[test]')")
pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not CHROMIUM.exists(),
                       reason="/usr/bin/chromium is missing (make browser installs Debian's "
                              "chromium when run as root)"),
]

STATION, TAG = "CB-BROWSER", "CARD-42"


def soap(base: str, body: str) -> bytes:
    response = post(base, envelope(STATION, body, from_address="http://192.0.2.50:8080/ocpp"))
    assert response.status_code == 200, response.text
    return response.content


@pytest.fixture
def site(sqlite_url, tmp_path):
    """The whole gateway (SOAP and web) on 127.0.0.1, over a fresh SQLite database."""
    gateway = Gateway.from_settings(make_settings(sqlite_url, tmp_path))
    upgrade(gateway.engine)
    with gateway.sessions.begin() as db:
        db.add(AdminUser(username="operator", password_hash=hash_password("operator-pass")))
    url, server = serve_wsgi(create_app(gateway=gateway))
    yield url
    server.shutdown()
    server.server_close()
    gateway.engine.dispose()


@pytest.fixture
def page():
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    with playwright_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        page.set_default_timeout(15_000)
        yield page
        browser.close()


def shot(page, name: str) -> None:
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


def test_operator_session_in_a_browser(site, page):
    expect = playwright_api.expect
    # Every page asks for a sign-in first.
    page.goto(site + "/chargepoints/")
    expect(page.locator("h1")).to_have_text("Sign in")
    shot(page, "01-sign-in")
    page.fill("#username", "operator")
    page.fill("#password", "wrong")
    page.click("main button[type=submit]")
    expect(page.locator(".flash.error")).to_contain_text("wrong password")
    page.fill("#username", "operator")
    page.fill("#password", "operator-pass")
    page.click("main button[type=submit]")
    expect(page.locator("h1")).to_have_text("Charge points")  # back where we wanted to go

    # Register the station through the form; it has never talked: offline.
    page.click("text=Add charge points")
    page.fill("#ids", STATION)
    page.click("main button[type=submit]")
    expect(page.locator("h1")).to_contain_text(f"Charge point {STATION}")
    expect(page.locator("h1 .badge")).to_have_text("offline")

    # It boots, heartbeats and reports a connector: online, with its boot data.
    soap(site, "<cs:bootNotificationRequest><cs:chargePointVendor>Acme</cs:chargePointVendor>"
               "<cs:chargePointModel>Browser 1</cs:chargePointModel>"
               "<cs:firmwareVersion>4.2</cs:firmwareVersion></cs:bootNotificationRequest>")
    soap(site, "<cs:heartbeatRequest/>")
    soap(site, "<cs:statusNotificationRequest><cs:connectorId>1</cs:connectorId>"
               "<cs:status>Available</cs:status><cs:errorCode>NoError</cs:errorCode>"
               "</cs:statusNotificationRequest>")
    page.reload()
    expect(page.locator("h1 .badge")).to_have_text("online")
    expect(page.locator("table.props", has_text="OCPP version")).to_contain_text("Browser 1")
    expect(page.locator("#endpoint_address")).to_have_value("http://192.0.2.50:8080/ocpp")
    shot(page, "03-charge-point")
    page.click("nav >> text=Charge points")
    expect(page.locator("table.list")).to_contain_text(STATION)
    expect(page.locator("table.list .badge.online")).to_have_count(1)
    shot(page, "02-charge-points")

    # A tag, added through the form.
    page.click("nav >> text=OCPP tags")
    page.click("text=Add a tag")
    page.fill("#id_tag", TAG)
    page.click("main button[type=submit]")
    expect(page.locator("table.list")).to_contain_text(TAG)

    # A transaction with meter values, then its stop.
    started = soap(site, f"<cs:startTransactionRequest><cs:connectorId>1</cs:connectorId>"
                         f"<cs:idTag>{TAG}</cs:idTag><cs:timestamp>2026-03-01T10:00:00Z"
                         f"</cs:timestamp><cs:meterStart>1000</cs:meterStart>"
                         f"</cs:startTransactionRequest>")
    transaction_id = int(started.split(b"transactionId>")[1].split(b"<")[0])
    page.click("nav >> text=OCPP tags")
    expect(page.locator(f'a[href="/transactions/?tag={TAG}&state=active"]')).to_have_text("1")
    shot(page, "05-tags")
    for minute, wh, w in [(15, 3000, 7200), (30, 5200, 10800), (45, 7000, 6000)]:
        soap(site, f"<cs:meterValuesRequest><cs:connectorId>1</cs:connectorId><cs:transactionId>"
                   f"{transaction_id}</cs:transactionId><cs:meterValue><cs:timestamp>"
                   f"2026-03-01T10:{minute}:00Z</cs:timestamp><cs:sampledValue><cs:value>{wh}"
                   f"</cs:value></cs:sampledValue><cs:sampledValue><cs:value>{w}</cs:value>"
                   f"<cs:measurand>Power.Active.Import</cs:measurand><cs:unit>W</cs:unit>"
                   f"</cs:sampledValue></cs:meterValue></cs:meterValuesRequest>")
    soap(site, f"<cs:stopTransactionRequest><cs:transactionId>{transaction_id}"
               f"</cs:transactionId><cs:timestamp>2026-03-01T11:00:00Z</cs:timestamp>"
               f"<cs:meterStop>8000</cs:meterStop></cs:stopTransactionRequest>")
    page.click("nav >> text=Transactions")
    expect(page.locator("table.list")).to_contain_text("7.000 kWh")
    shot(page, "06-transactions")
    page.click(f'a[href="/transactions/{transaction_id}"]')
    chart = page.locator("figure.chart svg")
    expect(chart).to_be_visible()
    expect(chart.locator("polyline.energy")).to_have_count(1)
    expect(chart.locator("polyline.power")).to_have_count(1)
    assert len(chart.locator("polyline.energy").get_attribute("points").split()) == 5
    expect(page.locator("h2", has_text="Meter values (6)")).to_be_visible()
    shot(page, "07-transaction-chart")

    # The journal: the Boot the station sent, pretty-printed.
    page.click("nav >> text=Journal")
    page.fill("#action", "BootNotification")
    page.click("main button[type=submit]")
    expect(page.locator("table.list tbody tr")).to_have_count(2)  # the request and the reply
    shot(page, "08-journal")
    page.locator("table.list tbody tr", has_text="→ in").locator("a").first.click()
    expect(page.locator("h1")).to_have_text("Received: BootNotification")
    expect(page.locator("pre.xml").last).to_contain_text("<cs:chargePointModel>Browser 1"
                                                         "</cs:chargePointModel>")
    shot(page, "09-journal-message")

    # Home and settings.
    page.click("nav >> text=Home")
    expect(page.locator(".tile", has_text="online")).to_contain_text("1")
    shot(page, "04-home")
    page.click("nav >> text=Operations")
    expect(page.locator("h1")).to_have_text("Operations")
    page.click('a[href="/operations/Reset/1.6"]')
    page.select_option("#stations", STATION)
    shot(page, "11-operation-form")
    page.click("nav >> text=Settings")
    # The browser itself refuses out-of-range numbers (min/max from the form's validators);
    # the server's own messages are tested with the test client.
    assert page.locator("#heartbeat_interval").get_attribute("min") == "1"
    page.fill("#heartbeat_interval", "120")
    page.click("main button[type=submit]")
    expect(page.locator(".flash.success")).to_contain_text("Settings saved.")
    shot(page, "10-settings")
    page.click("text=Sign out")
    expect(page.locator("h1")).to_have_text("Sign in")


def test_screenshots_folder_is_ignored_by_git():
    assert "test-output/" in (ROOT / ".gitignore").read_text().split()
