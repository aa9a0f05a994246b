"""Web UI: signing in and out, sessions, CSRF, cookies, secret key, `soapgw admin`."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from conftest import command_env, soapgw_command
from soapgw.config import ConfigError
from soapgw.timestamps import now
from soapgw.store.models import (AdminUser, ChargeBox, Connector, IdTag, Setting, Task,
                                 Transaction, UnknownChargeBox)
from soapgw.web import create_web_app
from soapgw.web.security import SECRET_FILE, load_secret_key, password_matches
from web_support import (ADMIN, PASSWORD, admin, client, csrf_token, sign_in,  # noqa: F401
                         web_app)

PAGES = ["/", "/chargepoints/", "/chargepoints/add", "/chargepoints/unknown", "/tags/",
         "/tags/add", "/tags/bulk", "/transactions/", "/transactions/export.csv",
         "/reservations/", "/journal/", "/settings", "/chargepoints/1", "/transactions/1",
         "/journal/1", "/no-such-page"]


@pytest.mark.parametrize("path", PAGES)
def test_every_page_but_sign_in_requires_a_session(web_app, path):
    response = web_app.test_client().get(path)
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login?next=")



OPEN_ENDPOINTS = {"auth.sign_in", "health", "static"}  # the only ones without a session


def _routes(app, method: str) -> list[str]:
    """A URL for every route of ``app`` answering ``method`` (ids filled with 1), except the
    ones open without a session."""
    urls = []
    for rule in app.url_map.iter_rules():
        if method not in rule.methods or rule.endpoint in OPEN_ENDPOINTS:
            continue
        values = {arg: 1 if isinstance(rule._converters[arg].to_python("1"), int) else "Reset"
                  for arg in rule.arguments}
        if rule.endpoint == "operations.run":
            values = {"operation": "Reset", "version": "1.6"}
        urls.append(rule.build(values)[1])
    return urls


def test_every_route_of_the_app_requires_a_session(web_app):
    """Taken from the app's URL map, so that a page added later is covered too."""
    from soapgw.web.auth import PUBLIC_ENDPOINTS
    assert PUBLIC_ENDPOINTS == OPEN_ENDPOINTS
    client = web_app.test_client()
    gets, posts = _routes(web_app, "GET"), _routes(web_app, "POST")
    assert len(gets) >= 20 and len(posts) >= 10  # the map was read
    assert {"/operations/tasks/1", "/operations/Reset/1.6", "/tags/1",
            "/transactions/1/chart.svg"} <= set(gets)
    for url in gets:
        response = client.get(url)
        assert response.status_code == 302, url
        assert response.headers["Location"].startswith("/login?next="), url
    token = csrf_token(client.get("/login").text)  # a valid token: the session is what lacks
    for url in posts:
        response = client.post(url, data={"csrf_token": token})
        assert response.status_code == 302, url
        assert response.headers["Location"] == "/login", url

def test_posts_without_a_session_are_refused(web_app):
    client = web_app.test_client()
    token = csrf_token(client.get("/login").text)
    response = client.post("/chargepoints/add", data={"ids": "X", "csrf_token": token})
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_health_and_stylesheet_need_no_session(web_app):
    client = web_app.test_client()
    assert client.get("/health").json == {"status": "ok"}
    assert client.get("/static/style.css").status_code == 200


def test_sign_in_with_right_password_goes_to_next_page(web_app, admin, gateway):
    client = web_app.test_client()
    response = sign_in(client, next_path="?next=/tags/")
    assert response.status_code == 302 and response.headers["Location"] == "/tags/"
    assert client.get("/tags/").status_code == 200
    with gateway.sessions() as db:
        assert db.scalars(select(AdminUser)).one().last_login_at is not None


@pytest.mark.parametrize("username,password", [(ADMIN, "wrong password"), ("nobody", PASSWORD)])
def test_wrong_credentials_give_one_readable_error(web_app, admin, username, password):
    client = web_app.test_client()
    response = sign_in(client, username, password)
    assert response.status_code == 401
    assert "Unknown user name or wrong password." in response.text
    assert client.get("/").status_code == 302


def test_empty_fields_are_marked_next_to_the_field(web_app, admin):
    client = web_app.test_client()
    token = csrf_token(client.get("/login").text)
    response = client.post("/login", data={"username": "", "password": "", "csrf_token": token})
    assert response.text.count('class="errors"') == 2
    assert "This field is required." in response.text


@pytest.mark.parametrize("target", ["//evil.example/", "https://evil.example/", "/\\evil",
                                    "javascript:alert(1)"])
def test_next_never_leaves_the_site(web_app, admin, target):
    response = sign_in(web_app.test_client(), next_path=f"?next={target}")
    assert response.headers["Location"] == "/"


def test_sign_in_without_csrf_token_is_refused(web_app, admin):
    response = web_app.test_client().post("/login", data={"username": ADMIN,
                                                          "password": PASSWORD})
    assert response.status_code == 400
    assert "security token" in response.text


def test_every_form_needs_the_csrf_token(client, gateway):
    """Every POST route of the app, signed in, without the token: refused, nothing changed."""
    with gateway.sessions.begin() as db:  # one row of each kind, id 1
        station = ChargeBox(charge_box_id="CB-1", ocpp_version="1.6",
                            registration_status="Accepted")
        db.add_all([station, IdTag(id_tag="T"), UnknownChargeBox(charge_box_id="U")])
        db.flush()
        connector = Connector(charge_box_pk=station.id, connector_id=1)
        db.add(connector)
        db.flush()
        db.add(Transaction(connector_pk=connector.id, id_tag="T", start_timestamp=now(),
                           meter_start=0, start_status="Accepted"))

    def state():
        with gateway.sessions() as db:
            counts = [db.scalar(select(func.count()).select_from(model)) for model in
                      (ChargeBox, IdTag, UnknownChargeBox, Setting, Task, AdminUser)]
            return counts + [db.scalars(select(Transaction.stop_timestamp)).all(),
                             db.scalars(select(ChargeBox.registration_status)).all(),
                             db.scalars(select(IdTag.blocked)).all()]
    before = state()
    posts = _routes(client.application, "POST")
    assert "/logout" in posts and "/transactions/1/stop" in posts
    for url in posts:
        response = client.post(url, data={"ids": "CB-2", "id_tag": "T2", "stations": "CB-1",
                                          "p_type": "Hard", "heartbeat_interval": "60",
                                          "registration_status": "Rejected",
                                          "meter_stop": "10", "stop_timestamp": "2030-01-01T00:00"})
        assert response.status_code == 400, url
        assert "security token" in response.text, url
    assert state() == before
    assert client.get("/").status_code == 200  # still signed in: the logout was refused


def test_sign_out_ends_the_session(client):
    token = csrf_token(client.get("/").text)
    response = client.post("/logout", data={"csrf_token": token})
    assert response.status_code == 302
    assert client.get("/").status_code == 302


def test_a_deleted_user_loses_the_session(client, gateway):
    with gateway.sessions.begin() as db:
        db.delete(db.scalars(select(AdminUser)).one())
    assert client.get("/").status_code == 302


def test_session_cookie_is_httponly_and_lax(web_app, admin):
    client = web_app.test_client()
    sign_in(client)
    cookie = client.get_cookie("soapgw_session")
    assert cookie.http_only and cookie.same_site == "Lax" and not cookie.secure


def test_session_cookie_is_secure_over_https(web_app, admin):
    client = web_app.test_client()
    token = csrf_token(client.get("/login", base_url="https://localhost").text)
    response = client.post("/login", base_url="https://localhost",
                           headers={"Referer": "https://localhost/login"},
                           data={"username": ADMIN, "password": PASSWORD, "csrf_token": token})
    assert response.status_code == 302
    assert "Secure" in response.headers["Set-Cookie"]


def test_secure_cookies_can_be_forced(gateway, admin, monkeypatch):
    monkeypatch.setenv("SOAPGW_COOKIE_SECURE", "true")
    client = create_web_app(gateway.settings, gateway.sessions, gateway.task_runner,
                            gateway.events).test_client()
    response = client.get("/login")
    assert "Secure" in response.headers["Set-Cookie"]


def test_pages_forbid_framing_and_foreign_scripts(client):
    headers = client.get("/").headers
    assert "frame-ancestors 'none'" in headers["Content-Security-Policy"]
    assert "script-src 'self'" in headers["Content-Security-Policy"]
    assert headers["X-Content-Type-Options"] == "nosniff"


def test_secret_key_is_generated_once_and_kept(tmp_path, monkeypatch):
    monkeypatch.delenv("SOAPGW_SECRET_KEY", raising=False)
    first = load_secret_key(tmp_path / "instance")
    assert first == load_secret_key(tmp_path / "instance")
    path = tmp_path / "instance" / SECRET_FILE
    assert path.stat().st_mode & 0o077 == 0  # readable by the owner only
    assert len(first) >= 32


def test_secret_key_from_environment(tmp_path):
    key = "k" * 40
    assert load_secret_key(tmp_path, {"SOAPGW_SECRET_KEY": key}) == key
    with pytest.raises(ConfigError):
        load_secret_key(tmp_path, {"SOAPGW_SECRET_KEY": "short"})
    assert not (tmp_path / SECRET_FILE).exists()


def test_sessions_survive_a_new_app_with_the_same_instance(gateway, web_app, admin):
    client = web_app.test_client()
    sign_in(client)
    cookie = client.get_cookie("soapgw_session").value
    other = create_web_app(gateway.settings, gateway.sessions, gateway.task_runner,
                            gateway.events).test_client()
    other.set_cookie("soapgw_session", cookie)
    assert other.get("/").status_code == 200


def test_admin_create_from_the_command_line(database_url, gateway):
    env = command_env(database_url, SOAPGW_ADMIN_PASSWORD="a long password")
    done = soapgw_command("admin", "create", "operator", env=env, stdin=subprocess_devnull())
    assert done.returncode == 0, done.stderr
    assert "created admin user operator" in done.stdout
    with gateway.sessions() as db:
        user = db.scalars(select(AdminUser).where(AdminUser.username == "operator")).one()
        assert password_matches(user.password_hash, "a long password")
        assert "a long password" not in user.password_hash
    again = soapgw_command("admin", "create", "operator", env=env, stdin=subprocess_devnull())
    assert again.returncode == 1 and "exists already" in again.stderr


def test_admin_create_refuses_a_short_password_and_a_missing_one(database_url, gateway):
    short = soapgw_command("admin", "create", "op", stdin=subprocess_devnull(),
                           env=command_env(database_url, SOAPGW_ADMIN_PASSWORD="short"))
    assert short.returncode == 2 and "at least 8 characters" in short.stderr
    missing = soapgw_command("admin", "create", "op", stdin=subprocess_devnull(),
                             env=command_env(database_url))
    assert missing.returncode == 2 and "SOAPGW_ADMIN_PASSWORD" in missing.stderr


def test_admin_password_changes_the_password(database_url, gateway, admin):
    env = command_env(database_url, SOAPGW_ADMIN_PASSWORD="another password")
    done = soapgw_command("admin", "password", ADMIN, env=env, stdin=subprocess_devnull())
    assert done.returncode == 0, done.stderr
    with gateway.sessions() as db:
        user = db.scalars(select(AdminUser)).one()
        assert password_matches(user.password_hash, "another password")


def subprocess_devnull():
    import subprocess
    return subprocess.DEVNULL
