"""Reservations: filtered by station, tag, status, active or expiry period."""
from __future__ import annotations

from flask import Blueprint, render_template, request
from sqlalchemy import func, select
from wtforms import SelectField, StringField
from wtforms.validators import Length, Optional

from soapgw.core.enums import ReservationState, values
from soapgw.timestamps import now
from soapgw.store.models import ChargeBox, Connector, Reservation
from soapgw.web.db import db
from soapgw.web.fields import (FilterForm, UtcDateTimeField, date_range_problem, options,
                               period_conditions)
from soapgw.web.paging import paginate

bp = Blueprint("reservations", __name__, url_prefix="/reservations")

STATUSES = values(ReservationState)
ACTIVE = (ReservationState.waiting.value, ReservationState.accepted.value)


class ReservationFilter(FilterForm):
    station = StringField("Charge point", validators=[Optional(), Length(max=255)])
    tag = StringField("Id tag", validators=[Optional(), Length(max=255)])
    status = SelectField("Status", default="", choices=options(("", "any"), *STATUSES),
                         validate_choice=False)
    state = SelectField("Period", default="", choices=options(("", "any time"), ("active", "active now")))
    expiry_from = UtcDateTimeField("Expiring from", render_kw={"type": "datetime-local"})
    expiry_to = UtcDateTimeField("Expiring before", render_kw={"type": "datetime-local"})


@bp.get("/")
def index():
    form = ReservationFilter(request.args)
    if form.validate():
        date_range_problem(form.expiry_from, form.expiry_to)
    data = form.data
    conditions = []
    if data["station"]:
        conditions.append(ChargeBox.charge_box_id == data["station"].strip())
    if data["tag"]:
        tag = data["tag"].strip()
        conditions.append((Reservation.id_tag == tag) | (Reservation.parent_id_tag == tag))
    if data["status"]:
        conditions.append(Reservation.status == data["status"])
    if data["state"] == "active":
        conditions += [Reservation.status.in_(ACTIVE), Reservation.expiry_date > now()]
    conditions += period_conditions(Reservation.expiry_date, form.expiry_from, form.expiry_to)
    joined = (select(Reservation.reservation_id, Reservation.id_tag, Reservation.parent_id_tag,
                     Reservation.expiry_date, Reservation.status, Reservation.transaction_pk,
                     Reservation.created_at, Connector.connector_id, ChargeBox.charge_box_id,
                     ChargeBox.id.label("station_pk"))
              .join(Connector, Reservation.connector_pk == Connector.id)
              .join(ChargeBox, Reservation.charge_box_pk == ChargeBox.id).where(*conditions))
    count = (select(func.count()).select_from(Reservation)
             .join(Connector, Reservation.connector_pk == Connector.id)
             .join(ChargeBox, Reservation.charge_box_pk == ChargeBox.id).where(*conditions))
    page = paginate(db(), joined.order_by(Reservation.id.desc()), count_query=count)
    return render_template("reservations/list.html", form=form, page=page, at=now())
