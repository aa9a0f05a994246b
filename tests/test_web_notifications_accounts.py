"""Web UI: the notifications section of the Settings page (SMTP settings, the test mail
button, recipients), the Accounts page (create, disable, enable, reset password) and About."""
from __future__ import annotations

import time

import pytest
from sqlalchemy import select

from soapgw.app import create_app
from soapgw.core.mail import smtp_settings
from soapgw.mail_out.dispatcher import MailDispatcher
from soapgw.core.webhooks.deliveries import RetryPolicy
from soapgw.store.models import AdminUser, MailMessage, MailRecipient, Setting
from mail_server import MailServer
from web_support import (ADMIN, admin, client, csrf_token, sign_in,  # noqa: F401
                         submit, web_app)


def smtp_form(port: int, **fields) -> dict:
    return {"host": "127.0.0.1", "port": str(port), "security": "none", "username": "",
            "password": "", "from_address": "soapgw@example.com", **fields}


# --- notifications ------------------------------------------------------------------------
def test_smtp_settings_saved_and_the_test_mail_button_sends_through_a_real_server(
        client, gateway):
    server = MailServer()
    try:
        saved = submit(client, "/settings", smtp_form(server.port, username="mailer",
                                                      password="s3cret-pass"),
                       "/settings/notifications/smtp")
        assert saved.status_code == 302
        page = client.get("/settings").text
        assert 'value="127.0.0.1"' in page and "s3cret-pass" not in page
        assert "A password is stored (encrypted)" in page
        with gateway.sessions() as db:
            assert smtp_settings.load(db).port == server.port
            stored = db.scalar(select(Setting.value).where(Setting.key == "smtp_password"))
        assert stored and "s3cret-pass" not in stored
        # the password is kept when the form is saved again with it empty; no login needed here
        submit(client, "/settings", smtp_form(server.port), "/settings/notifications/smtp")
        queued = submit(client, "/settings", {"test_recipient": "me@example.com"},
                        "/settings/notifications/test")
        assert queued.status_code == 302
        assert "Test mail to me@example.com queued" in client.get("/settings").text
        dispatcher = MailDispatcher(gateway.sessions, gateway.settings,
                                    policy=RetryPolicy(base=0.05), timeout=5)
        deadline = time.monotonic() + 10
        while not server.received and time.monotonic() < deadline:
            dispatcher.run_once()
            time.sleep(0.05)
        assert server.received[0]["Subject"] == "[soapgw] Test mail"
        page = client.get("/settings").text
        assert "mail-sent" in page and "[soapgw] Test mail" in page
    finally:
        server.close()


def test_smtp_form_errors_are_shown_next_to_the_fields(client):
    response = submit(client, "/settings", smtp_form(0, host="smtp://bad host",
                                                     from_address="nobody"),
                      "/settings/notifications/smtp")
    assert response.status_code == 400
    assert "Use 1 to 65535." in response.text
    response = submit(client, "/settings", smtp_form(25, host="smtp://bad host",
                                                     from_address="nobody"),
                      "/settings/notifications/smtp")
    assert response.status_code == 400
    assert "A host name or IP address, without scheme or port." in response.text
    assert "Enter one e-mail address such as ops@example.com." in response.text


def test_test_mail_needs_smtp_settings_first(client):
    response = submit(client, "/settings", {"test_recipient": "me@example.com"},
                      "/settings/notifications/test")
    assert response.status_code == 400
    assert "Save the SMTP settings (host and from address) first." in response.text


def test_recipients_added_changed_and_removed(client, gateway):
    added = client.post("/settings/notifications/recipients", data={
        "csrf_token": csrf_token(client.get("/settings").text), "address": "ops@example.com",
        "events": ["station.offline", "connector.faulted"]})
    assert added.status_code == 302
    with gateway.sessions() as db:
        (recipient,) = db.scalars(select(MailRecipient)).all()
    assert recipient.events == '["station.offline", "connector.faulted"]'
    page = client.get("/settings").text
    assert "ops@example.com" in page
    changed = client.post(f"/settings/notifications/recipients/{recipient.id}", data={
        "csrf_token": csrf_token(page), "events": ["transaction.started"]})
    assert changed.status_code == 302
    with gateway.sessions() as db:
        assert db.get(MailRecipient, recipient.id).events == '["transaction.started"]'
    none_chosen = client.post("/settings/notifications/recipients", data={
        "csrf_token": csrf_token(page), "address": "x@example.com"})
    assert none_chosen.status_code == 400
    assert "Choose at least one notification." in none_chosen.text
    removed = client.post(f"/settings/notifications/recipients/{recipient.id}", data={
        "csrf_token": csrf_token(page), "remove": "1"})
    assert removed.status_code == 302
    with gateway.sessions() as db:
        assert db.scalars(select(MailRecipient)).all() == []


def test_a_failed_mail_is_listed_with_its_error_and_can_be_sent_again(client, gateway):
    with gateway.sessions.begin() as db:
        db.add(MailMessage(kind="test", recipient="me@example.com", subject="[soapgw] Test mail",
                           body="x", state="failed", attempts=9,
                           last_error="ConnectionRefusedError: [Errno 111]"))
    page = client.get("/settings").text
    assert "ConnectionRefusedError" in page and "mail-failed" in page
    with gateway.sessions() as db:
        mail_id = db.scalar(select(MailMessage.id))
    again = client.post(f"/settings/notifications/mails/{mail_id}/retry",
                        data={"csrf_token": csrf_token(page)})
    assert again.status_code == 302
    with gateway.sessions() as db:
        assert db.get(MailMessage, mail_id).state == "pending"


# --- accounts -----------------------------------------------------------------------------
def _user(gateway, name: str) -> AdminUser:
    with gateway.sessions() as db:
        return db.scalars(select(AdminUser).where(AdminUser.username == name)).one()


def _create(client, name: str, password: str = "another secret", again: str | None = None):
    return submit(client, "/accounts", {"username": name, "password": password,
                                        "password_again": again or password})


def test_an_admin_creates_disables_enables_and_resets_accounts(client, web_app, gateway):
    assert _create(client, "ops").status_code == 302
    assert "ops" in client.get("/accounts").text
    other = web_app.test_client()
    assert sign_in(other, "ops", "another secret").status_code == 302
    assert other.get("/").status_code == 200
    ops = _user(gateway, "ops")
    page = client.get("/accounts").text
    disabled = client.post(f"/accounts/{ops.id}/disable", data={"csrf_token": csrf_token(page)})
    assert disabled.status_code == 302
    assert _user(gateway, "ops").disabled_at is not None
    # its session ended at once, and it cannot sign in again
    assert other.get("/").status_code == 302
    refused = sign_in(other, "ops", "another secret")
    assert refused.status_code == 401
    client.post(f"/accounts/{ops.id}/enable", data={"csrf_token": csrf_token(page)})
    assert sign_in(other, "ops", "another secret").status_code == 302
    reset = submit(client, f"/accounts/{ops.id}/password",
                   {"password": "brand new secret", "password_again": "brand new secret"})
    assert reset.status_code == 302
    assert other.get("/").status_code == 302  # a new password ends the sessions
    assert sign_in(other, "ops", "brand new secret").status_code == 302


def test_account_form_errors(client):
    short = _create(client, "x", "short")
    assert short.status_code == 400
    assert "The password must have at least 8 characters." in short.text
    differ = _create(client, "x", "long enough 1", "long enough 2")
    assert differ.status_code == 400 and "The two passwords differ." in differ.text
    taken = _create(client, ADMIN)
    assert taken.status_code == 400 and "exists already" in taken.text


def test_nobody_disables_themselves_nor_the_last_enabled_account(client, gateway):
    me = _user(gateway, ADMIN)
    page = client.get("/accounts").text
    own = client.post(f"/accounts/{me.id}/disable", data={"csrf_token": csrf_token(page)},
                      follow_redirects=True)
    assert "You cannot disable your own account" in own.text
    assert _user(gateway, ADMIN).disabled_at is None
    _create(client, "ops")
    ops = _user(gateway, "ops")
    client.post(f"/accounts/{ops.id}/disable", data={"csrf_token": csrf_token(page)})
    with gateway.sessions.begin() as db:  # disabled behind the page's back: admin is the last
        from soapgw.core import accounts
        with pytest.raises(Exception, match="last enabled account"):
            accounts.disable(db, me.id)


def test_admin_cli_lists_disables_and_enables(gateway, database_url):
    from conftest import command_env, soapgw_command
    env = command_env(database_url, SOAPGW_ADMIN_PASSWORD="cli password 1")
    for name in ("alice", "bob"):
        assert soapgw_command("admin", "create", name, env=env).returncode == 0
    assert soapgw_command("admin", "disable", "bob", env=env).returncode == 0
    listed = soapgw_command("admin", "list", env=env)
    assert listed.returncode == 0
    assert "alice" in listed.stdout and "bob" in listed.stdout and "disabled" in listed.stdout
    last = soapgw_command("admin", "disable", "alice", env=env)
    assert last.returncode == 1 and "last enabled account" in last.stderr
    assert soapgw_command("admin", "enable", "bob", env=env).returncode == 0
    assert _user(gateway, "bob").disabled_at is None


# --- about --------------------------------------------------------------------------------
def test_about_shows_version_revision_and_working_endpoint_addresses(gateway, admin):
    from soapgw import __version__
    app = create_app(gateway=gateway)
    flask_app = app.web
    client = flask_app.test_client()
    sign_in(client)
    page = client.get("/about").text
    assert __version__ in page and "(up to date)" in page
    assert "http://localhost/services/CentralSystemServiceOCPP15?wsdl" in page
    assert "http://localhost/api/v1/openapi.json" in page
    assert "http://localhost/api/v1/events/stream" in page
    assert "Server time" in page
    # every address shown is served: the WSDLs by the SOAP endpoint, the API by the API
    from werkzeug.test import Client
    served = Client(app)
    for path in ("/services/CentralSystemService?wsdl",
                 "/services/CentralSystemServiceOCPP16?wsdl",
                 "/services/CentralSystemServiceOCPP15?wsdl"):
        response = served.get(path)
        assert response.status_code == 200 and b"definitions" in response.data, path
    assert served.get("/api/v1/openapi.json").status_code == 200
    assert served.get("/api/v1").status_code == 401  # there, asking for a token
