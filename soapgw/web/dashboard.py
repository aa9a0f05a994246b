"""Home: the numbers an operator looks at first, each linking to the list behind it."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta

from flask import Blueprint, render_template
from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from soapgw.timestamps import now
from soapgw.store.models import (ChargeBox, Connector, ConnectorStatus, IdTag, JournalEntry,
                                 Person, Reservation, Transaction, UnknownChargeBox,
                                 UnknownIdTag)
from soapgw.web.db import db
from soapgw.core.liveness import online_cutoff
from soapgw.web.queries import latest_status_id, runtime_settings

bp = Blueprint("dashboard", __name__)

ACTIVE_RESERVATION = ("Waiting", "Accepted")
RECENT_MESSAGES = 10


@dataclass
class HeartbeatBuckets:
    today: int
    yesterday: int
    earlier: int
    never: int


def day_starts(at: datetime) -> tuple[datetime, datetime]:
    """Midnight (UTC) today and yesterday."""
    today = datetime.combine(at.date(), time(0), tzinfo=at.tzinfo)
    return today, today - timedelta(days=1)


def heartbeat_buckets(session: Session, at: datetime) -> HeartbeatBuckets:
    today, yesterday = day_starts(at)
    seen = ChargeBox.last_heartbeat_at
    row = session.execute(select(
        func.count(case((seen >= today, 1))),
        func.count(case(((seen >= yesterday) & (seen < today), 1))),
        func.count(case((seen < yesterday, 1))),
        func.count(case((seen.is_(None), 1))))).one()
    return HeartbeatBuckets(*row)


def connector_statuses(session: Session) -> list[tuple[str, int]]:
    """Connectors (not connector 0, the station itself) per current status."""
    return session.execute(
        select(ConnectorStatus.status, func.count()).select_from(Connector)
        .join(ConnectorStatus, ConnectorStatus.id == latest_status_id())
        .where(Connector.connector_id > 0)
        .group_by(ConnectorStatus.status).order_by(ConnectorStatus.status)).all()


@bp.get("/")
def index():
    session, at = db(), now()
    interval = runtime_settings(session).heartbeat_interval
    by_status = session.execute(select(ChargeBox.registration_status, func.count())
                                .group_by(ChargeBox.registration_status)
                                .order_by(ChargeBox.registration_status)).all()
    by_version = session.execute(select(ChargeBox.ocpp_version, func.count())
                                 .group_by(ChargeBox.ocpp_version)
                                 .order_by(ChargeBox.ocpp_version)).all()
    numbers = {
        "stations": sum(count for _, count in by_status),
        "online": session.scalar(select(func.count()).select_from(ChargeBox).where(
            ChargeBox.last_message_at >= online_cutoff(interval, at))),
        "tags": session.scalar(select(func.count()).select_from(IdTag)),
        "active_transactions": session.scalar(select(func.count()).select_from(Transaction)
                                              .where(Transaction.stop_timestamp.is_(None))),
        "active_reservations": session.scalar(select(func.count()).select_from(Reservation).where(
            Reservation.status.in_(ACTIVE_RESERVATION), Reservation.expiry_date > at)),
        "unknown": session.scalar(select(func.count()).select_from(UnknownChargeBox)),
        "people": session.scalar(select(func.count()).select_from(Person)),
        "unknown_tags": session.scalar(select(func.count()).select_from(UnknownIdTag)),
    }
    recent = session.execute(
        select(JournalEntry.id, JournalEntry.created_at, JournalEntry.charge_box_id,
               JournalEntry.action, JournalEntry.ocpp_version)
        .where(JournalEntry.direction == "in")
        .order_by(JournalEntry.created_at.desc(), JournalEntry.id.desc())
        .limit(RECENT_MESSAGES)).all()
    return render_template("dashboard.html", numbers=numbers, by_status=by_status,
                           by_version=by_version, heartbeats=heartbeat_buckets(session, at),
                           connectors=connector_statuses(session), recent=recent,
                           interval=interval)
