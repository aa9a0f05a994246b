"""Web sign-in under attack: guessing is throttled (per user and per address, in SQL, across
worker processes; answered at once with 429 and Retry-After), and sessions are revocable
(a cookie saved before sign-out or before a new password no longer works)."""
from __future__ import annotations

import re
import subprocess
import time

import requests
from sqlalchemy import select

from conftest import command_env, soapgw_command
from soapgw.core.sign_in import ThrottlePolicy
from soapgw.store.models import JournalEntry, LoginThrottle
from soapgw.web.auth import THROTTLE_CONFIG

from web_support import ADMIN, PASSWORD, admin, client, csrf_token, sign_in, web_app  # noqa: F401

COOKIE = "soapgw_session"


def test_guessing_is_throttled_and_the_right_password_works_after_the_lock(web_app, admin,
                                                                           gateway):
    web_app.config[THROTTLE_CONFIG] = ThrottlePolicy(free_failures=5, base_delay=1.0,
                                                     max_delay=1.0)
    browser = web_app.test_client()
    statuses, started = [], time.monotonic()
    for attempt in range(100):
        response = sign_in(browser, password=f"guess-{attempt}")
        statuses.append(response.status_code)
        if response.status_code == 429:
            assert int(response.headers["Retry-After"]) >= 1
            assert "Too many failed sign-ins" in response.text
    elapsed = time.monotonic() - started
    checked = statuses.count(401)
    # at full speed all 100 would be checked; past 5 free failures, one guess a second
    assert checked <= 5 + elapsed + 1, (checked, elapsed)
    assert statuses.count(429) >= 100 - checked and set(statuses) == {401, 429}
    # while locked, even the right password is refused without being checked
    locked = sign_in(browser)
    assert locked.status_code == 429
    time.sleep(int(locked.headers["Retry-After"]) + 0.1)
    assert sign_in(browser).status_code == 302
    with gateway.sessions() as db:
        assert db.scalars(select(JournalEntry.action)).all().count("WebSignIn:Throttled") >= 1
        raws = b"".join(db.scalars(select(JournalEntry.raw)))
        assert b"guess-" not in raws  # no password in the journal
        keys = set(db.scalars(select(LoginThrottle.key)))
    assert keys == {"address:127.0.0.1"}  # the user's count was reset by the sign-in


def test_a_locked_address_cannot_try_other_users(web_app, admin):
    web_app.config[THROTTLE_CONFIG] = ThrottlePolicy(free_failures=3, base_delay=60)
    browser = web_app.test_client()
    for i in range(4):
        sign_in(browser, username=f"user{i}", password="wrong password")
    assert sign_in(browser, username="someone-else", password="x" * 10).status_code == 429


def test_guessing_over_http_across_two_workers(database_url, gateway, served_gateway):
    """Real ``soapgw serve`` with two worker processes: the count is shared (default policy:
    5 free failures, then 2 s, 4 s, ... locks)."""
    env = command_env(database_url, SOAPGW_ADMIN_PASSWORD=PASSWORD)
    assert soapgw_command("admin", "create", ADMIN, env=env,
                          stdin=subprocess.DEVNULL).returncode == 0
    url = served_gateway(database_url, workers=2)
    statuses = []
    session = requests.Session()
    for attempt in range(100):
        token = csrf_token(session.get(f"{url}/login", timeout=10).text)
        response = session.post(f"{url}/login", timeout=10, allow_redirects=False, data={
            "username": ADMIN, "password": f"guess-{attempt}", "csrf_token": token})
        statuses.append(response.status_code)
    assert statuses[:5] == [401] * 5
    # locks of 2, 4, 8 s: on a slow machine a lock may run out during the 100 attempts
    assert statuses.count(401) <= 9 and statuses.count(429) >= 91, statuses
    retry = int(re.search(r"in (\d+) seconds", response.text).group(1))
    assert 1 <= retry <= 16
    time.sleep(retry + 0.2)
    token = csrf_token(session.get(f"{url}/login", timeout=10).text)
    right = session.post(f"{url}/login", timeout=10, allow_redirects=False, data={
        "username": ADMIN, "password": PASSWORD, "csrf_token": token})
    assert right.status_code == 302


def _saved_cookie(browser) -> str:
    return browser.get_cookie(COOKIE).value


def _with_cookie(web_app, value: str):
    other = web_app.test_client()
    other.set_cookie(COOKIE, value)
    return other


def test_a_cookie_saved_before_sign_out_no_longer_works(web_app, admin):
    browser = web_app.test_client()
    assert sign_in(browser).status_code == 302
    saved = _saved_cookie(browser)
    assert _with_cookie(web_app, saved).get("/").status_code == 200
    token = csrf_token(browser.get("/").text)
    assert browser.post("/logout", data={"csrf_token": token}).status_code == 302
    replayed = _with_cookie(web_app, saved).get("/")
    assert replayed.status_code == 302 and "/login" in replayed.headers["Location"]
    assert sign_in(browser).status_code == 302 and browser.get("/").status_code == 200


def test_a_cookie_saved_before_a_new_password_no_longer_works(web_app, admin, database_url):
    browser = web_app.test_client()
    assert sign_in(browser).status_code == 302
    saved = _saved_cookie(browser)
    env = command_env(database_url, SOAPGW_ADMIN_PASSWORD="a brand new password")
    done = soapgw_command("admin", "password", ADMIN, env=env, stdin=subprocess.DEVNULL)
    assert done.returncode == 0, done.stderr
    assert _with_cookie(web_app, saved).get("/").status_code == 302
    assert browser.get("/").status_code == 302
    assert sign_in(browser, password="a brand new password").status_code == 302
    assert browser.get("/").status_code == 200


def test_one_password_check_at_a_time_others_are_turned_away_at_once(web_app, admin,
                                                                      tmp_path):
    from soapgw.web.check_gate import CheckGate
    gate = CheckGate(tmp_path)
    with gate.enter() as first, gate.enter() as second:
        assert (first, second) == (True, False)
    with gate.enter() as again:
        assert again
    # a sign-in arriving while another worker is checking a password: 429 at once, not counted
    browser = web_app.test_client()
    with web_app.extensions["soapgw_check_gate"].enter() as held:
        assert held
        response = sign_in(browser)
    assert response.status_code == 429 and response.headers["Retry-After"] == "1"
    assert "checking another sign-in" in response.text
    assert sign_in(browser).status_code == 302
