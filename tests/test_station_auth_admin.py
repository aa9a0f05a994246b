"""Setting station authentication from the command line and the charge point page, and what
an operator sees of refused messages."""
from __future__ import annotations

import subprocess

from sqlalchemy import select

from conftest import command_env, soapgw_command
from soapgw.core.passwords import password_matches
from soapgw.store.models import ChargeBox

from soap_messages import envelope, post
from web_support import admin, client, csrf_token, rows, submit, web_app  # noqa: F401


def station(gateway, identity) -> ChargeBox:
    with gateway.sessions() as db:
        return db.scalars(select(ChargeBox).where(ChargeBox.charge_box_id == identity)).one()


def test_commands_set_networks_password_certificate_and_policy(database_url, gateway):
    env = command_env(database_url)

    def run(*args, stdin=subprocess.DEVNULL, **extra):
        return soapgw_command("chargebox", *args, env={**env, **extra}, stdin=stdin)

    assert run("add", "CP-1").returncode == 0
    done = run("networks", "CP-1", "10.8.0.0/16", "192.0.2.7")
    assert done.returncode == 0 and "10.8.0.0/16, 192.0.2.7/32" in done.stdout
    assert run("networks", "CP-1").stdout.strip() == "10.8.0.0/16 192.0.2.7/32"
    bad = run("networks", "CP-1", "10.8.0.300/16")
    assert bad.returncode == 2 and bad.stderr.count("\n") == 1
    assert "'10.8.0.300/16' is not an IP address or network" in bad.stderr
    assert run("password", "CP-1", SOAPGW_STATION_PASSWORD="from-the-environment").returncode == 0
    assert password_matches(station(gateway, "CP-1").auth_password_hash, "from-the-environment")
    piped = soapgw_command("chargebox", "password", "CP-1", env=env, input="from-stdin-pw\n")
    assert piped.returncode == 0, piped.stderr
    assert password_matches(station(gateway, "CP-1").auth_password_hash, "from-stdin-pw")
    assert run("password", "CP-1", SOAPGW_STATION_PASSWORD="short").returncode == 2
    assert run("certificate", "CP-1", "CN=CP-1,O=Acme").returncode == 0
    assert run("callback-policy", "CP-1", "keep").returncode == 0
    shown = run("access", "CP-1").stdout
    assert "password\tset" in shown and "CN=CP-1,O=Acme" in shown and "policy\tkeep" in shown
    assert "from-stdin-pw" not in shown
    row = station(gateway, "CP-1")
    assert (row.auth_networks, row.auth_certificate, row.callback_policy) == \
        ("10.8.0.0/16,192.0.2.7/32", "CN=CP-1,O=Acme", "keep")
    for args in (("networks", "CP-1", "--clear"), ("password", "CP-1", "--clear"),
                 ("certificate", "CP-1", "--clear"), ("callback-policy", "CP-1", "follow")):
        assert run(*args).returncode == 0, args
    row = station(gateway, "CP-1")
    assert (row.auth_networks, row.auth_password_hash, row.auth_certificate,
            row.callback_policy) == (None, None, None, None)
    unknown = run("password", "NOPE", "--clear")
    assert unknown.returncode == 1 and "no charge box 'NOPE'" in unknown.stderr


def test_the_station_page_sets_authentication_and_shows_refusals(client, rows, gateway,
                                                                 live_url):
    cb = rows.station("CP-W")
    page = f"/chargepoints/{cb.id}"
    action = f"/chargepoints/{cb.id}/access"
    response = submit(client, page, {"networks": "10.0.0.0/8, 192.0.2.0/24",
                                      "password": "web-set-password", "certificate": "",
                                      "callback_policy": "keep"}, action)
    assert response.status_code == 302
    row = station(gateway, "CP-W")
    assert row.auth_networks == "10.0.0.0/8,192.0.2.0/24" and row.callback_policy == "keep"
    assert password_matches(row.auth_password_hash, "web-set-password")
    html = client.get(page).text
    assert "web-set-password" not in html and row.auth_password_hash not in html
    assert "10.0.0.0/8\n192.0.2.0/24" in html
    # a bad network is a readable error and changes nothing
    response = submit(client, page, {"networks": "10.0.0.0/33", "callback_policy": "follow"},
                      action)
    assert response.status_code == 302
    html = client.get(page).text
    assert "is not an IP address or network" in html
    assert station(gateway, "CP-W").callback_policy == "keep"
    # a refused message (from 127.0.0.1, outside the networks) is shown on the page and list
    refused = post(live_url, envelope("CP-W", "<cs:heartbeatRequest/>"))
    assert refused.status_code == 403
    html = client.get(page).text
    assert "Refused messages" in html and "network:" in html and "127.0.0.1" in html
    assert "1 message(s) refused" in client.get("/chargepoints/").text
    # the empty password field keeps the password; the box removes it
    submit(client, page, {"networks": "", "callback_policy": "follow"}, action)
    assert station(gateway, "CP-W").auth_password_hash == row.auth_password_hash
    submit(client, page, {"networks": "", "clear_password": "y", "callback_policy": "follow"},
           action)
    assert station(gateway, "CP-W").auth_password_hash is None


def test_serve_refuses_to_start_behind_an_untrusted_local_proxy(sqlite_url):
    env = command_env(sqlite_url, SOAPGW_PUBLIC_URL="https://csms.example.org")
    done = soapgw_command("serve", "--port", "1", env=env)
    assert done.returncode == 2
    assert "SOAPGW_TRUSTED_PROXIES" in done.stderr and done.stderr.count("\n") == 1


def test_local_proxy_problem_cases(tmp_path):
    import ipaddress

    from conftest import make_settings
    from soapgw.server import local_proxy_problem

    def problem(host, public, trusted=()):
        settings = make_settings("sqlite://", tmp_path, public_url=public,
                                 trusted_proxies=tuple(ipaddress.ip_network(t)
                                                       for t in trusted))
        return local_proxy_problem(settings, host) is not None

    assert problem("127.0.0.1", "https://csms.example.org")
    assert problem("localhost", "http://192.0.2.1:8080")
    assert not problem("127.0.0.1", "https://csms.example.org", ["127.0.0.1/32"])
    assert not problem("0.0.0.0", "https://csms.example.org")
    assert not problem("127.0.0.1", "http://127.0.0.1:8080")
    assert not problem("127.0.0.1", None)
