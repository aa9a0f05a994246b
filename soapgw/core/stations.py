"""Charge boxes as operators manage them: register, change, delete; accept or dismiss unknown
stations. One function per act, called alike by the web UI, the CLI and the API.

Each function runs in the caller's transaction (the caller commits) and raises ``Invalid``
(with the field at fault) or ``NotFound`` instead of writing anything when it refuses.
"""
from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from soapgw.core.commands import guard
from soapgw.core.enums import RegistrationStatus, values
from soapgw.core.errors import Invalid, NotFound
from soapgw.core.identifiers import CHARGE_BOX_ID_LENGTH, check_identifiers
from soapgw.core.locations import StationDetails
from soapgw.store.models import ChargeBox, EndpointChange, UnknownChargeBox
from soapgw.store.upsert import insert_for
from soapgw.timestamps import now

REGISTRATION_STATUSES = values(RegistrationStatus)


@dataclass(frozen=True)
class Registered:
    added: list[str]
    existing: list[str]


def _status(value: str) -> str:
    if value not in REGISTRATION_STATUSES:
        raise Invalid({"registration_status": f"{value!r} is not one of "
                                              f"{', '.join(REGISTRATION_STATUSES)}"})
    return value


def register(db: Session, charge_box_ids: list[str], status: str = "Accepted",
             details: StationDetails | None = None, note: str | None = None) -> Registered:
    """Register stations by chargeBoxIdentity (hundreds at once: one statement, safe against
    a concurrent auto-registration); they leave the unknown-stations list. ``details``
    (description, location ...) and ``note`` go to every station added."""
    ids = check_identifiers("ids", charge_box_ids, "charge point id", CHARGE_BOX_ID_LENGTH)
    status = _status(status)
    columns = details.columns() if details is not None else {}
    columns["note"] = _note(note)
    existing = set(db.scalars(select(ChargeBox.charge_box_id)
                              .where(ChargeBox.charge_box_id.in_(ids))))
    new = [i for i in ids if i not in existing]
    if new:
        db.execute(insert_for(db, ChargeBox).values(
            [{"charge_box_id": i, "registration_status": status, "created_at": now(),
              **columns} for i in new]).on_conflict_do_nothing())
        db.execute(delete(UnknownChargeBox).where(UnknownChargeBox.charge_box_id.in_(new)))
    return Registered(new, sorted(existing))


def _note(note: str | None) -> str | None:
    note = (note or "").strip() or None
    if note is not None and len(note) > 4000:
        raise Invalid({"note": "at most 4000 characters"})
    return note


def station(db: Session, pk: int) -> ChargeBox:
    found = db.get(ChargeBox, pk)
    if found is None:
        raise NotFound(f"no charge point {pk}")
    return found


def pk_of(db: Session, charge_box_id: str) -> int | None:
    return db.scalar(select(ChargeBox.id).where(ChargeBox.charge_box_id == charge_box_id))


def _endpoint_problem(value: str) -> str | None:
    try:
        parts = urlsplit(value)
        parts.port  # noqa: B018  (raises on a bad port)
    except ValueError:
        return "not a URL"
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return "use an http:// or https:// URL with a host, e.g. http://192.0.2.10:8080/ocpp"
    return None


def update(db: Session, pk: int, *, registration_status: str, note: str | None,
           endpoint_address: str | None, unpin: bool = False,
           allowed_networks: tuple = ()) -> ChargeBox:
    """Change what an operator may change. An address set here is pinned: it wins over what
    the station announces, until ``unpin``. A changed address is judged at once (the operator
    sees whether commands may go there)."""
    found = station(db, pk)
    address = (endpoint_address or "").strip() or None
    if address is not None and (problem := _endpoint_problem(address)):
        raise Invalid({"endpoint_address": problem})
    found.registration_status = _status(registration_status)
    found.note = _note(note)
    if unpin:
        found.endpoint_pinned = False
    elif address != found.endpoint_address:
        found.endpoint_address = address
        found.endpoint_source = "admin" if address else None
        found.endpoint_pinned = address is not None
        db.add(EndpointChange(charge_box_pk=found.id, address=address, source="admin",
                              changed_at=now()))
    else:
        return found
    db.flush()
    verdict = None if not found.endpoint_address else guard.judge(
        found.endpoint_address, pinned=found.endpoint_pinned,
        peer_host=found.endpoint_peer_host, allowed_networks=allowed_networks)
    guard.record_verdict(db, found.id, verdict)
    db.refresh(found)
    return found


def update_details(db: Session, pk: int, details: StationDetails) -> ChargeBox:
    """Set a station's description, location and admin address (all of them)."""
    found = station(db, pk)
    for name, value in details.columns().items():
        setattr(found, name, value)
    return found


def delete_station(db: Session, pk: int) -> str:
    """Delete a station; the database cascades to its connectors, transactions, meter values
    and the rest. Returns its chargeBoxIdentity."""
    found = station(db, pk)
    db.execute(delete(ChargeBox).where(ChargeBox.id == found.id))
    return found.charge_box_id


def _unknown(db: Session, unknown_id: int) -> UnknownChargeBox:
    found = db.get(UnknownChargeBox, unknown_id)
    if found is None:
        raise NotFound(f"no unknown station {unknown_id}")
    return found


def accept_unknown(db: Session, unknown_id: int) -> str:
    """Register an unknown station as Accepted (it is accepted at its next message)."""
    found = _unknown(db, unknown_id)
    register(db, [found.charge_box_id], "Accepted")
    return found.charge_box_id


def dismiss_unknown(db: Session, unknown_id: int) -> str:
    """Forget an unknown station; it shows up again if it talks to us again."""
    found = _unknown(db, unknown_id)
    db.delete(found)
    return found.charge_box_id
