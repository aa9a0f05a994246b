"""What an event's e-mail says: which notification it is (``MailEvent``), its subject and body.

Pure functions of the stored event; one entry per event type in ``_KINDS`` (no chain of ifs).
"""
from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from soapgw.core.enums import EventType, MailEvent

SUBJECT_LIMIT = 300

# Event type -> (its notification, whether this event is one: a status change is only news
# when the connector went Faulted).
_KINDS: dict[str, tuple[MailEvent, Callable[[dict], bool]]] = {
    EventType.STATION_BOOTED: (MailEvent.STATION_BOOTED, lambda p: True),
    EventType.STATION_OFFLINE: (MailEvent.STATION_OFFLINE, lambda p: True),
    EventType.STATION_ONLINE: (MailEvent.STATION_ONLINE, lambda p: True),
    EventType.CONNECTOR_STATUS: (MailEvent.CONNECTOR_FAULTED, lambda p: (
        p.get("statusNotification") or {}).get("status") == "Faulted"),
    EventType.TRANSACTION_STARTED: (MailEvent.TRANSACTION_STARTED, lambda p: True),
    EventType.TRANSACTION_STOPPED: (MailEvent.TRANSACTION_STOPPED, lambda p: True),
    EventType.STATION_UNKNOWN: (MailEvent.STATION_UNKNOWN, lambda p: True),
}
EVENT_TYPES = tuple(_KINDS)  # the event types that can make a mail

LABELS = {
    MailEvent.STATION_BOOTED: "Station booted",
    MailEvent.STATION_OFFLINE: "Station went offline",
    MailEvent.STATION_ONLINE: "Station came back online",
    MailEvent.CONNECTOR_FAULTED: "Connector Faulted",
    MailEvent.TRANSACTION_STARTED: "Transaction started",
    MailEvent.TRANSACTION_STOPPED: "Transaction stopped",
    MailEvent.STATION_UNKNOWN: "Unknown station seen",
}


def mail_kind(event_type: str, payload: dict) -> MailEvent | None:
    entry = _KINDS.get(event_type)
    if entry is None or not entry[1](payload):
        return None
    return entry[0]


def _headline(kind: MailEvent, payload: dict) -> str:
    request = payload.get("request") or {}
    if kind is MailEvent.STATION_BOOTED:
        return (f"booted ({request.get('chargePointVendor', '?')} "
                f"{request.get('chargePointModel', '?')}, firmware "
                f"{request.get('firmwareVersion') or 'unknown'})")
    if kind is MailEvent.STATION_OFFLINE:
        return f"went offline (last message {payload.get('lastMessageAt') or 'never'})"
    if kind is MailEvent.STATION_ONLINE:
        return f"is back online (offline since {payload.get('offlineSince') or '?'})"
    if kind is MailEvent.CONNECTOR_FAULTED:
        status = payload.get("statusNotification") or {}
        info = f", {status['info']}" if status.get("info") else ""
        return (f"connector {status.get('connectorId', '?')} Faulted "
                f"({status.get('errorCode', '?')}{info})")
    if kind is MailEvent.TRANSACTION_STARTED:
        answer = (payload.get("response") or {})
        return (f"transaction {answer.get('transactionId', '?')} started on connector "
                f"{request.get('connectorId', '?')} by tag {request.get('idTag', '?')}")
    if kind is MailEvent.TRANSACTION_STOPPED:
        return (f"transaction {payload.get('transactionId', '?')} stopped by "
                f"{payload.get('stoppedBy', '?')} (reason {request.get('reason') or 'none'}, "
                f"meter {request.get('meterStop', '?')} Wh)")
    return (f"unknown station seen ({payload.get('action', '?')} from "
            f"{payload.get('address') or 'no address announced'})")


@dataclass(frozen=True)
class Mail:
    subject: str
    body: str


def compose(kind: MailEvent, event_id: int, created_at: datetime, charge_box_id: str | None,
            event_type: str, payload: dict) -> Mail:
    station = charge_box_id or "(no station)"
    # control characters would end the header line: never in a subject
    subject = "".join(c for c in f"[soapgw] {station}: {_headline(kind, payload)}"
                      if c >= " ")[:SUBJECT_LIMIT]
    body = "\n".join([
        f"{LABELS[kind]}: {station}",
        "",
        _headline(kind, payload).capitalize() + ".",
        "",
        f"Time (UTC): {created_at.isoformat().replace('+00:00', 'Z')}",
        f"Event: {event_type} #{event_id}",
        "",
        "Event data:",
        json.dumps(payload, indent=2, sort_keys=True, ensure_ascii=False),
        "",
        "-- ",
        "Sent by soapgw because this address chose these notifications on the Settings page.",
    ])
    return Mail(subject, body)


def trial_mail(sender: str) -> Mail:
    return Mail("[soapgw] Test mail",
                f"This is a test mail from soapgw, sent from {sender}.\n\n"
                "The SMTP settings work: notifications will reach this address.\n")
