"""A statement run straight through the driver (store.driver_query.DriverQuery) writes and
returns exactly what SQLAlchemy's execution of the same statement does, on SQLite and
PostgreSQL: the station gate's UPDATE ... RETURNING over stations with every kind of value,
and the driver's errors come out as SQLAlchemy's."""
from __future__ import annotations

from dataclasses import fields
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import bindparam, insert, select, update
from sqlalchemy.exc import IntegrityError, MultipleResultsFound, NoResultFound

from soapgw.core.registration import Station
from soapgw.store.driver_query import DriverQuery
from soapgw.store.models import ChargeBox, StationQuirk
from soapgw.store.upsert import upsert

PLUS_TWO = timezone(timedelta(hours=2))
_TABLE = ChargeBox.__table__
_COLUMNS = [_TABLE.c[f.name] for f in fields(Station)]  # what the gate's statement returns

TOUCH = (update(_TABLE).where(_TABLE.c.charge_box_id == bindparam("b_id"))
         .values(last_message_at=bindparam("b_at"), last_heartbeat_at=bindparam("b_at"),
                 ocpp_version=bindparam("b_version"))
         .returning(*_COLUMNS))

STATIONS = [  # (charge box id, columns): absent values, booleans, times, long and odd text
    ("CB-PLAIN", {"registration_status": "Accepted"}),
    ("CB-FULL", {"registration_status": "Pending", "endpoint_address": "http://10.0.0.5:8080/",
                 "endpoint_source": "from", "endpoint_pinned": True,
                 "endpoint_peer_host": "10.0.0.5", "endpoint_verdict": "allowed",
                 "endpoint_verdict_reason": "ÄÖÜ € 漢字 ✓ a'b\"c\\d " * 20,
                 "offline_since": datetime(2026, 3, 1, 12, 0, 0, 999_999, tzinfo=PLUS_TWO),
                 "auth_networks": "10.0.0.0/8,192.168.1.0/24",
                 "auth_password_hash": "scrypt$" + "a" * 60, "auth_certificate": "CN=x",
                 "callback_policy": "pinned", "last_peer_host": "10.0.0.5"}),
    ("CB-EDGE", {"registration_status": "Rejected", "endpoint_pinned": False,
                 "offline_since": datetime(1, 1, 1, tzinfo=timezone.utc)}),
]
MOMENTS = [datetime(2026, 12, 5, 10, 0, tzinfo=timezone.utc),
           datetime(2026, 12, 5, 12, 0, 0, 1, tzinfo=PLUS_TWO),
           datetime(2026, 12, 5, 10, 0)]  # naive: taken as UTC, as UtcDateTime does


def stored(db, charge_box_id: str) -> tuple:
    """The station's row but its key, name and creation time (the copies differ in these)."""
    return tuple(db.execute(select(*(column for column in _TABLE.c if column.name not in (
        "id", "charge_box_id", "created_at"))).where(
        _TABLE.c.charge_box_id == charge_box_id)).one())


def seed(gateway, suffix: str) -> None:
    with gateway.sessions.begin() as db:
        db.add_all(ChargeBox(charge_box_id=name + suffix, **columns)
                   for name, columns in STATIONS)


def test_returns_and_writes_what_sqlalchemy_does(gateway):
    seed(gateway, "-A")
    seed(gateway, "-B")
    query = DriverQuery(TOUCH)
    for moment in MOMENTS:
        for name, _columns in STATIONS:
            values = {"b_at": moment, "b_version": "1.6"}
            with gateway.engine.begin() as db:
                expected = db.execute(TOUCH, {**values, "b_id": name + "-A"}).all()
                got = query.rows(db, {**values, "b_id": name + "-B"})
            assert len(got) == 1 and len(expected) == 1
            # the same types and values, the key and the name apart
            assert [type(v) for v in got[0]] == [type(v) for v in expected[0]]
            assert got[0][2:] == tuple(expected[0])[2:]
            assert got[0][1] == name + "-B"
            with gateway.sessions() as db:  # and the same row stored
                assert stored(db, name + "-B") == stored(db, name + "-A")
    with gateway.sessions() as db:
        row = db.execute(select(_TABLE.c.last_message_at, _TABLE.c.offline_since).where(
            _TABLE.c.charge_box_id == "CB-FULL-B")).one()
    # the last moment was naive: stored as UTC; the offline time read back in UTC
    assert row.last_message_at == datetime(2026, 12, 5, 10, 0, tzinfo=timezone.utc)
    assert row.offline_since == datetime(2026, 3, 1, 10, 0, 0, 999_999, tzinfo=timezone.utc)


def test_no_row_and_at_most_one(gateway):
    seed(gateway, "")
    query = DriverQuery(TOUCH)
    anyone = DriverQuery(update(_TABLE).where(_TABLE.c.registration_status != bindparam("b_s"))
                         .values(ocpp_version="1.5").returning(_TABLE.c.charge_box_id))
    with gateway.engine.begin() as db:
        assert query.one_or_none(db, {"b_id": "CB-NONE", "b_at": MOMENTS[0],
                                      "b_version": "1.6"}) is None
        assert query.one_or_none(db, {"b_id": "CB-PLAIN", "b_at": MOMENTS[0],
                                      "b_version": "1.6"})[1] == "CB-PLAIN"
        with pytest.raises(MultipleResultsFound, match="3 rows where at most one"):
            anyone.one_or_none(db, {"b_s": "none of them"})
        # the statement's own value (ocpp_version="1.5") was bound and written
        assert set(db.scalars(select(_TABLE.c.ocpp_version))) == {"1.5"}
        with pytest.raises(NoResultFound):
            query.one(db, {"b_id": "CB-NONE", "b_at": MOMENTS[0], "b_version": "1.6"})
        row = query.one(db, {"b_id": "CB-FULL", "b_at": MOMENTS[0], "b_version": "1.6"})
        assert (row.charge_box_id, row.endpoint_pinned, row.auth_networks) == (
            "CB-FULL", True, "10.0.0.0/8,192.168.1.0/24")  # named as the columns


def test_a_session_runs_it_in_its_own_transaction(gateway):
    seed(gateway, "")
    query = DriverQuery(TOUCH)
    with gateway.sessions() as db:
        row = query.one_or_none(db, {"b_id": "CB-PLAIN", "b_at": MOMENTS[0], "b_version": "1.5"})
        db.rollback()
    assert row[1] == "CB-PLAIN"
    with gateway.sessions() as db:  # rolled back with the session
        assert db.scalar(select(_TABLE.c.ocpp_version).where(
            _TABLE.c.charge_box_id == "CB-PLAIN")) is None


def test_a_connection_begins_as_with_execute(gateway):
    """On a connection not yet in a transaction the statement begins one, as execute() does:
    what it wrote goes with the caller's rollback."""
    seed(gateway, "")
    query = DriverQuery(TOUCH)
    with gateway.engine.connect() as db:
        assert not db.in_transaction()
        query.one(db, {"b_id": "CB-PLAIN", "b_at": MOMENTS[0], "b_version": "1.5"})
        assert db.in_transaction()
        db.rollback()
        assert db.scalar(select(_TABLE.c.ocpp_version).where(
            _TABLE.c.charge_box_id == "CB-PLAIN")) is None


def test_driver_errors_are_raised_as_sqlalchemy_errors(gateway):
    seed(gateway, "")
    rename = DriverQuery(update(_TABLE).where(_TABLE.c.charge_box_id == bindparam("b_from"))
                         .values(charge_box_id=bindparam("b_to")).returning(_TABLE.c.id))
    with gateway.engine.connect() as db:
        with pytest.raises(IntegrityError) as raised:  # the name is taken
            with db.begin():
                rename.rows(db, {"b_from": "CB-PLAIN", "b_to": "CB-FULL"})
        assert "CB-FULL" in str(raised.value.params)
        with db.begin():  # the connection goes on
            assert len(rename.rows(db, {"b_from": "CB-PLAIN", "b_to": "CB-NEW"})) == 1
        with pytest.raises(ValueError, match="no value for the parameter 'b_to'"):
            rename.rows(db, {"b_from": "CB-NEW"})


def test_python_side_defaults_are_refused(gateway):
    """SQLAlchemy fills ``default=``/``onupdate=`` columns at each execution; a statement
    compiled once cannot, so it is refused rather than run with a stale or missing value."""
    new_station = DriverQuery(insert(_TABLE).values(
        charge_box_id=bindparam("b_id"), registration_status="Accepted").returning(_TABLE.c.id))
    with pytest.raises(TypeError, match="Python-side defaults .*endpoint_pinned.*created_at"):
        with gateway.engine.begin() as db:
            new_station.rows(db, {"b_id": "CB-NEW"})


def test_a_select_with_its_own_literals_and_order(gateway):
    """Literals the statement holds itself (LIMIT 1, a status) are bound as SQLAlchemy binds
    them; the rows come back in the statement's order."""
    seed(gateway, "")
    latest = select(_TABLE.c.charge_box_id, _TABLE.c.offline_since).where(
        _TABLE.c.registration_status != "Gone", _TABLE.c.id > bindparam("b_after")).order_by(
        _TABLE.c.charge_box_id.desc()).limit(2)
    with gateway.engine.connect() as db:
        expected = [tuple(row) for row in db.execute(latest, {"b_after": 0})]
        got = DriverQuery(latest).rows(db, {"b_after": 0})
    assert got == expected == [("CB-PLAIN", None), ("CB-FULL", datetime(
        2026, 3, 1, 10, 0, 0, 999_999, tzinfo=timezone.utc))]


def test_an_upsert_built_per_dialect_runs_many_parameter_sets(gateway):
    """A statement built for the dialect in use (ON CONFLICT: SQLite's and PostgreSQL's own
    insert) with ``execute_many``: one executemany, each set upserted as SQLAlchemy would."""
    seed(gateway, "")
    quirks = StationQuirk.__table__
    upserted = upsert(quirks, keys=["charge_box_pk", "code"],
                      values=dict(charge_box_pk=bindparam("b_station"), code=bindparam("b_code"),
                                  detail=bindparam("b_detail"), count=1,
                                  first_seen=bindparam("b_at"), last_seen=bindparam("b_at")),
                      update=lambda new: {"count": quirks.c.count + 1, "detail": new.detail,
                                          "last_seen": new.last_seen})
    query = DriverQuery(build=upserted)
    with gateway.engine.begin() as db:
        station = db.scalar(select(_TABLE.c.id).where(_TABLE.c.charge_box_id == "CB-PLAIN"))
        for moment, detail in ((MOMENTS[0], "first"), (MOMENTS[1], "ÄÖÜ € second")):
            query.execute_many(db, [{"b_station": station, "b_code": code, "b_detail": detail,
                                     "b_at": moment} for code in ("a", "b")])
        query.execute_many(db, [{"b_station": station, "b_code": "c", "b_detail": "only",
                                 "b_at": MOMENTS[2]}])
        rows = db.execute(select(quirks.c.code, quirks.c.count, quirks.c.detail,
                                 quirks.c.first_seen, quirks.c.last_seen)
                          .order_by(quirks.c.code)).all()
    second = datetime(2026, 12, 5, 10, 0, 0, 1, tzinfo=timezone.utc)
    assert [tuple(row) for row in rows] == [
        ("a", 2, "ÄÖÜ € second", MOMENTS[0], second),
        ("b", 2, "ÄÖÜ € second", MOMENTS[0], second),
        ("c", 1, "only", MOMENTS[0], MOMENTS[0])]  # the naive moment stored as UTC


def test_either_a_statement_or_a_build_function():
    with pytest.raises(TypeError, match="a statement or a build function"):
        DriverQuery()
    with pytest.raises(TypeError, match="a statement or a build function"):
        DriverQuery(TOUCH, build=lambda db: TOUCH)


def test_execute_many_refuses_a_statement_that_returns_rows(gateway):
    seed(gateway, "")
    with gateway.engine.begin() as db, pytest.raises(TypeError, match="return no rows"):
        DriverQuery(TOUCH).execute_many(db, [{"b_id": "CB-PLAIN", "b_at": MOMENTS[0],
                                               "b_version": "1.6"}])
