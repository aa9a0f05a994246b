"""Setting what a station must show (core.station_auth): its source networks, password,
client certificate and callback policy. One function per act, for the CLI, the web UI and an
API alike; each raises CredentialError with a readable reason."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from soapgw.core.passwords import hash_password, password_problem
from soapgw.core.station_auth import (CALLBACK_POLICIES, format_networks, parse_networks,
                                      read_networks)
from soapgw.store.models import ChargeBox

MAX_CERTIFICATE = ChargeBox.__table__.c.auth_certificate.type.length


class CredentialError(ValueError):
    """A value that cannot be stored, or an unknown station; the message says which."""


@dataclass(frozen=True)
class AccessSummary:
    charge_box_id: str
    networks: tuple
    has_password: bool
    certificate: str | None
    callback_policy: str
    last_peer_host: str | None
    refusals: int
    refused_at: datetime | None
    last_refusal: str | None


def _station(db: Session, charge_box_id: str) -> ChargeBox:
    station = db.scalars(select(ChargeBox).where(ChargeBox.charge_box_id == charge_box_id)
                         ).one_or_none()
    if station is None:
        raise CredentialError(f"no charge box {charge_box_id!r}")
    return station


def _set(db: Session, charge_box_id: str, **values) -> None:
    _station(db, charge_box_id)
    db.execute(update(ChargeBox).where(ChargeBox.charge_box_id == charge_box_id).values(**values))


def set_networks(db: Session, charge_box_id: str, items) -> tuple:
    """The station's source networks (CIDRs or addresses); none: the default ones apply."""
    try:
        networks = read_networks(items)
    except ValueError as exc:
        raise CredentialError(str(exc)) from None
    _set(db, charge_box_id, auth_networks=format_networks(networks))
    return networks


def set_password(db: Session, charge_box_id: str, password: str | None) -> None:
    """HTTP Basic password (user = chargeBoxIdentity), stored hashed; None removes it."""
    if password is not None:
        problem = password_problem(password)
        if problem:
            raise CredentialError(problem)
    _set(db, charge_box_id,
         auth_password_hash=hash_password(password) if password is not None else None)


def set_certificate(db: Session, charge_box_id: str, value: str | None) -> None:
    """The client certificate's subject DN or fingerprint, as the TLS proxy forwards it;
    None or empty removes it."""
    value = (value or "").strip() or None
    if value is not None and (len(value) > MAX_CERTIFICATE or any(ord(c) < 32 for c in value)):
        raise CredentialError(f"the certificate value must have at most {MAX_CERTIFICATE} "
                              "printable characters")
    _set(db, charge_box_id, auth_certificate=value)


def set_callback_policy(db: Session, charge_box_id: str, policy: str) -> None:
    if policy not in CALLBACK_POLICIES:
        raise CredentialError(f"callback policy {policy!r}: use follow or keep")
    _set(db, charge_box_id, callback_policy=None if policy == "follow" else policy)


def access_summary(db: Session, charge_box_id: str) -> AccessSummary:
    station = _station(db, charge_box_id)
    return summary_of(station)


def summary_of(station: ChargeBox) -> AccessSummary:
    return AccessSummary(
        charge_box_id=station.charge_box_id, networks=parse_networks(station.auth_networks),
        has_password=station.auth_password_hash is not None,
        certificate=station.auth_certificate,
        callback_policy=station.callback_policy or "follow",
        last_peer_host=station.last_peer_host, refusals=station.auth_refusals or 0,
        refused_at=station.auth_refused_at, last_refusal=station.auth_refusal)
