"""OCPP reservation ids belong to a charge point: the same id on two stations is two
reservations, the same id on one station replaces its reservation, and the gateway allocates
the next free id when the operator leaves it out (web form, ``soapgw call``, the runner)."""
from __future__ import annotations

import json
from datetime import datetime

import pytest
from alembic import command
from lxml import etree
from sqlalchemy import select, text

from conftest import command_env, soapgw_command
from outbound_support import register_station, results, station_server, task_runner
from soap_messages import envelope, post
from soapgw.store.migrate import alembic_config, upgrade
from soapgw.store.models import ChargeBox, Connector, Reservation, Task
from web_support import admin, client, submit, web_app  # noqa: F401

RESERVE = {"connectorId": 1, "expiryDate": "2030-01-01T10:00:00Z", "idTag": "TAG1"}


def reservations(gateway) -> dict[tuple[str, int], Reservation]:
    with gateway.sessions() as db:
        return {(cb, r.reservation_id): r for r, cb in db.execute(
            select(Reservation, ChargeBox.charge_box_id).join(ChargeBox))}


def sent_ids(station) -> list[int]:
    """The reservationIds a test station received in ReserveNow requests."""
    return [int(etree.fromstring(r.raw).xpath("//*[local-name()='reservationId']/text()")[0])
            for r in station.received if r.operation == "ReserveNow"]


def one(gateway, task_id):
    (result,) = results(gateway.sessions, task_id)
    return result


@pytest.mark.smoke
def test_the_same_id_on_two_stations_is_two_reservations(gateway):
    with station_server() as (a, address_a), station_server() as (b, address_b), \
            task_runner(gateway) as runner:
        register_station(gateway.sessions, "CB-A", "1.6", address_a)
        register_station(gateway.sessions, "CB-B", "1.6", address_b)
        for station in ("CB-A", "CB-B"):
            done = one(gateway, runner.run("ReserveNow", RESERVE | {"reservationId": 7},
                                           [station], "test"))
            assert done.state == "answered", done.error
        # a cancelled id of one station does not block another station either
        runner.run("CancelReservation", {"reservationId": 7}, ["CB-A"], "test")
        both = runner.run("ReserveNow", RESERVE | {"reservationId": 8}, ["CB-A", "CB-B"], "test")
        assert {r.state for r in results(gateway.sessions, both)} == {"answered"}
    rows = reservations(gateway)
    assert {key: r.status for key, r in rows.items()} == {
        ("CB-A", 7): "Cancelled", ("CB-B", 7): "Accepted", ("CB-A", 8): "Accepted",
        ("CB-B", 8): "Accepted"}
    assert sent_ids(a) == [7, 8] and sent_ids(b) == [7, 8]


@pytest.mark.smoke
def test_the_same_id_on_one_station_replaces_its_open_reservation(gateway):
    with station_server() as (station, address), task_runner(gateway) as runner:
        register_station(gateway.sessions, "CB-A", "1.6", address)
        runner.run("ReserveNow", RESERVE | {"reservationId": 5}, ["CB-A"], "test")
        runner.run("ReserveNow", RESERVE | {"reservationId": 5, "connectorId": 2,
                                            "idTag": "TAG2"}, ["CB-A"], "test")
        (row,) = reservations(gateway).values()
        with gateway.sessions() as db:
            connector = db.get(Connector, row.connector_pk).connector_id
        assert (row.status, row.id_tag, connector) == ("Accepted", "TAG2", 2)
        # a spent id (cancelled, used) keeps its history: refused with a way out
        runner.run("CancelReservation", {"reservationId": 5}, ["CB-A"], "test")
        again = one(gateway, runner.run("ReserveNow", RESERVE | {"reservationId": 5}, ["CB-A"],
                                        "test"))
        assert (again.state, again.error_kind) == ("failed", "conflict")
        assert "leave it out to have one allocated" in again.error
        assert [r.operation for r in station.received] == ["ReserveNow", "ReserveNow",
                                                           "CancelReservation"]


@pytest.mark.smoke
def test_the_gateway_allocates_the_next_free_id(gateway):
    with station_server() as (a, address_a), station_server() as (b, address_b), \
            task_runner(gateway) as runner:
        register_station(gateway.sessions, "CB-A", "1.6", address_a)
        register_station(gateway.sessions, "CB-B", "1.6", address_b)
        first = runner.run("ReserveNow", RESERVE, ["CB-A"], "test")
        second = runner.run("ReserveNow", RESERVE, ["CB-A"], "test")
        runner.run("ReserveNow", RESERVE | {"reservationId": 40}, ["CB-B"], "test")
        # one command to both: an id free on each (above CB-B's 40)
        both = runner.run("ReserveNow", RESERVE, ["CB-A", "CB-B"], "test")
        # submitted back to back, before the first was sent: still different ids
        a.delay = 0.3
        quick = [runner.submit("ReserveNow", RESERVE, ["CB-A"], "test") for _ in range(3)]
        for task_id in quick:
            runner.wait(task_id, timeout=10)
    with gateway.sessions() as db:
        allocated = [json.loads(db.get(Task, t).payload)["reservationId"]
                     for t in (first, second, both, *quick)]
    assert allocated == [1, 2, 41, 42, 43, 44]
    assert sorted(sent_ids(a)) == [1, 2, 41, 42, 43, 44] and sent_ids(b) == [40, 41]
    assert sorted(reservations(gateway)) == [("CB-A", i) for i in (1, 2, 41, 42, 43, 44)] + [
        ("CB-B", 40), ("CB-B", 41)]


@pytest.mark.smoke
def test_an_explicit_id_beyond_xs_int_is_refused(gateway):
    from soapgw.core.commands.errors import TaskError
    with task_runner(gateway) as runner, pytest.raises(TaskError, match="out of range"):
        runner.submit("ReserveNow", RESERVE | {"reservationId": 2**31}, ["CB-A"], "test")


def test_start_transaction_uses_its_own_stations_reservation(gateway, live_url, seed):
    """Two stations hold reservation 3; a StartTransaction naming 3 uses up its station's."""
    seed.tag("TAG1")
    with station_server() as (_a, address_a), station_server() as (_b, address_b), \
            task_runner(gateway) as runner:
        register_station(gateway.sessions, "CB-A", "1.6", address_a)
        register_station(gateway.sessions, "CB-B", "1.6", address_b)
        runner.run("ReserveNow", RESERVE | {"reservationId": 3}, ["CB-A", "CB-B"], "test")
    start = ("<cs:startTransactionRequest><cs:connectorId>1</cs:connectorId>"
             "<cs:idTag>TAG1</cs:idTag><cs:timestamp>2026-03-01T10:00:00Z</cs:timestamp>"
             "<cs:meterStart>0</cs:meterStart><cs:reservationId>3</cs:reservationId>"
             "</cs:startTransactionRequest>")
    assert post(live_url, envelope("CB-B", start)).status_code == 200
    rows = reservations(gateway)
    assert (rows[("CB-A", 3)].status, rows[("CB-B", 3)].status) == ("Accepted", "Used")
    assert rows[("CB-B", 3)].transaction_pk is not None


def test_web_form_leaves_the_id_to_the_gateway(client, gateway, web_app, tmp_path):
    from conftest import make_settings
    from soapgw.core.commands.runner import TaskRunner
    from soapgw.soap_out.client import SoapSender
    settings = make_settings(gateway.settings.database_url, tmp_path, operation_timeout=5)
    runner = TaskRunner(gateway.sessions, settings, SoapSender(settings), max_workers=2)
    web_app.extensions["soapgw_task_runner"] = runner
    try:
        with station_server() as (station, address):
            register_station(gateway.sessions, "CB-WEB", "1.6", address)
            page = client.get("/operations/ReserveNow/1.6")
            assert "allocated by the gateway" in page.text
            response = submit(client, "/operations/ReserveNow/1.6", {
                "stations": "CB-WEB", "p_connectorId": "1", "p_expiryDate": "2030-01-01T10:00",
                "p_idTag": "TAG1", "p_parentIdTag": "", "p_reservationId": ""})
            assert response.status_code == 302, response.text
            task_id = int(response.headers["Location"].rsplit("/", 1)[1])
            assert runner.wait(task_id, timeout=30)
    finally:
        runner.shutdown()
    with gateway.sessions() as db:
        assert json.loads(db.get(Task, task_id).payload)["reservationId"] == 1
    assert list(reservations(gateway)) == [("CB-WEB", 1)]
    assert sent_ids(station) == [1]


def test_soapgw_call_allocates_and_prints_the_id(sqlite_url, tmp_path):
    from conftest import make_settings
    from soapgw.app import Gateway
    gateway = Gateway.from_settings(make_settings(sqlite_url, tmp_path))
    upgrade(gateway.engine)
    env = command_env(sqlite_url, SOAPGW_OPERATION_TIMEOUT="5")
    try:
        with station_server() as (_station, address):
            register_station(gateway.sessions, "CB-CLI", "1.6", address)
            runs = [soapgw_command("call", "CB-CLI", "ReserveNow", json.dumps(RESERVE), env=env)
                    for _ in range(2)]
        for run in runs:
            assert run.returncode == 0, run.stderr
        assert [json.loads(r.stdout) for r in runs] == [
            {"status": "Accepted", "reservationId": 1}, {"status": "Accepted", "reservationId": 2}]
    finally:
        gateway.engine.dispose()


# --- the migration ------------------------------------------------------------------------------
def test_migration_keeps_existing_reservations(database_url):
    """0003 -> head: each reservation's id becomes its reservation_id, its station is its
    connector's; new reservations get fresh row ids (PostgreSQL's sequence moved on)."""
    from soapgw.store.database import make_engine
    engine = make_engine(database_url)
    try:
        command.upgrade(alembic_config(engine), "0003")
        with engine.begin() as db:
            for pk, name in ((1, "CB-1"), (2, "CB-2")):
                db.execute(text("INSERT INTO charge_box (id, charge_box_id, registration_status, "
                                "endpoint_pinned, created_at) VALUES (:id, :name, 'Accepted', "
                                ":f, :at)"), {"id": pk, "name": name, "f": False,
                                              "at": datetime(2026, 1, 1)})
                db.execute(text("INSERT INTO connector (id, charge_box_pk, connector_id) "
                                "VALUES (:id, :id, 1)"), {"id": pk})
            for reservation_id, connector in ((17, 1), (42, 2)):
                db.execute(text(
                    "INSERT INTO reservation (id, connector_pk, id_tag, expiry_date, status, "
                    "created_at) VALUES (:id, :c, 'TAG', :at, 'Accepted', :at)"),
                    {"id": reservation_id, "c": connector, "at": datetime(2030, 1, 1)})
        upgrade(engine)
        with engine.begin() as db:
            rows = db.execute(text("SELECT id, reservation_id, charge_box_pk, connector_pk "
                                   "FROM reservation ORDER BY id")).all()
            assert [tuple(r) for r in rows] == [(17, 17, 1, 1), (42, 42, 2, 2)]
            db.execute(text(  # the same OCPP id on the other station, a new row id
                "INSERT INTO reservation (charge_box_pk, reservation_id, connector_pk, id_tag, "
                "expiry_date, status, created_at) VALUES (1, 42, 1, 'TAG', :at, 'Waiting', :at)"),
                {"at": datetime(2030, 1, 1)})
            new_id = db.execute(text("SELECT MAX(id) FROM reservation")).scalar()
            assert new_id > 42
        with pytest.raises(Exception):  # one id per station
            with engine.begin() as db:
                db.execute(text(
                    "INSERT INTO reservation (charge_box_pk, reservation_id, connector_pk, "
                    "id_tag, expiry_date, status, created_at) VALUES (2, 42, 2, 'TAG', :at, "
                    "'Waiting', :at)"), {"at": datetime(2030, 1, 1)})
    finally:
        engine.dispose()
