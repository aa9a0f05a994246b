#!/usr/bin/env python3
"""Median render time of the web UI's list pages and dashboard on a big database.

    SOAPGW_DATABASE_URL=sqlite:////tmp/ui.db .venv/bin/python benchmarks/seed_ui.py
    SOAPGW_DATABASE_URL=sqlite:////tmp/ui.db .venv/bin/python benchmarks/ui_pages.py

Pages are rendered in process through Flask's test client (signed in, as a browser would be):
the time covers routing, every SQL query and the template, not the network. Each page is
loaded once to warm up, then --loads times; the median is reported against the target.
"""
from __future__ import annotations

import argparse
import os
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import func, select  # noqa: E402

from soapgw.config import Settings  # noqa: E402
from soapgw.store.database import make_engine, make_session_factory  # noqa: E402
from soapgw.store.migrate import upgrade  # noqa: E402
from soapgw.core.commands.runner import TaskRunner  # noqa: E402
from soapgw.core.events import EventPublisher  # noqa: E402
from soapgw.soap_out.client import SoapSender  # noqa: E402
from soapgw.store.models import (AdminUser, ChargeBox, IdTag, Person,  # noqa: E402
                                 StoredChargingProfile, Transaction)
from soapgw.web import create_web_app  # noqa: E402
from soapgw.web.security import hash_password  # noqa: E402

TARGET_MS = 300
USER, PASSWORD = "ui-benchmark", "ui-benchmark-password"


def pages(station_pk: int, station_id: str, transaction_id: int, tag: str,
          profile_pk: int | None, person_pk: int) -> list[tuple[str, str]]:
    profile_pages = [
        ("charging profiles", "/charging-profiles/"),
        ("charging profiles, page 10", "/charging-profiles/?page=10"),
        ("charging profiles, purpose", "/charging-profiles/?purpose=TxProfile"),
        ("charging profiles, search", "/charging-profiles/?q=cap+9"),
        ("charging profile edit", f"/charging-profiles/{profile_pk}"),
        ("charging profile send", f"/charging-profiles/{profile_pk}/send"),
        ("local list form", "/local-list/"),
        ("operation form (SetChargingProfile)", "/operations/SetChargingProfile/1.6"),
    ] if profile_pk else []
    return profile_pages + [
        ("dashboard", "/"),
        ("charge points", "/chargepoints/"),
        ("charge points, page 10", "/chargepoints/?page=10"),
        ("charge points, online", "/chargepoints/?online=yes"),
        ("charge points, connector Charging", "/chargepoints/?connector_status=Charging"),
        ("charge points, heartbeat today", "/chargepoints/?heartbeat=today"),
        ("unknown stations", "/chargepoints/unknown"),
        ("charge point detail", f"/chargepoints/{station_pk}"),
        ("charge points, city contains", "/chargepoints/?place=hamb"),
        ("users", "/people/"),
        ("users, page 100", "/people/?page=100"),
        ("users, search 'schmidt1'", "/people/?q=schmidt1"),
        ("users, search by tag '00042'", "/people/?q=00042"),
        ("user detail", f"/people/{person_pk}"),
        ("tags, of a user", f"/tags/?person_id={person_pk}"),
        ("tags, user contains 'anna'", "/tags/?person=anna"),
        ("transactions, of a user", f"/transactions/?person_id={person_pk}"),
        ("transactions, user contains 'anna'", "/transactions/?person=anna"),
        ("unknown tags", "/tags/unknown/"),
        ("tags", "/tags/"),
        ("tags, in transaction", "/tags/?active=yes"),
        ("tags, not in transaction", "/tags/?active=no"),
        ("tags, expired", "/tags/?expired=yes"),
        ("tags, contains '99'", "/tags/?q=99"),
        ("transactions", "/transactions/"),
        ("transactions, page 1000", "/transactions/?page=1000"),
        ("transactions, active", "/transactions/?state=active"),
        ("transactions, finished", "/transactions/?state=finished"),
        ("transactions, station", f"/transactions/?station={station_id}"),
        ("transactions, tag", f"/transactions/?tag={tag}"),
        ("transactions, period", "/transactions/?start_from=2000-01-01&start_to=2100-01-01"),
        ("transaction detail", f"/transactions/{transaction_id}"),
        ("reservations", "/reservations/"),
        ("reservations, active", "/reservations/?state=active"),
        ("reservations, status Used", "/reservations/?status=Used"),
        ("journal", "/journal/"),
        ("journal, station", f"/journal/?station={station_id}"),
        ("journal, action", "/journal/?action=StopTransaction"),
        ("journal, received", "/journal/?direction=in"),
        ("settings", "/settings"),
        ("operations and tasks", "/operations/"),
        ("operation form (Reset 1.6)", "/operations/Reset/1.6"),
    ]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--loads", type=int, default=7, help="timed loads per page")
    args = parser.parse_args()
    url = os.environ.get("SOAPGW_DATABASE_URL")
    if not url:
        print("ui_pages: set SOAPGW_DATABASE_URL (seed it with benchmarks/seed_ui.py)",
              file=sys.stderr)
        return 2
    engine = make_engine(url)
    upgrade(engine)
    sessions = make_session_factory(engine)
    with sessions.begin() as db:
        if db.scalar(select(AdminUser.id).where(AdminUser.username == USER)) is None:
            db.add(AdminUser(username=USER, password_hash=hash_password(PASSWORD)))
        station_pk, station_id = db.execute(select(ChargeBox.id, ChargeBox.charge_box_id)
                                            .order_by(ChargeBox.id).limit(1)).one()
        transaction_id, tag = db.execute(select(Transaction.id, Transaction.id_tag).order_by(
            Transaction.id.desc()).limit(1)).one()
        person_pk = db.scalar(select(IdTag.person_id).where(IdTag.id_tag == tag)) or \
            db.scalar(select(Person.id).order_by(Person.id).limit(1)) or 0
        counts = {model.__tablename__: db.scalar(select(func.count()).select_from(model))
                  for model in (ChargeBox, Transaction, StoredChargingProfile, Person)}
        profile_pk = db.scalar(select(func.min(StoredChargingProfile.id)))
    print(f"database: {engine.dialect.name}, {counts['charge_box']:,} stations, "
          f"{counts['transaction']:,} transactions, "
          f"{counts['stored_charging_profile']:,} stored charging profiles, "
          f"{counts['person']:,} people")

    with tempfile.TemporaryDirectory() as instance:
        settings = Settings(database_url=url, instance_path=Path(instance))
        runner = TaskRunner(sessions, settings, SoapSender(settings), max_workers=1)
        app = create_web_app(settings, sessions, runner, EventPublisher())
        client = app.test_client()
        token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"',
                          client.get("/login").text).group(1)
        response = client.post("/login", data={"username": USER, "password": PASSWORD,
                                                "csrf_token": token})
        if response.status_code != 302:
            print("ui_pages: could not sign in", file=sys.stderr)
            return 1
        slow = 0
        print(f"{'page':<36} {'median ms':>10} {'max ms':>8}  status")
        for name, path in pages(station_pk, station_id, transaction_id, tag, profile_pk,
                                person_pk):
            response = client.get(path)  # warm-up: templates compiled, caches filled
            timings = []
            for _ in range(args.loads):
                started = time.perf_counter()
                response = client.get(path)
                timings.append((time.perf_counter() - started) * 1000)
            median = statistics.median(timings)
            verdict = "ok" if median < TARGET_MS and response.status_code == 200 else "SLOW"
            if response.status_code != 200:
                verdict = f"HTTP {response.status_code}"
            slow += verdict != "ok"
            print(f"{name:<36} {median:>10.1f} {max(timings):>8.1f}  {verdict}")
        gateway.task_runner.shutdown()
        gateway.engine.dispose()
    engine.dispose()
    print(f"target: median under {TARGET_MS} ms; {slow} page(s) missed it")
    return 1 if slow else 0


if __name__ == "__main__":
    sys.exit(main())
