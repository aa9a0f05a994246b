"""Web UI: the upstream bridge page and the link state on the charge point pages."""
from __future__ import annotations

import pytest

from soapgw.core import upstream, upstream_queue
from soapgw.timestamps import now
from web_support import admin, client, rows, web_app  # noqa: F401


@pytest.mark.smoke
def test_link_states_on_the_bridge_and_station_pages(client, rows, gateway):
    up = rows.station("CB-UP", registration_status="Accepted", ocpp_version="1.6")
    rows.station("CB-DOWN", registration_status="Accepted", ocpp_version="1.5")
    rows.station("CB-OFF", registration_status="Accepted")
    with gateway.sessions.begin() as db:
        upstream_queue.set_link_state(db, "CB-UP", True, now())
        upstream_queue.set_link_state(db, "CB-DOWN", False, now(),
                                      "handshake refused: HTTP 401 (wrong password?)")
        upstream.set_enabled(db, ["CB-OFF"], False)
        from soapgw.core.upstream_secret import PasswordBox
        upstream.set_password(db, "CB-UP", b"never-shown",
                              PasswordBox(gateway.settings.instance_path))
    page = client.get("/bridge/")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "CB-UP" in html and "connected" in html and "HTTP 401" in html and ">off<" in html
    assert "never-shown" not in html
    listing = client.get("/chargepoints/").get_data(as_text=True)
    assert "HTTP 401" in listing and "connected" in listing
    detail = client.get(f"/chargepoints/{up.id}").get_data(as_text=True)
    assert "Upstream (OCPP-J bridge)" in detail and "never-shown" not in detail
