"""Checks a command passes before a task is created, for edges that refuse at once (the
API answers 404/422 instead of creating a task whose every result is a failure).

The runner checks all of it again for each station when it sends (state may change
meanwhile); here nothing is written.
"""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from soapgw.core import ocppj
from soapgw.core.commands.errors import TaskError
from soapgw.core.commands.operations import ALL, canonical, unsupported_reason
from soapgw.core.errors import Invalid, NotFound
from soapgw.store.database import Db
from soapgw.store.models import ChargeBox


@dataclass(frozen=True)
class Checked:
    operation: str  # the proper name
    payload: dict  # fractions as Decimal, as the runner wants it


def payload_problems(operation: str, payload) -> dict[str, str]:
    """Schema breaches by field path (``payload.csChargingProfiles.stackLevel``)."""
    problems = {}
    for text in ocppj.validate(operation, payload):
        where, sep, message = text.partition(": ")
        key = "payload." + where.replace("/", ".") if sep else "payload"
        problems[key] = message if sep else text
    return problems


def preflight(db: Db, sender, operation: str, payload, charge_box_ids: list[str]) -> Checked:
    """The checked command; ``NotFound`` for an unknown operation, ``Invalid`` naming each
    field (``payload.<path>``, ``chargeBoxIds[i]``) that stops it."""
    name = canonical(operation)
    if name is None:
        raise NotFound(f"no operation {operation!r}: use one of {', '.join(ALL)}")
    if not isinstance(payload, dict):
        raise Invalid({"payload": "must be a JSON object"})
    # A ReserveNow may leave reservationId out: the runner allocates one at submit, as for
    # the web form and soapgw call (core.commands.reservation_ids); the rest is checked.
    allocated = name == "ReserveNow" and "reservationId" not in payload
    checked = {**payload, "reservationId": 1} if allocated else payload
    if problems := payload_problems(name, checked):
        raise Invalid(problems)
    payload = ocppj.require_valid(name, checked)
    if allocated:
        del payload["reservationId"]
    versions = dict(db.execute(select(ChargeBox.charge_box_id, ChargeBox.ocpp_version)
                               .where(ChargeBox.charge_box_id.in_(charge_box_ids))).all())
    problems = {}
    for index, charge_box_id in enumerate(charge_box_ids):
        field = f"chargeBoxIds[{index}]"
        if charge_box_id not in versions:
            problems[field] = f"{charge_box_id!r} is not a registered charge point"
        elif reason := unsupported_reason(name, versions[charge_box_id]):
            problems[field] = f"{charge_box_id}: {reason}"
        else:
            try:
                sender.check(versions[charge_box_id], name, payload)
            except TaskError as error:
                problems[field] = f"{charge_box_id}: {error.reason}"
    if problems:
        raise Invalid(problems)
    return Checked(name, payload)
