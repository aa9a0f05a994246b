"""Rows written straight through the driver (store.types.DriverInsert) are stored as the column
types would store them whichever way they go: on SQLite, from BULK_ROWS rows on, as one JSON
array SQLite unpacks itself; below that (and on PostgreSQL) with executemany. And the
idempotency check of meter values (store.meter_keys) finds the stored readings whether it asks
for a few timestamps or for many (SQLite: a JSON array of them)."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select

from soapgw.core.messages import MeterValue, SampledValue
from soapgw.core.metering import store_new_meter_values
from soapgw.store import driver_cursor, types
from soapgw.store.models import ChargeBox, Connector, JournalEntry, MeterValueRow
from soapgw.store.types import DriverInsert

COLUMNS = ("value_timestamp", "value", "context", "measurand", "phase", "unit")
SHARED = ("connector_pk", "transaction_pk", "source")
PLUS_TWO = timezone(timedelta(hours=2))


def varied_rows(count: int) -> list[tuple]:
    """Rows with what stations send: text past the column widths, non-ASCII text, empty and
    absent values, naive and zoned times, microsecond edges."""
    texts = ["1", "", "12345.678", "ÄÖÜ €", "漢字 ✓", "x" * 80, "a'b\"c\\d", None]
    moments = [datetime(2026, 3, 1, 10, 0), datetime(2026, 3, 1, 10, 0, 0, 1),
               datetime(2026, 3, 1, 12, 0, 0, 999_999, tzinfo=PLUS_TWO),
               datetime(1, 1, 1, tzinfo=timezone.utc), datetime(9999, 12, 31, 23, 59, 59)]
    return [(moments[i % len(moments)], texts[i % len(texts)] or "0",
             texts[(i + 1) % len(texts)], texts[(i + 2) % len(texts)],
             texts[(i + 3) % len(texts)], texts[(i + 5) % len(texts)])
            for i in range(count)]


@pytest.fixture
def connectors(gateway) -> tuple[int, int]:
    with gateway.sessions.begin() as db:
        station = ChargeBox(charge_box_id="CB-DRIVER", registration_status="Accepted")
        db.add(station)
        db.flush()
        first, second = Connector(charge_box_pk=station.id, connector_id=1), \
            Connector(charge_box_pk=station.id, connector_id=2)
        db.add_all([first, second])
        db.flush()
        return first.id, second.id


def stored(gateway, connector_pk: int) -> list[tuple]:
    with gateway.sessions() as db:
        return [(r.value_timestamp, r.value, r.context, r.measurand, r.phase, r.unit,
                 r.transaction_pk, r.source)
                for r in db.scalars(select(MeterValueRow).where(
                    MeterValueRow.connector_pk == connector_pk).order_by(MeterValueRow.id))]


def test_bulk_rows_are_stored_as_rows_one_by_one(gateway, connectors, monkeypatch):
    insert = DriverInsert(MeterValueRow.__table__, COLUMNS, SHARED)
    rows = varied_rows(3 * types.BULK_ROWS // 2)
    bulk, one_by_one = connectors
    long_source = "MeterValues" + "-" * 30  # a shared text past its width is cut too
    statements = []
    on_driver = driver_cursor.on_driver

    def recorded(connection, sql, *args, **kwargs):  # the rows pass no cursor event
        statements.append(sql)
        return on_driver(connection, sql, *args, **kwargs)

    monkeypatch.setattr(driver_cursor, "on_driver", recorded)
    with gateway.engine.begin() as db:
        insert.execute(db, rows, (bulk, None, long_source))
        for row in rows:
            insert.execute(db, [row], (one_by_one, None, long_source))
    bulk_statements = [s for s in statements if "json_each" in s]
    assert len(bulk_statements) == (1 if gateway.engine.dialect.name == "sqlite" else 0)
    expected = stored(gateway, one_by_one)
    assert stored(gateway, bulk) == expected
    assert len(expected) == len(rows)
    # and the column types' rules held: widths cut, times in UTC
    assert max(len(r[2]) for r in expected if r[2]) == 40  # context: 40 at most
    assert expected[2][0] == datetime(2026, 3, 1, 10, 0, 0, 999_999, tzinfo=timezone.utc)
    assert {r[7] for r in expected} == {long_source[:20]}


def test_rows_without_a_json_form_go_through_executemany(gateway):
    """The journal's raw bytes have no JSON form: a long batch of journal rows still lands."""
    insert = DriverInsert(JournalEntry.__table__, ("created_at", "direction", "raw"))
    at = datetime(2026, 3, 1, tzinfo=timezone.utc)
    rows = [(at, "in", f"<x>{i}</x>".encode()) for i in range(types.BULK_ROWS + 5)]
    with gateway.engine.begin() as db:
        insert.execute(db, rows)
    with gateway.sessions() as db:
        raws = db.scalars(select(JournalEntry.raw).order_by(JournalEntry.id)).all()
    assert raws == [row[2] for row in rows]


def test_a_wrong_number_of_shared_values_is_a_programming_error(gateway):
    insert = DriverInsert(MeterValueRow.__table__, COLUMNS, SHARED)
    with gateway.engine.begin() as db, pytest.raises(ValueError):
        insert.execute(db, varied_rows(1), (1, None))


def readings(start: datetime, count: int) -> list[MeterValue]:
    return [MeterValue(timestamp=start + timedelta(minutes=i),
                       sampled_value=[SampledValue(value=str(i), measurand=measurand)
                                      for measurand in ("Energy.Active.Import.Register",
                                                        "Power.Active.Import")])
            for i in range(count)]


@pytest.mark.parametrize("count", [3, 60])  # a few timestamps, many
def test_resent_readings_are_found_with_few_or_many_timestamps(gateway, connectors, count):
    connector, _ = connectors
    start = datetime(2026, 3, 1, 10, 0, 0, 250_000, tzinfo=timezone.utc)
    first = readings(start, count)
    with gateway.engine.begin() as db:
        assert store_new_meter_values(db, connector, None, first) == (2 * count, 0)
    with gateway.engine.begin() as db:  # the same again: all found
        assert store_new_meter_values(db, connector, None, first) == (0, 2 * count)
    overlapping = readings(start + timedelta(minutes=count // 2), count)
    with gateway.engine.begin() as db:
        new = 2 * (count // 2)
        assert store_new_meter_values(db, connector, None, overlapping) == (
            new, 2 * count - new)
    assert len(stored(gateway, connector)) == 2 * count + new
