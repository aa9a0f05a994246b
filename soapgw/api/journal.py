"""The message journal, read-only: every SOAP message in and out, filtered."""
from __future__ import annotations

from spectree import Response
from sqlalchemy import select

from soapgw.api.db import db
from soapgw.api.paging import keyset, page
from soapgw.api.present import iso, link
from soapgw.api.problems import ApiProblem
from soapgw.api.routing import route
from soapgw.api.schemas import JournalDetail, JournalPage, JournalQuery
from soapgw.store.models import JournalEntry

TAG = "journal"
_E = JournalEntry
COLUMNS = (_E.id, _E.created_at, _E.charge_box_id, _E.direction, _E.action, _E.message_id,
           _E.relates_to, _E.ocpp_version, _E.soap_version, _E.http_status, _E.duration_ms,
           _E.peer, _E.fault_code)


def view(row) -> dict:
    return {"id": row.id, "createdAt": iso(row.created_at), "chargeBoxId": row.charge_box_id,
            "direction": row.direction, "action": row.action, "messageId": row.message_id,
            "relatesTo": row.relates_to, "ocppVersion": row.ocpp_version,
            "soapVersion": row.soap_version, "httpStatus": row.http_status,
            "durationMs": row.duration_ms, "peer": row.peer, "faultCode": row.fault_code,
            "links": {"self": link("get_journal_entry", entry_id=row.id)}}


@route("GET", "/journal", tag=TAG, query=JournalQuery, resp=Response(HTTP_200=JournalPage))
def list_journal(query: JournalQuery):
    """Journal entries, newest first; by station, action, direction and period (the
    message itself: the entry's own URL)."""
    statement = select(*COLUMNS)
    if query.station:
        statement = statement.where(_E.charge_box_id == query.station)
    if query.action:
        statement = statement.where(_E.action == query.action)
    if query.direction:
        statement = statement.where(_E.direction == query.direction)
    if query.since:
        statement = statement.where(_E.created_at >= query.since)
    if query.before:
        statement = statement.where(_E.created_at < query.before)
    rows, cursor = keyset(db(), statement, _E.id, query.limit, query.cursor)
    return page([view(row) for row in rows], cursor)


@route("GET", "/journal/<int(max=9223372036854775807):entry_id>", tag=TAG,
       resp=Response(HTTP_200=JournalDetail, HTTP_404=None))
def get_journal_entry(entry_id: int):
    """One entry with the message as sent."""
    row = db().execute(select(*COLUMNS, _E.raw).where(_E.id == entry_id)).one_or_none()
    if row is None:
        raise ApiProblem(404, f"no journal entry {entry_id}")
    return {**view(row), "raw": bytes(row.raw).decode("utf-8", "replace")}
