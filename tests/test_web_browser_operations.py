"""The guided operation forms and the truthful task outcome in a real browser (issue 15):
a ReserveNow filled in with the connector and tag suggestions and a reservation id the
gateway allocates, then one ReserveNow to three test stations, one accepting, one refusing
(Occupied) and one not answering in time: "1 accepted, 1 refused, 1 timed out".

Reuses the browser fixtures (and skips) of test_web_browser.py; screenshots 15-*."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from conftest import make_settings, serve_wsgi
from outbound_support import register_station, station_server
from soapgw.app import Gateway, create_app
from soapgw.core.connectors import connector_pk
from soapgw.soap.schema import cp16
from soapgw.store.migrate import upgrade
from soapgw.store.models import AdminUser, ChargeBox, IdTag
from soapgw.web.security import hash_password
from test_web_browser import CHROMIUM, page, playwright_api, shot  # noqa: F401 (fixtures)

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not CHROMIUM.exists(),
                       reason="/usr/bin/chromium is missing (make browser installs Debian's "
                              "chromium when run as root)"),
]

TAG = "CARD-GUIDED"


@pytest.fixture
def gateway_site(sqlite_url, tmp_path):
    """The gateway on 127.0.0.1 with 2 s command timeouts; yields (url, gateway)."""
    gateway = Gateway.from_settings(make_settings(sqlite_url, tmp_path, operation_timeout=2,
                                                  connect_timeout=2))
    upgrade(gateway.engine)
    with gateway.sessions.begin() as db:
        db.add(AdminUser(username="operator", password_hash=hash_password("operator-pass")))
        db.add(IdTag(id_tag=TAG))
    url, server = serve_wsgi(create_app(gateway=gateway))
    yield url, gateway
    server.shutdown()
    server.server_close()
    gateway.task_runner.shutdown()
    gateway.engine.dispose()


def _station(gateway, charge_box_id: str, address: str, connectors=(1, 2)) -> None:
    register_station(gateway.sessions, charge_box_id, "1.6", address)
    with gateway.sessions.begin() as db:
        pk = db.query(ChargeBox.id).filter_by(charge_box_id=charge_box_id).scalar()
        for connector_id in (0, *connectors):
            connector_pk(db, pk, connector_id)


def _sign_in(page, site: str) -> None:
    page.goto(site + "/operations/")
    page.fill("#username", "operator")
    page.fill("#password", "operator-pass")
    page.click("main button[type=submit]")
    playwright_api.expect(page.locator("h1")).to_have_text("Operations")


def _expiry() -> str:
    return (datetime.now(timezone.utc) + timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M")


def test_guided_reserve_now_and_a_mixed_outcome(gateway_site, page):
    expect = playwright_api.expect
    site, gateway = gateway_site
    with station_server("1.6") as (accepting, accepting_url), \
            station_server("1.6") as (refusing, refusing_url), \
            station_server("1.6") as (silent, silent_url):
        refusing.answers["ReserveNow"] = cp16.ReserveNowResponse(status="Occupied")
        silent.delay = 4  # beyond the 2 s operation timeout
        _station(gateway, "CB-ACCEPTS", accepting_url)
        _station(gateway, "CB-REFUSES", refusing_url, connectors=(1,))
        _station(gateway, "CB-SILENT", silent_url, connectors=(1,))
        _sign_in(page, site)

        # The guided form, opened for one station: labels, OCPP names as hints, suggestions.
        page.goto(site + "/operations/ReserveNow/1.6?station=CB-ACCEPTS")
        expect(page.locator("label[for=p_connectorId]")).to_have_text("ConnectorconnectorId")
        expect(page.locator("label[for=p_idTag] .ocpp")).to_have_text("idTag")
        expect(page.locator("#p_reservationId")).to_have_attribute(
            "placeholder", "allocated by the gateway")
        expect(page.locator("#pick-connectors option")).to_have_count(3)  # 0, 1, 2
        expect(page.locator(f'#pick-tags option[value="{TAG}"]')).to_have_count(1)
        page.fill("#p_connectorId", "1")
        page.fill("#p_expiryDate", _expiry())
        page.fill("#p_idTag", TAG)
        shot(page, "15a-guided-reserve-now-form")
        page.click("main button[type=submit]")
        expect(page.locator("h1")).to_contain_text("ReserveNow")
        expect(page.locator(".flash.success")).to_have_text(
            "Reservation id 1 was allocated by the gateway (free on every chosen station).")
        expect(page.locator("#task-outcome")).to_have_text("1 accepted", timeout=15_000)
        expect(page.locator("pre.xml")).to_contain_text('"reservationId": 1')
        shot(page, "15b-guided-reserve-now-allocated-id")
        assert [r.reservationId for op, r in accepting.requests if op == "ReserveNow"] == [1]

        # One command to three stations: accepted, refused, timed out.
        page.goto(site + "/operations/ReserveNow/1.6")
        second = page.locator('#pick-connectors option[value="2"]')
        assert second.evaluate("o => o.disabled") is False  # nothing chosen: all suggested
        page.select_option("#stations", ["CB-REFUSES"])  # it has connector 1 only
        assert second.evaluate("o => o.disabled") is True
        assert page.locator('#pick-connectors option[value="1"]').evaluate(
            "o => o.disabled") is False
        page.select_option("#stations", ["CB-ACCEPTS", "CB-REFUSES", "CB-SILENT"])
        assert second.evaluate("o => o.disabled") is False
        page.fill("#p_connectorId", "1")
        page.fill("#p_expiryDate", _expiry())
        page.fill("#p_idTag", TAG)
        page.click("main button[type=submit]")
        expect(page.locator("h1 .badge")).to_have_text("finished", timeout=20_000)
        outcome = page.locator("#task-outcome")
        expect(outcome).to_have_text("1 accepted, 1 refused, 1 timed out")
        expect(outcome).to_have_class("badge outcome o-mixed")
        rows = page.locator("table.list tbody tr")
        expect(rows.filter(has_text="CB-ACCEPTS").locator(".badge.outcome")).to_have_text(
            "accepted")
        expect(rows.filter(has_text="CB-REFUSES").locator(".badge.outcome")).to_have_text(
            "refused: Occupied")
        silent_row = rows.filter(has_text="CB-SILENT")
        expect(silent_row.locator(".badge.outcome")).to_have_text("timed out")
        expect(silent_row.locator(".flash.error")).to_be_visible()
        # the error box sits below the address, never over it
        box = silent_row.locator(".flash.error").bounding_box()
        answer_cell = silent_row.locator("td").last.bounding_box()
        assert box["y"] >= answer_cell["y"] and box["height"] > 0
        shot(page, "15c-mixed-task-outcome")
        colours = {name: rows.filter(has_text=name).locator(".badge.outcome").evaluate(
            "e => getComputedStyle(e).color") for name in ("CB-ACCEPTS", "CB-REFUSES",
                                                           "CB-SILENT")}
        assert len(set(colours.values())) == 3, colours  # each outcome its own colour

        page.goto(site + "/operations/")
        expect(page.locator("td .badge.outcome")).to_have_text(
            ["1 accepted, 1 refused, 1 timed out", "1 accepted"])  # newest first
        shot(page, "15d-task-list-outcomes")
