"""Suggestions for the operation forms' fields (HTML datalists): the connectors known for the
chosen stations, the tag table, the configuration keys the stations reported, their active
transactions and reservations. A suggestion never restricts: any value may still be typed.

Read-only queries, each bounded (a datalist of 100,000 options helps nobody)."""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable

from sqlalchemy import select
from sqlalchemy.orm import Session

from soapgw.core.enums import ACTIVE_RESERVATION_STATES
from soapgw.store.models import (ChargeBox, ConfigurationKey, Connector, IdTag, Reservation,
                                 Transaction)
from soapgw.timestamps import now, utc

LIMIT = 500
NARROWED_UP_TO = 200  # stations named per suggestion, for the page to narrow by (operations.js)
Options = list[tuple[str, str, tuple[str, ...]]]  # (value, what it is, the stations it is of:
#                                                  empty, of every station)


def _of(stations: list[str]) -> tuple[str, ...]:
    return tuple(stations) if len(stations) <= NARROWED_UP_TO else ()


def _on(stations: list[str]) -> str:
    return ", ".join(stations) if len(stations) <= 3 else f"on {len(stations)} stations"


def connectors(db: Session, stations: list[str]) -> Options:
    """Connector ids (from 1) the stations have mentioned, with the stations that have them."""
    having: dict[int, list[str]] = defaultdict(list)
    for station, connector_id in db.execute(
            select(ChargeBox.charge_box_id, Connector.connector_id)
            .join(Connector, Connector.charge_box_pk == ChargeBox.id)
            .where(ChargeBox.charge_box_id.in_(stations), Connector.connector_id > 0)
            .order_by(Connector.connector_id, ChargeBox.charge_box_id).limit(LIMIT * 10)):
        having[connector_id].append(station)
    return [(str(c), f"connector {c} ({_on(s)})", _of(s))
            for c, s in sorted(having.items())][:LIMIT]


def tags(db: Session, stations: list[str]) -> Options:
    at = now()
    found = []
    for id_tag, blocked, expiry, parent in db.execute(
            select(IdTag.id_tag, IdTag.blocked, IdTag.expiry_date, IdTag.parent_id_tag)
            .order_by(IdTag.id_tag).limit(LIMIT)):
        if blocked:
            what = "blocked"
        elif expiry is not None and utc(expiry) < at:
            what = f"expired {utc(expiry):%Y-%m-%d}"
        else:
            what = "valid" + (f" until {utc(expiry):%Y-%m-%d}" if expiry else "")
        found.append((id_tag, what + (f", parent {parent}" if parent else ""), ()))
    return found


def configuration_keys(db: Session, stations: list[str]) -> Options:
    """Keys the stations reported (GetConfiguration); the value when one station is chosen."""
    seen: dict[str, list] = defaultdict(list)
    for key, value, readonly, station in db.execute(
            select(ConfigurationKey.key, ConfigurationKey.value, ConfigurationKey.readonly,
                   ChargeBox.charge_box_id)
            .join(ChargeBox, ChargeBox.id == ConfigurationKey.charge_box_pk)
            .where(ChargeBox.charge_box_id.in_(stations))
            .order_by(ConfigurationKey.key).limit(LIMIT * 10)):
        seen[key].append((value, readonly, station))
    found = []
    for key, rows in list(seen.items())[:LIMIT]:
        if len(rows) == 1:
            value, readonly, station = rows[0]
            what = f"{station}: {value if value is not None else '–'}"
        else:
            what, readonly = _on([r[2] for r in rows]), rows[0][1]
        found.append((key, what + (" (read-only)" if readonly else ""),
                      _of([r[2] for r in rows])))
    return found


def transactions(db: Session, stations: list[str]) -> Options:
    """The stations' transactions under way, newest first."""
    return [(str(tx_id), f"{station} connector {connector_id}, tag {id_tag}, since "
                         f"{utc(start):%Y-%m-%d %H:%M}", (station,))
            for tx_id, station, connector_id, id_tag, start in db.execute(
                select(Transaction.id, ChargeBox.charge_box_id, Connector.connector_id,
                       Transaction.id_tag, Transaction.start_timestamp)
                .join(Connector, Connector.id == Transaction.connector_pk)
                .join(ChargeBox, ChargeBox.id == Connector.charge_box_pk)
                .where(ChargeBox.charge_box_id.in_(stations),
                       Transaction.stop_timestamp.is_(None))
                .order_by(Transaction.id.desc()).limit(LIMIT))]


def reservations(db: Session, stations: list[str]) -> Options:
    """The stations' reservations waiting or accepted (to cancel one)."""
    return [(str(reservation_id), f"{station} connector {connector_id}, tag {id_tag}, "
                                  f"until {utc(expiry):%Y-%m-%d %H:%M} ({status})", (station,))
            for reservation_id, station, connector_id, id_tag, expiry, status in db.execute(
                select(Reservation.reservation_id, ChargeBox.charge_box_id,
                       Connector.connector_id, Reservation.id_tag, Reservation.expiry_date,
                       Reservation.status)
                .join(ChargeBox, ChargeBox.id == Reservation.charge_box_pk)
                .join(Connector, Connector.id == Reservation.connector_pk)
                .where(ChargeBox.charge_box_id.in_(stations),
                       Reservation.status.in_([s.value for s in ACTIVE_RESERVATION_STATES]))
                .order_by(Reservation.expiry_date).limit(LIMIT))]


PICKERS: dict[str, Callable[[Session, list[str]], Options]] = {
    "connectors": connectors, "tags": tags, "keys": configuration_keys,
    "transactions": transactions, "reservations": reservations}
