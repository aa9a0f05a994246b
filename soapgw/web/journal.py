"""The message journal: search by station, action, direction and period; one message."""
from __future__ import annotations

from flask import Blueprint, abort, render_template, request
from sqlalchemy import select
from wtforms import SelectField, StringField
from wtforms.validators import Length, Optional

from soapgw.store.models import JournalEntry
from soapgw.web.db import db
from soapgw.web.fields import (FilterForm, UtcDateTimeField, date_range_problem, options,
                               period_conditions)
from soapgw.web.paging import paginate
from soapgw.web.xmlview import pretty

bp = Blueprint("journal", __name__, url_prefix="/journal")

ACTIONS = ("Authorize", "BootNotification", "DataTransfer", "DiagnosticsStatusNotification",
           "FirmwareStatusNotification", "Heartbeat", "MeterValues", "StartTransaction",
           "StatusNotification", "StopTransaction")
# The list shows metadata only: the raw message can be large.
LIST_COLUMNS = (JournalEntry.id, JournalEntry.created_at, JournalEntry.charge_box_id,
                JournalEntry.direction, JournalEntry.action, JournalEntry.ocpp_version,
                JournalEntry.soap_version, JournalEntry.http_status, JournalEntry.duration_ms,
                JournalEntry.fault_code, JournalEntry.peer)
PAIR_DISTANCE = 50  # a request and its reply are written in one commit, next to each other


class JournalFilter(FilterForm):
    station = StringField("Charge point", validators=[Optional(), Length(max=255)])
    action = StringField("Action", validators=[Optional(), Length(max=80)],
                         render_kw={"list": "actions", "placeholder": "e.g. Heartbeat"})
    direction = SelectField("Direction", default="", choices=options(("", "any"), ("in", "received"),
                                                   ("out", "sent")))
    since = UtcDateTimeField("From", render_kw={"type": "datetime-local"})
    until = UtcDateTimeField("Until", render_kw={"type": "datetime-local"})


@bp.get("/")
def index():
    form = JournalFilter(request.args)
    if form.validate():
        date_range_problem(form.since, form.until)
    data = form.data
    query = select(*LIST_COLUMNS)
    if data["station"]:
        query = query.where(JournalEntry.charge_box_id == data["station"].strip())
    if data["action"]:
        action = data["action"].strip()
        # "Heartbeat" finds the request and its reply ("HeartbeatResponse").
        query = query.where(JournalEntry.action.in_((action, action + "Response")))
    if data["direction"]:
        query = query.where(JournalEntry.direction == data["direction"])
    query = query.where(*period_conditions(JournalEntry.created_at, form.since, form.until))
    # No total: the journal is the biggest table there is, and counting it is slow.
    page = paginate(db(), query.order_by(JournalEntry.created_at.desc(), JournalEntry.id.desc()),
                    count=False)
    return render_template("journal/list.html", form=form, page=page, actions=ACTIONS)


@bp.get("/<int:entry_id>")
def detail(entry_id: int):
    session = db()
    entry = session.get(JournalEntry, entry_id)
    if entry is None:
        abort(404)
    pair = None
    key = (JournalEntry.relates_to == entry.message_id if entry.message_id
           else JournalEntry.message_id == entry.relates_to if entry.relates_to else None)
    if key is not None:
        pair = session.execute(
            select(JournalEntry.id, JournalEntry.direction, JournalEntry.action,
                   JournalEntry.duration_ms)
            .where(JournalEntry.id.between(entry.id - PAIR_DISTANCE, entry.id + PAIR_DISTANCE),
                   JournalEntry.id != entry.id, key)
            .order_by(JournalEntry.id).limit(1)).one_or_none()
    return render_template("journal/detail.html", entry=entry, pair=pair,
                           message=pretty(entry.raw), size=len(entry.raw or b""))
