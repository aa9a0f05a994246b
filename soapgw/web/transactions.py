"""Transactions: filtered list, CSV export, detail with meter values and chart, manual stop."""
from __future__ import annotations

import csv
import io
from collections.abc import Iterator

from flask import (Blueprint, Response, abort, current_app, flash, redirect, render_template,
                   request, stream_with_context, url_for)
from flask_wtf import FlaskForm
from sqlalchemy import Select, func, select
from wtforms import IntegerField, SelectField, StringField
from wtforms.validators import InputRequired, Length, NumberRange, Optional
from wtforms.widgets import HiddenInput

from soapgw.core import people
from soapgw.core.enums import Reason, values
from soapgw.core.errors import Invalid
from soapgw.core.transactions import operator_stop, transaction_conditions
from soapgw.timestamps import now
from soapgw.store.models import (ChargeBox, Connector, FailedStop, MeterValueRow, Person,
                                 Transaction)
from soapgw.web.charts import Sample, svg_chart, transaction_series
from soapgw.web.db import db
from soapgw.web.fields import (FilterForm, UtcDateTimeField, date_range_problem, options,
                               show_problems)
from soapgw.web.paging import paginate

bp = Blueprint("transactions", __name__, url_prefix="/transactions")

METER_ROWS_SHOWN = 2000
STOP_REASONS = ("Other", *sorted(set(values(Reason)) - {"Other"}))


class TransactionFilter(FilterForm):
    station = StringField("Charge point", validators=[Optional(), Length(max=255)])
    tag = StringField("Id tag", validators=[Optional(), Length(max=255)])
    person = StringField("User contains", validators=[Optional(), Length(max=255)])
    person_id = IntegerField(validators=[Optional()], widget=HiddenInput())
    state = SelectField("State", default="", choices=options(("", "any"), "active", "finished"))
    start_from = UtcDateTimeField("Started from", render_kw={"type": "datetime-local"})
    start_to = UtcDateTimeField("Started before", render_kw={"type": "datetime-local"})


class StopForm(FlaskForm):
    stop_timestamp = UtcDateTimeField("Stop time (UTC)",
                                      validators=[InputRequired("Enter the stop time.")],
                                      render_kw={"type": "datetime-local"})
    meter_stop = IntegerField("Meter at stop (Wh)",
                              validators=[InputRequired("Enter the meter value in Wh."),
                                          NumberRange(0, 2 ** 62, "Not a meter value.")])
    reason = SelectField("Reason", choices=options(*STOP_REASONS), default="Other")


# --- list and CSV --------------------------------------------------------------------------------
COLUMNS = (Transaction.id, Transaction.id_tag, Transaction.start_timestamp,
           Transaction.meter_start, Transaction.stop_timestamp, Transaction.meter_stop,
           Transaction.stop_reason, Transaction.stopped_by, Connector.connector_id,
           ChargeBox.charge_box_id, ChargeBox.id.label("station_pk"))


def _conditions(form: TransactionFilter, person_tags) -> tuple[list, bool]:
    """WHERE conditions, and whether they need the station join."""
    data = form.data
    active = {"active": True, "finished": False}.get(data["state"])
    return (transaction_conditions(data["station"], data["tag"], active, form.start_from.value,
                                   form.start_to.value, person_tags), bool(data["station"]))


def _queries(form: TransactionFilter) -> tuple[Select, Select]:
    person = form.person_id.data, form.person.data
    # A user filter: the page's rows go by the id tags as a subquery (SQLite walks the newest
    # transactions and stops at the page's end), the count by the tags read once into a list
    # (an index look-up per tag on both databases).
    conditions, needs_station = _conditions(form, people.tags_of_people(*person))
    counted, _ = _conditions(form, people.resolved_tags(db(), *person)
                             if any(person) else None)
    rows = (select(*COLUMNS).join(Connector, Transaction.connector_pk == Connector.id)
            .join(ChargeBox, Connector.charge_box_pk == ChargeBox.id)
            .where(*conditions).order_by(Transaction.id.desc()))
    count = select(func.count()).select_from(Transaction)
    if needs_station:  # the joins only matter for counting when the station filters
        count = (count.join(Connector, Transaction.connector_pk == Connector.id)
                 .join(ChargeBox, Connector.charge_box_pk == ChargeBox.id))
    return rows, count.where(*counted)


def _filter_form() -> TransactionFilter:
    form = TransactionFilter(request.args)
    if form.validate():
        date_range_problem(form.start_from, form.start_to)
    return form


@bp.get("/")
def index():
    form = _filter_form()
    rows, count = _queries(form)
    session = db()
    page = paginate(session, rows, count_query=count)
    chosen = session.get(Person, form.person_id.data) if form.person_id.data else None
    return render_template("transactions/list.html", form=form, page=page, chosen=chosen,
                           holders=people.holders(session, [t.id_tag for t in page.items]),
                           csv_args=request.args.to_dict(flat=True) | {"page": None})


def _cell(value) -> str:
    """Defuse spreadsheet formulas: a tag like '=cmd|...' must stay text."""
    text = "" if value is None else (value.isoformat() if hasattr(value, "isoformat")
                                     else str(value))
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


@bp.get("/export.csv")
def export_csv():
    form = _filter_form()
    rows, _ = _queries(form)
    session = db()

    def generate() -> Iterator[str]:
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow(["transaction_id", "charge_box_id", "connector_id", "id_tag",
                         "start_timestamp", "meter_start_wh", "stop_timestamp", "meter_stop_wh",
                         "energy_wh", "stop_reason", "stopped_by"])
        try:
            for row in session.execute(rows.execution_options(yield_per=2000)):
                energy = (row.meter_stop - row.meter_start) if row.meter_stop is not None \
                    else None
                writer.writerow([row.id, _cell(row.charge_box_id), row.connector_id,
                                 _cell(row.id_tag), _cell(row.start_timestamp), row.meter_start,
                                 _cell(row.stop_timestamp), _cell(row.meter_stop),
                                 _cell(energy), _cell(row.stop_reason), _cell(row.stopped_by)])
                if buffer.tell() > 64 * 1024:
                    yield buffer.getvalue()
                    buffer.seek(0)
                    buffer.truncate()
            yield buffer.getvalue()
        finally:
            # Done (or the client went away): release the connection and its cursor now,
            # not whenever the server gets round to closing the response.
            session.close()

    filename = f"transactions-{now():%Y%m%d-%H%M%S}.csv"
    return Response(stream_with_context(generate()), mimetype="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="{filename}"'})


# --- detail, chart, stop -------------------------------------------------------------------------
def _transaction_or_404(transaction_id: int):
    row = db().execute(select(Transaction, Connector.connector_id, ChargeBox.charge_box_id,
                              ChargeBox.id.label("station_pk"))
                       .join(Connector, Transaction.connector_pk == Connector.id)
                       .join(ChargeBox, Connector.charge_box_pk == ChargeBox.id)
                       .where(Transaction.id == transaction_id)).one_or_none()
    if row is None:
        abort(404)
    return row


def _samples(transaction_id: int) -> list[MeterValueRow]:
    return db().scalars(select(MeterValueRow).where(MeterValueRow.transaction_pk == transaction_id)
                        .order_by(MeterValueRow.value_timestamp, MeterValueRow.id)).all()


def _chart(row, samples) -> tuple:
    t = row.Transaction
    energy, power = transaction_series(
        [Sample(s.value_timestamp, s.value, s.measurand, s.phase, s.unit, s.location, s.format)
         for s in samples], t.start_timestamp, t.meter_start, t.stop_timestamp, t.meter_stop)
    title = f"Transaction {t.id} at {row.charge_box_id}, connector {row.connector_id}"
    return svg_chart(energy, power, title), energy


def _render_detail(row, stop_form: StopForm, status: int = 200):
    t = row.Transaction
    samples = _samples(t.id)
    chart, energy = _chart(row, samples)
    failed = db().scalars(select(FailedStop).where(FailedStop.transaction_id == t.id,
                                                   FailedStop.charge_box_pk == row.station_pk)
                          .order_by(FailedStop.received_at.desc()).limit(20)).all()
    return render_template("transactions/detail.html", row=row, t=t, samples=samples,
                           shown=samples[:METER_ROWS_SHOWN], chart=chart,
                           stop_form=stop_form, failed=failed,
                           holder=people.holders(db(), [t.id_tag]).get(t.id_tag)), status


@bp.get("/<int:transaction_id>")
def detail(transaction_id: int):
    row = _transaction_or_404(transaction_id)
    form = StopForm()
    if row.Transaction.stop_timestamp is None:
        _, energy = _chart(row, _samples(transaction_id))
        latest = energy.points[-1][1] if energy.points else 0
        form.stop_timestamp.data = now().strftime("%Y-%m-%dT%H:%M")
        form.meter_stop.data = row.Transaction.meter_start + round(latest * 1000)
    return _render_detail(row, form)


@bp.get("/<int:transaction_id>/chart.svg")
def chart_svg(transaction_id: int):
    row = _transaction_or_404(transaction_id)
    chart, _ = _chart(row, _samples(transaction_id))
    svg = '<?xml version="1.0" encoding="UTF-8"?>\n' + str(chart) if chart else \
        '<svg xmlns="http://www.w3.org/2000/svg" width="1" height="1"/>'
    return Response(svg, mimetype="image/svg+xml")


@bp.post("/<int:transaction_id>/stop")
def stop(transaction_id: int):
    """For a transaction whose StopTransaction will never come (station replaced, lost data)."""
    row = _transaction_or_404(transaction_id)
    form = StopForm()
    if not form.validate_on_submit():
        return _render_detail(row, form, 400)
    session = db()
    try:
        stopped = operator_stop(session, transaction_id, form.stop_timestamp.value,
                                form.meter_stop.data, form.reason.data,
                                current_app.extensions["soapgw_events"])
    except Invalid as invalid:
        session.rollback()
        show_problems(form, invalid.problems, {"stop_timestamp": "stop_timestamp"})
        return _render_detail(_transaction_or_404(transaction_id), form, 400)
    session.commit()
    if stopped:
        flash(f"Transaction {transaction_id} stopped.", "success")
    else:
        flash(f"Transaction {transaction_id} was already stopped.", "warning")
    return redirect(url_for(".detail", transaction_id=transaction_id))
