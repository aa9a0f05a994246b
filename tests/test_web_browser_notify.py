"""The notifications section, Accounts and About in a real browser (Debian's Chromium), and
every page at a phone's width (390 px) without sideways scrolling. Screenshots go to
test-output/screenshots/ like the other browser tests."""
from __future__ import annotations

import threading
import time

import pytest

from conftest import make_settings, serve_wsgi
from mail_server import MailServer
from soap_messages import envelope, post
from soapgw.app import Gateway, create_app
from soapgw.core.webhooks.deliveries import RetryPolicy
from soapgw.mail_out.dispatcher import MailDispatcher
from soapgw.store.migrate import upgrade
from soapgw.store.models import AdminUser
from soapgw.web.security import hash_password
from test_web_browser import CHROMIUM, CHROMIUM_ARGS, SCREENSHOTS, playwright_api

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not CHROMIUM.exists(),
                       reason="/usr/bin/chromium is missing (make browser installs Debian's "
                              "chromium when run as root)"),
]
STATION = "CB-PHONE-WITH-A-RATHER-LONG-IDENTITY-0001"
PHONE = 390


@pytest.fixture
def gateway(sqlite_url, tmp_path):
    gateway = Gateway.from_settings(make_settings(sqlite_url, tmp_path))
    upgrade(gateway.engine)
    with gateway.sessions.begin() as db:
        db.add(AdminUser(username="operator", password_hash=hash_password("operator-pass")))
    yield gateway
    gateway.task_runner.shutdown()
    gateway.engine.dispose()


@pytest.fixture
def site(gateway):
    url, server = serve_wsgi(create_app(gateway=gateway))
    yield url
    server.shutdown()
    server.server_close()


@pytest.fixture
def mail_dispatcher(gateway):
    stop = threading.Event()
    dispatcher = MailDispatcher(gateway.sessions, gateway.settings, poll=0.05,
                                policy=RetryPolicy(base=0.1), timeout=5)
    thread = threading.Thread(target=dispatcher.run, args=(stop,), daemon=True)
    thread.start()
    yield dispatcher
    stop.set()
    thread.join(10)


@pytest.fixture
def browser():
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    with playwright_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield browser
        browser.close()


def signed_in(browser, site: str, width: int, height: int = 900):
    page = browser.new_page(viewport={"width": width, "height": height})
    page.set_default_timeout(15_000)
    page.goto(site + "/login")
    page.fill("#username", "operator")
    page.fill("#password", "operator-pass")
    page.click("main button[type=submit]")
    playwright_api.expect(page.locator("h1")).to_have_text("Home")
    return page


def soap(base: str, body: str) -> bytes:
    response = post(base, envelope(STATION, body, from_address="http://192.0.2.50:8080/ocpp/a/"
                                   "rather/long/path/that/does/not/break/lines/easily"))
    assert response.status_code == 200, response.text
    return response.content


def test_notifications_section_test_mail_and_a_notified_event(site, browser, gateway,
                                                               mail_dispatcher):
    expect = playwright_api.expect
    with gateway.sessions.begin() as db:
        from soapgw.store.models import ChargeBox
        db.add(ChargeBox(charge_box_id=STATION, registration_status="Accepted"))
    server = MailServer()
    try:
        page = signed_in(browser, site, 1280)
        page.click("nav >> text=Settings")
        page.fill("#host", "127.0.0.1")
        page.fill("#port", str(server.port))
        page.select_option("#security", "none")
        page.fill("#from_address", "soapgw@example.com")
        page.click("#smtp-form button[type=submit]")
        expect(page.locator(".flash.success")).to_have_text("SMTP settings saved.")
        page.fill("#test_recipient", "me@example.com")
        page.click("#test-mail-form button[type=submit]")
        expect(page.locator(".flash.success")).to_contain_text("Test mail to me@example.com")
        page.fill("#address", "ops@example.com")
        page.check("#recipient-form input[value='station.booted']")
        page.check("#recipient-form input[value='connector.faulted']")
        page.click("#recipient-form button[type=submit]")
        expect(page.locator("#recipients table")).to_contain_text("ops@example.com")
        soap(site, "<cs:bootNotificationRequest><cs:chargePointVendor>Acme"
                   "</cs:chargePointVendor><cs:chargePointModel>P1</cs:chargePointModel>"
                   "</cs:bootNotificationRequest>")
        deadline = time.monotonic() + 15
        while len(server.received) < 2 and time.monotonic() < deadline:
            time.sleep(0.1)
        assert sorted(m["Subject"] for m in server.received) == [
            f"[soapgw] {STATION}: booted (Acme P1, firmware unknown)", "[soapgw] Test mail"]
        page.reload()
        expect(page.locator("#mails tbody tr").first).to_contain_text("sent")
        page.locator("#notifications").screenshot(
            path=str(SCREENSHOTS / "40-settings-notifications.png"))
    finally:
        server.close()


def test_accounts_and_about_pages(site, browser):
    expect = playwright_api.expect
    page = signed_in(browser, site, 1280)
    page.click("nav >> text=Accounts")
    page.fill("#username", "night-shift")
    page.fill("#password", "night shift pass")
    page.fill("#password_again", "night shift pass")
    page.click("#new-account button[type=submit]")
    expect(page.locator("#accounts")).to_contain_text("night-shift")
    page.locator("#accounts tr", has_text="night-shift").locator("button",
                                                                 has_text="Disable").click()
    expect(page.locator("#accounts tr", has_text="night-shift")).to_contain_text("disabled")
    page.screenshot(path=str(SCREENSHOTS / "41-accounts.png"), full_page=True)
    page.click("nav >> text=About")
    expect(page.locator("#station-endpoints")).to_contain_text(
        site + "/services/CentralSystemServiceOCPP15?wsdl")
    expect(page.locator("#about")).to_contain_text("(up to date)")
    page.screenshot(path=str(SCREENSHOTS / "42-about.png"), full_page=True)


def test_no_page_scrolls_sideways_at_a_phones_width(site, browser, gateway):
    with gateway.sessions.begin() as db:
        from soapgw.store.models import ChargeBox
        db.add(ChargeBox(charge_box_id=STATION, registration_status="Accepted"))
    soap(site, "<cs:bootNotificationRequest><cs:chargePointVendor>Acme</cs:chargePointVendor>"
               "<cs:chargePointModel>Phone 1</cs:chargePointModel>"
               "</cs:bootNotificationRequest>")
    soap(site, "<cs:statusNotificationRequest><cs:connectorId>1</cs:connectorId>"
               "<cs:status>Available</cs:status><cs:errorCode>NoError</cs:errorCode>"
               "</cs:statusNotificationRequest>")
    page = signed_in(browser, site, PHONE, 844)
    page.goto(site + "/chargepoints/")
    page.click(f"text={STATION}")
    # the station booted but never sent a Heartbeat: "online", and its last message beside it
    playwright_api.expect(page.locator("h1")).to_contain_text("last message")
    station_page = page.url.removeprefix(site)
    paths = ["/", "/chargepoints/", station_page, "/chargepoints/add", "/chargepoints/unknown",
             "/tags/", "/tags/add", "/transactions/", "/reservations/", "/journal/",
             "/journal/1", "/operations/", "/operations/Reset/1.6", "/bridge/", "/settings",
             "/api-access/", "/accounts", "/about",
             # main's charging profile and local list pages (404 before that merge)
             "/charging-profiles/", "/charging-profiles/add", "/local-list/"]
    wide = {}
    for path in paths:
        response = page.goto(site + path)
        assert response.status < 500, path
        width = page.evaluate("document.documentElement.scrollWidth")
        if width > PHONE:
            wide[path] = width
        name = path.strip("/").replace("/", "-") or "home"
        if path in ("/", "/chargepoints/", station_page, "/settings", "/journal/1"):
            # the viewport only: a full-page shot widens to the tables' scrolled width
            page.screenshot(path=str(SCREENSHOTS / f"43-phone-{name[:40]}.png"))
    assert wide == {}
