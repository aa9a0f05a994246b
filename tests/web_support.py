"""Fixtures and helpers for the web UI tests: the Flask app over the test gateway's database,
an admin user, a signed-in test client, and forms posted with their real CSRF token."""
from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

import pytest

from soapgw.store.models import (AdminUser, ChargeBox, Connector, ConnectorStatus, IdTag,
                                 JournalEntry, MeterValueRow, Reservation, Transaction)
from soapgw.web import create_web_app
from soapgw.web.security import hash_password

ADMIN, PASSWORD = "admin", "correct horse battery"
XSS = "<script>alert(1)</script>"
_TOKEN = re.compile(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"')


def utc(*args) -> datetime:
    return datetime(*args, tzinfo=timezone.utc)


def csrf_token(html: str) -> str:
    match = _TOKEN.search(html)
    assert match, "the page has no form with a CSRF token"
    return match.group(1)


@pytest.fixture
def web_app(gateway):
    """The Flask app as the gateway serves it; CSRF protection stays on."""
    return create_web_app(gateway.settings, gateway.sessions, gateway.task_runner,
                          gateway.events)


@pytest.fixture
def admin(gateway):
    with gateway.sessions.begin() as db:
        db.add(AdminUser(username=ADMIN, password_hash=hash_password(PASSWORD)))
    return ADMIN


def sign_in(client, username: str = ADMIN, password: str = PASSWORD, next_path: str = ""):
    token = csrf_token(client.get("/login").text)
    return client.post("/login" + next_path,
                       data={"username": username, "password": password, "csrf_token": token})


@pytest.fixture
def client(web_app, admin):
    """A test client signed in as the admin."""
    client = web_app.test_client()
    assert sign_in(client).status_code == 302
    return client


def submit(client, page: str, data: dict, action: str | None = None):
    """POST ``data`` to ``action`` (default: ``page``) with the token of the form on ``page``."""
    token = csrf_token(client.get(page).text)
    return client.post(action or page, data={**data, "csrf_token": token})


class Rows:
    """Writes test data straight into the database."""

    def __init__(self, gateway):
        self.sessions = gateway.sessions

    def add(self, *objects):
        with self.sessions.begin() as db:
            db.add_all(objects)
        return objects[0] if len(objects) == 1 else objects

    def station(self, charge_box_id: str, **fields) -> ChargeBox:
        return self.add(ChargeBox(charge_box_id=charge_box_id, **fields))

    def connector(self, station: ChargeBox, connector_id: int = 1) -> Connector:
        return self.add(Connector(charge_box_pk=station.id, connector_id=connector_id))

    def status(self, connector: Connector, status: str, at: datetime) -> ConnectorStatus:
        return self.add(ConnectorStatus(connector_pk=connector.id, status=status,
                                        error_code="NoError", status_timestamp=at))

    def tag(self, id_tag: str, **fields) -> IdTag:
        return self.add(IdTag(id_tag=id_tag, **fields))

    def transaction(self, connector: Connector, id_tag: str, start: datetime,
                    meter_start: int = 1000, stop: datetime | None = None,
                    meter_stop: int | None = None, **fields) -> Transaction:
        return self.add(Transaction(connector_pk=connector.id, id_tag=id_tag,
                                    start_timestamp=start, meter_start=meter_start,
                                    start_status="Accepted", stop_timestamp=stop,
                                    meter_stop=meter_stop, **fields))

    def meter(self, transaction: Transaction, at: datetime, value: str,
              measurand: str | None = None, unit: str | None = None, **fields) -> MeterValueRow:
        return self.add(MeterValueRow(connector_pk=transaction.connector_pk,
                                      transaction_pk=transaction.id, value_timestamp=at,
                                      value=value, measurand=measurand, unit=unit,
                                      source="MeterValues", **fields))

    def reservation(self, connector: Connector, id_tag: str, expiry: datetime,
                    status: str = "Accepted") -> Reservation:
        self.reservations = getattr(self, "reservations", 0) + 1
        return self.add(Reservation(charge_box_pk=connector.charge_box_pk,
                                    reservation_id=self.reservations, connector_pk=connector.id,
                                    id_tag=id_tag, expiry_date=expiry, status=status))

    def journal(self, raw: bytes, **fields) -> JournalEntry:
        fields.setdefault("direction", "in")
        return self.add(JournalEntry(raw=raw, **fields))


@pytest.fixture
def rows(gateway) -> Rows:
    return Rows(gateway)


def hours_ago(hours: float) -> datetime:
    return datetime.now(timezone.utc) - timedelta(hours=hours)
