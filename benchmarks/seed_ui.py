#!/usr/bin/env python3
"""Seed a big database for the web UI benchmark (benchmarks/ui_pages.py).

    SOAPGW_DATABASE_URL=sqlite:////tmp/ui.db .venv/bin/python benchmarks/seed_ui.py
    SOAPGW_DATABASE_URL=postgresql://postgres@127.0.0.1:5432/test .venv/bin/python \
        benchmarks/seed_ui.py --scale 0.1

Default sizes: 1,000 stations (3 connectors each, counting connector 0, with a status log),
10,000 tags, 10,000 people (users; most hold one tag), 100,000 transactions, 1,000,000
meter values, 5,000 reservations, 100,000 journal entries, 50 unknown stations, 50 unknown
tags. The database is migrated first and must hold no
stations. Rows go in as multi-row INSERT statements straight through the driver (hundreds of
rows per statement) with explicit primary keys, so no row is read back.
"""
from __future__ import annotations

import argparse
import json
import os
import random
import sys
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import func, select, text  # noqa: E402

from soapgw.store.database import make_engine  # noqa: E402
from soapgw.store.migrate import upgrade  # noqa: E402
from soapgw.store.models import ChargeBox  # noqa: E402

ROWS_PER_STATEMENT = 500
CITIES = ["Berlin", "Hamburg", "München", "Köln", "Frankfurt", "Leipzig", "Dresden", "Bremen"]
FIRST_NAMES = ["Anna", "Ben", "Clara", "David", "Emma", "Felix", "Greta", "Hannes", "Ida",
               "Jonas", "Karla", "Lukas", "Mia", "Noah", "Olga", "Paul"]
LAST_NAMES = ["Müller", "Schmidt", "Schneider", "Fischer", "Weber", "Meyer", "Wagner",
              "Becker", "Schulz", "Hoffmann", "Koch", "Richter"]
CONNECTOR_STATUSES = ["Available"] * 6 + ["Charging"] * 3 + ["Preparing", "SuspendedEV",
                                                            "Finishing", "Faulted",
                                                            "Unavailable"]


class Writer:
    """Multi-row INSERTs through the DBAPI cursor, with the dialect's date format."""

    def __init__(self, dialect: str, cursor):
        self.sqlite = dialect == "sqlite"
        self.mark = "?" if self.sqlite else "%s"
        self.cursor = cursor

    def value(self, item):
        if isinstance(item, datetime):
            # SQLAlchemy keeps SQLite datetimes as naive UTC text with microseconds.
            return item.strftime("%Y-%m-%d %H:%M:%S.%f") if self.sqlite else item
        return item

    def insert(self, table: str, columns: list[str], rows) -> int:
        quoted = ", ".join(f'"{c}"' for c in columns)
        one = "(" + ", ".join([self.mark] * len(columns)) + ")"
        count, batch = 0, []

        def flush():
            if batch:
                sql = f'INSERT INTO "{table}" ({quoted}) VALUES ' + ", ".join([one] * len(batch))
                self.cursor.execute(sql, [self.value(v) for row in batch for v in row])
                batch.clear()

        for row in rows:
            batch.append(row)
            count += 1
            if len(batch) >= ROWS_PER_STATEMENT:
                flush()
        flush()
        return count


def seed(url: str, scale: float, rng: random.Random) -> None:
    engine = make_engine(url)
    upgrade(engine)
    now = datetime.now(timezone.utc).replace(microsecond=0)
    n_stations = max(10, int(1000 * scale))
    n_tags = max(20, int(10_000 * scale))
    n_people = max(20, int(10_000 * scale))
    n_transactions = max(100, int(100_000 * scale))
    n_journal = max(100, int(100_000 * scale))
    n_reservations = max(10, int(5_000 * scale))
    n_profiles = max(20, int(1_000 * scale))
    samples_per_transaction = 5  # 5 timestamps x (energy, power) = 10 meter values

    with engine.connect() as connection:
        if connection.scalar(select(func.count()).select_from(ChargeBox)):
            sys.exit("seed_ui: the database already has stations; use an empty one")
    raw = engine.raw_connection()
    try:
        writer = Writer(engine.dialect.name, raw.cursor())
        if writer.sqlite:
            writer.cursor.execute("BEGIN IMMEDIATE")
        timer = time.perf_counter()

        def step(name: str, count: int) -> None:
            print(f"  {name:<20} {count:>9,} rows  {time.perf_counter() - timer:6.1f} s",
                  flush=True)

        def stations():
            for i in range(1, n_stations + 1):
                status = "Accepted" if i % 10 else ("Pending" if i % 20 else "Rejected")
                version = "1.6" if i % 3 else "1.5"
                heard = None if i % 50 == 0 else now - timedelta(seconds=rng.randint(0, 4 * 86400))
                yield (i, f"CP-{i:05d}", status, version, "SOAP", "1.2", "Vendor", f"Model {i % 7}",
                       f"http://10.{i // 250}.{i % 250}.1:8080/ocpp", "wsa:From", False,
                       heard, heard, now - timedelta(days=400), f"Car park {i % 40}, bay {i}",
                       CITIES[i % len(CITIES)], 47 + (i % 700) / 100, 6 + (i % 900) / 100,
                       "Europe/Berlin")
        step("charge_box", writer.insert("charge_box", [
            "id", "charge_box_id", "registration_status", "ocpp_version", "ocpp_transport",
            "soap_version", "vendor", "model", "endpoint_address", "endpoint_source",
            "endpoint_pinned", "last_heartbeat_at", "last_message_at", "created_at",
            "description", "city", "latitude", "longitude", "time_zone"],
            stations()))

        connectors_per_station = 3  # 0 (the station), 1 and 2
        step("connector", writer.insert("connector", ["id", "charge_box_pk", "connector_id"], (
            ((s - 1) * connectors_per_station + c + 1, s, c)
            for s in range(1, n_stations + 1) for c in range(connectors_per_station))))
        n_connectors = n_stations * connectors_per_station

        def statuses():
            row_id = 0
            for connector in range(1, n_connectors + 1):
                at = now - timedelta(days=10)
                for _ in range(5):
                    row_id += 1
                    at += timedelta(minutes=rng.randint(10, 2000))
                    yield (row_id, connector, rng.choice(CONNECTOR_STATUSES), "NoError", at, at)
        step("connector_status", writer.insert("connector_status", [
            "id", "connector_pk", "status", "error_code", "status_timestamp", "received_at"],
            statuses()))

        def people():
            for i in range(1, n_people + 1):
                first, last = FIRST_NAMES[i % len(FIRST_NAMES)], LAST_NAMES[i % len(LAST_NAMES)]
                yield (i, first, f"{last}{i}", f"{first.lower()}.{last.lower()}{i}@example.org",
                       f"+49 30 {i:07d}", CITIES[i % len(CITIES)], now - timedelta(days=400),
                       now - timedelta(days=400))
        step("person", writer.insert("person", [
            "id", "first_name", "last_name", "email", "phone", "city", "created_at",
            "updated_at"], people()))

        def tags():
            for i in range(1, n_tags + 1):
                expiry = now + timedelta(days=rng.randint(-100, 700)) if i % 4 == 0 else None
                parent = f"TAG{(i // 10) + 1:06d}" if i % 10 == 0 and i > 10 else None
                # most tags have a holder; some people hold two (tag i and tag i + n/2)
                holder = ((i - 1) % n_people) + 1 if i % 10 else None
                yield (i, f"TAG{i:06d}", parent, expiry, 1 if i % 5 else 0, i % 97 == 0,
                       "seeded" if i % 13 == 0 else None, now - timedelta(days=500), holder)
        step("id_tag", writer.insert("id_tag", [
            "id", "id_tag", "parent_id_tag", "expiry_date", "max_active_transactions",
            "blocked", "note", "created_at", "person_id"], tags()))

        # Transactions in time order across the last year; the newest ones are still active.
        span = timedelta(days=365).total_seconds()
        active_from = n_transactions - max(1, n_transactions // 200)
        starts = sorted(now - timedelta(seconds=rng.uniform(3600, span))
                        for _ in range(n_transactions))
        plans = []
        for i, start in enumerate(starts, 1):
            connector = rng.randint(1, n_stations) * connectors_per_station - rng.randint(0, 1)
            minutes = rng.randint(20, 180)
            meter_start = rng.randint(0, 5_000_000)
            energy = rng.randint(2_000, 40_000)
            active = i > active_from
            plans.append((i, connector, start, minutes, meter_start, energy, active))

        def transactions():
            for i, connector, start, minutes, meter_start, energy, active in plans:
                stop = None if active else start + timedelta(minutes=minutes)
                yield (i, connector, f"TAG{rng.randint(1, n_tags):06d}", start, meter_start,
                       "Accepted", stop, None if active else meter_start + energy,
                       None if active else "Local", None if active else "station", start, stop)
        step("transaction", writer.insert("transaction", [
            "id", "connector_pk", "id_tag", "start_timestamp", "meter_start", "start_status",
            "stop_timestamp", "meter_stop", "stop_reason", "stopped_by",
            "started_received_at", "stopped_received_at"], transactions()))

        def meter_values():
            row_id = 0
            for i, connector, start, minutes, meter_start, energy, _ in plans:
                for k in range(1, samples_per_transaction + 1):
                    at = start + timedelta(minutes=minutes * k / (samples_per_transaction + 1))
                    register = meter_start + energy * k // (samples_per_transaction + 1)
                    power = rng.randint(3000, 11000)
                    row_id += 1
                    yield (row_id, connector, i, at, str(register), "Sample.Periodic",
                           "Energy.Active.Import.Register", "Wh", "MeterValues")
                    row_id += 1
                    yield (row_id, connector, i, at, str(power), "Sample.Periodic",
                           "Power.Active.Import", "W", "MeterValues")
        step("meter_value", writer.insert("meter_value", [
            "id", "connector_pk", "transaction_pk", "value_timestamp", "value", "context",
            "measurand", "unit", "source"], meter_values()))

        def reservations():
            for i in range(1, n_reservations + 1):
                status = rng.choice(["Accepted", "Used", "Cancelled", "Expired", "Waiting"])
                expiry = now + timedelta(minutes=rng.randint(-100_000, 600))
                station = rng.randint(1, n_stations)  # its connector 2
                yield (i, station, i, station * connectors_per_station,
                       f"TAG{rng.randint(1, n_tags):06d}", expiry, status,
                       expiry - timedelta(hours=1))
        step("reservation", writer.insert("reservation", [
            "id", "charge_box_pk", "reservation_id", "connector_pk", "id_tag", "expiry_date",
            "status", "created_at"],
            reservations()))

        def journal():
            actions = ["Heartbeat"] * 6 + ["StatusNotification", "MeterValues", "Authorize",
                                           "StartTransaction", "StopTransaction"]
            at = now - timedelta(days=20)
            step_seconds = timedelta(days=20).total_seconds() / n_journal
            for i in range(1, n_journal + 1, 2):
                at += timedelta(seconds=step_seconds * 2)
                station = f"CP-{rng.randint(1, n_stations):05d}"
                action = rng.choice(actions)
                body = (f'<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope">'
                        f'<s:Header><chargeBoxIdentity xmlns="urn://Ocpp/Cs/2015/10/">{station}'
                        f'</chargeBoxIdentity></s:Header><s:Body><{action[0].lower()}'
                        f'{action[1:]}Request xmlns="urn://Ocpp/Cs/2015/10/"/></s:Body>'
                        f'</s:Envelope>').encode()
                message_id = f"urn:uuid:seed-{i}"
                yield (i, at, station, "in", action, message_id, None, "1.6", "1.2", None,
                       None, "10.0.0.1", None, body)
                yield (i + 1, at, station, "out", action + "Response", None, message_id,
                       "1.6", "1.2", 200, 3.2, "10.0.0.1", None, body)
        step("journal", writer.insert("journal", [
            "id", "created_at", "charge_box_id", "direction", "action", "message_id",
            "relates_to", "ocpp_version", "soap_version", "http_status", "duration_ms", "peer",
            "fault_code", "raw"], journal()))

        step("unknown_charge_box", writer.insert("unknown_charge_box", [
            "id", "charge_box_id", "first_seen", "last_seen", "attempts", "last_action"],
            ((i, f"STRANGER-{i:03d}", now - timedelta(days=i), now - timedelta(hours=i), i,
              "BootNotification") for i in range(1, 51))))
        step("unknown_id_tag", writer.insert("unknown_id_tag", [
            "id", "id_tag", "first_seen", "last_seen", "count", "last_action",
            "last_charge_box_id"],
            ((i, f"UNKNOWN{i:04d}", now - timedelta(days=i), now - timedelta(hours=i), i,
              "Authorize", f"CP-{i:05d}") for i in range(1, 51))))

        purposes = ("TxDefaultProfile", "TxProfile", "ChargePointMaxProfile")

        def stored_profiles():
            for i in range(1, n_profiles + 1):
                periods = json.dumps([{"startPeriod": p * 900, "limit": str(32 - p)}
                                      for p in range(1 + i % 6)])
                yield (i, i, f"Evening cap {i}", i % 5, purposes[i % 3], "Absolute", "A",
                       now - timedelta(hours=i % 24), periods, now, now)
        step("stored_charging_profile", writer.insert("stored_charging_profile", [
            "id", "charging_profile_id", "description", "stack_level", "purpose", "kind",
            "charging_rate_unit", "start_schedule", "periods", "created_at", "updated_at"],
            stored_profiles()))

        def installed_profiles():  # profile i on connector 1 of station i (1.6 ones)
            for i in range(1, min(n_profiles, n_stations) + 1):
                if i % 3:
                    yield (i, i, 1, i, i % 5, purposes[i % 3], "Absolute",
                           json.dumps({"chargingProfileId": i}), now)
        step("installed_charging_profile", writer.insert("installed_charging_profile", [
            "id", "charge_box_pk", "connector_id", "charging_profile_id", "stack_level",
            "purpose", "kind", "profile", "installed_at"], installed_profiles()))

        if not writer.sqlite:  # explicit ids: move the sequences past them
            for table in ("charge_box", "connector", "connector_status", "id_tag",
                          "transaction", "meter_value", "reservation", "journal",
                          "unknown_charge_box", "stored_charging_profile",
                          "installed_charging_profile", "person", "unknown_id_tag"):
                writer.cursor.execute(
                    f"SELECT setval(pg_get_serial_sequence('\"{table}\"', 'id'), "
                    f"(SELECT max(id) FROM \"{table}\"))")
        raw.commit()
        step("committed", 0)
    finally:
        raw.close()
    with engine.begin() as connection:  # fresh planner statistics for the benchmark
        connection.execute(text("ANALYZE"))
    engine.dispose()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scale", type=float, default=1.0,
                        help="multiply every size (0.1 for a quick run)")
    parser.add_argument("--seed", type=int, default=5, help="random seed")
    args = parser.parse_args()
    url = os.environ.get("SOAPGW_DATABASE_URL")
    if not url:
        print("seed_ui: set SOAPGW_DATABASE_URL to the database to fill", file=sys.stderr)
        return 2
    print(f"seeding {url} at scale {args.scale}")
    seed(url, args.scale, random.Random(args.seed))
    return 0


if __name__ == "__main__":
    sys.exit(main())
