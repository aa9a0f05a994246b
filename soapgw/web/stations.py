"""Charge points: list, add (one or many), detail with edits, delete; unknown stations."""
from __future__ import annotations

from dataclasses import fields as dataclass_fields

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from sqlalchemy import Select, exists, func, select
from wtforms import BooleanField, FloatField, SelectField, StringField, TextAreaField
from wtforms.validators import Length, Optional

from flask_wtf import FlaskForm

from soapgw.core import stations
from soapgw.core import enums
from soapgw.core.errors import Invalid, NotFound
from soapgw.core.identifiers import CHARGE_BOX_ID_LENGTH
from soapgw.core.locations import StationDetails, map_link
from soapgw.timestamps import now
from soapgw.store.models import (ChargeBox, Connector, ConnectorStatus, EndpointChange,
                                 FailedStop, JournalEntry, StationQuirk, Transaction,
                                 UnknownChargeBox)
from soapgw.web import charging_profiles
from soapgw.web.dashboard import day_starts
from soapgw.web.db import db
from soapgw.web.fields import FilterForm, IdentifierList, options, show_problems
from soapgw.web.operations import configuration_of
from soapgw.core.liveness import is_online, online_cutoff
from soapgw.web.paging import paginate
from soapgw.web.queries import latest_status_id, runtime_settings

bp = Blueprint("stations", __name__, url_prefix="/chargepoints")

REGISTRATION_STATUSES = stations.REGISTRATION_STATUSES

CONNECTOR_STATUSES = enums.values(enums.ConnectorStatus)
ANY = ("", "any")


# --- forms -------------------------------------------------------------------------------------
class StationFilter(FilterForm):
    q = StringField("Id contains", validators=[Optional(), Length(max=255)])
    place = StringField("Description or city contains", validators=[Optional(), Length(max=255)])
    status = SelectField("Registration", default="", choices=options(ANY, *REGISTRATION_STATUSES))
    version = SelectField("OCPP", default="", choices=options(ANY, "1.6", "1.5", ("none", "not heard from")))
    online = SelectField("Online", default="", choices=options(ANY, ("yes", "online"), ("no", "offline")))
    heartbeat = SelectField("Last heartbeat", default="", choices=options(
        ANY, "today", "yesterday", "earlier", "never"))
    connector_status = SelectField("A connector is", default="", validate_choice=False,
                                   choices=options(ANY, *CONNECTOR_STATUSES))


class DetailsFields(FlaskForm):
    """Description, location and admin address (core.locations.StationDetails)."""

    description = TextAreaField("Description", validators=[Optional(), Length(max=4000)],
                                render_kw={"rows": 2})
    street = StringField("Street", validators=[Optional(), Length(max=255)])
    house_number = StringField("House number", validators=[Optional(), Length(max=20)])
    postal_code = StringField("Postal code", validators=[Optional(), Length(max=20)])
    city = StringField("City", validators=[Optional(), Length(max=100)])
    country = StringField("Country", validators=[Optional(), Length(max=100)])
    latitude = FloatField("Latitude", validators=[Optional()],
                          render_kw={"placeholder": "e.g. 52.520008", "inputmode": "decimal"})
    longitude = FloatField("Longitude", validators=[Optional()],
                           render_kw={"placeholder": "e.g. 13.404954", "inputmode": "decimal"})
    time_zone = StringField("Time zone", validators=[Optional(), Length(max=64)],
                            render_kw={"placeholder": "e.g. Europe/Berlin", "spellcheck": "false"})
    admin_address = StringField("Admin address (the station's own web page)",
                                validators=[Optional(), Length(max=2048)],
                                render_kw={"placeholder": "http://192.0.2.10/",
                                           "spellcheck": "false"})

    def details(self) -> StationDetails:
        return StationDetails(**{f.name: getattr(self, f.name).data
                                 for f in dataclass_fields(StationDetails)})


class AddStationsForm(DetailsFields):
    ids = IdentifierList("Charge point ids (chargeBoxIdentity), one per line",
                         what="charge point id", max_length=CHARGE_BOX_ID_LENGTH,
                         render_kw={"rows": 6, "spellcheck": "false"})
    status = SelectField("Registration status", default="Accepted",
                         choices=options(*REGISTRATION_STATUSES))
    note = TextAreaField("Note", validators=[Optional(), Length(max=4000)],
                         render_kw={"rows": 2})


class EditStationForm(FlaskForm):
    registration_status = SelectField("Registration status",
                                      choices=options(*REGISTRATION_STATUSES))
    endpoint_address = StringField(
        "Endpoint address (ChargePointService URL)",
        validators=[Optional(), Length(max=2048)],
        render_kw={"spellcheck": "false", "placeholder": "http://host:port/path"})
    unpin = BooleanField("Learn the address from the station's messages again (unpin)")
    note = TextAreaField("Note", validators=[Optional(), Length(max=4000)],
                         render_kw={"rows": 2})


class ConfirmForm(FlaskForm):
    """Only the CSRF token: for buttons that act."""


# --- list ----------------------------------------------------------------------------------------
def _contains(text: str) -> str:
    return "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def filtered_stations(form: StationFilter, interval: int) -> Select:
    query = select(ChargeBox).order_by(ChargeBox.charge_box_id)
    data = form.data
    if data["q"]:
        query = query.where(ChargeBox.charge_box_id.ilike(_contains(data["q"]), escape="\\"))
    if data["place"]:
        pattern = _contains(data["place"])
        query = query.where(ChargeBox.description.ilike(pattern, escape="\\")
                            | ChargeBox.city.ilike(pattern, escape="\\"))
    if data["status"]:
        query = query.where(ChargeBox.registration_status == data["status"])
    if data["version"] == "none":
        query = query.where(ChargeBox.ocpp_version.is_(None))
    elif data["version"]:
        query = query.where(ChargeBox.ocpp_version == data["version"])
    at = now()
    cutoff = online_cutoff(interval, at)
    if data["online"] == "yes":
        query = query.where(ChargeBox.last_message_at >= cutoff)
    elif data["online"] == "no":
        query = query.where((ChargeBox.last_message_at < cutoff)
                            | ChargeBox.last_message_at.is_(None))
    today, yesterday = day_starts(at)
    seen = ChargeBox.last_heartbeat_at
    query = query.where(*{
        "today": [seen >= today], "yesterday": [seen >= yesterday, seen < today],
        "earlier": [seen < yesterday], "never": [seen.is_(None)]}.get(data["heartbeat"], []))
    if data["connector_status"]:
        query = query.where(exists(
            select(Connector.id).join(ConnectorStatus, ConnectorStatus.id == latest_status_id())
            .where(Connector.charge_box_pk == ChargeBox.id, Connector.connector_id > 0,
                   ConnectorStatus.status == data["connector_status"])))
    return query


@bp.get("/")
def index():
    session = db()
    form = StationFilter(request.args)
    if form.connector_status.data and form.connector_status.data not in CONNECTOR_STATUSES:
        form.connector_status.choices += options(form.connector_status.data)
    form.validate()
    interval = runtime_settings(session).heartbeat_interval
    page = paginate(session, filtered_stations(form, interval), scalars=True)
    online = {s.id: is_online(s.last_message_at, interval) for s in page.items}
    return render_template("stations/list.html", form=form, page=page, online=online,
                           interval=interval)


@bp.route("/add", methods=["GET", "POST"])
def add():
    form = AddStationsForm()
    if form.validate_on_submit():
        session = db()
        try:
            registered = stations.register(session, form.ids.identifiers, form.status.data,
                                           form.details(), form.note.data)
        except Invalid as invalid:
            show_problems(form, invalid.problems, {"registration_status": "status"})
            return render_template("stations/add.html", form=form), 400
        session.commit()
        message = f"Added {len(registered.added)} charge point(s)."
        if registered.existing:
            message += f" Already registered: {', '.join(registered.existing[:20])}" + \
                       ("…" if len(registered.existing) > 20 else "") + "."
        flash(message, "success" if registered.added else "warning")
        if len(registered.added) == 1:
            return redirect(url_for(".detail", pk=stations.pk_of(session, registered.added[0])))
        return redirect(url_for(".index"))
    return render_template("stations/add.html", form=form), 400 if form.errors else 200


@bp.get("/by-id")
def by_id():
    """Links from pages that know only the chargeBoxIdentity (journal, transactions)."""
    pk = stations.pk_of(db(), request.args.get("id", ""))
    if pk is None:
        abort(404)
    return redirect(url_for(".detail", pk=pk))


# --- detail --------------------------------------------------------------------------------------
def _station_or_404(pk: int) -> ChargeBox:
    try:
        return stations.station(db(), pk)
    except NotFound:
        abort(404)


def _detail_context(station: ChargeBox, details_form: DetailsFields | None = None) -> dict:
    session = db()
    interval = runtime_settings(session).heartbeat_interval
    connectors = session.execute(
        select(Connector.id, Connector.connector_id, ConnectorStatus.status,
               ConnectorStatus.error_code, ConnectorStatus.info,
               ConnectorStatus.status_timestamp)
        .outerjoin(ConnectorStatus, ConnectorStatus.id == latest_status_id())
        .where(Connector.charge_box_pk == station.id).order_by(Connector.connector_id)).all()
    history = session.execute(
        select(Connector.connector_id, ConnectorStatus)
        .join(ConnectorStatus, ConnectorStatus.connector_pk == Connector.id)
        .where(Connector.charge_box_pk == station.id)
        .order_by(ConnectorStatus.status_timestamp.desc(), ConnectorStatus.id.desc())
        .limit(50)).all()
    active = session.execute(
        select(Transaction.id, Transaction.id_tag, Transaction.start_timestamp,
               Connector.connector_id)
        .join(Connector).where(Connector.charge_box_pk == station.id,
                               Transaction.stop_timestamp.is_(None))
        .order_by(Transaction.id.desc()).limit(20)).all()
    return dict(
        station=station, online=is_online(station.last_message_at, interval),
        interval=interval, connectors=connectors, history=history, active=active,
        quirks=session.scalars(select(StationQuirk).where(StationQuirk.charge_box_pk == station.id)
                               .order_by(StationQuirk.last_seen.desc())).all(),
        endpoint_changes=session.scalars(
            select(EndpointChange).where(EndpointChange.charge_box_pk == station.id)
            .order_by(EndpointChange.changed_at.desc(), EndpointChange.id.desc())
            .limit(10)).all(),
        failed_stops=session.scalars(
            select(FailedStop).where(FailedStop.charge_box_pk == station.id)
            .order_by(FailedStop.received_at.desc()).limit(10)).all(),
        journal=session.execute(
            select(JournalEntry.id, JournalEntry.created_at, JournalEntry.direction,
                   JournalEntry.action, JournalEntry.http_status, JournalEntry.fault_code)
            .where(JournalEntry.charge_box_id == station.charge_box_id)
            .order_by(JournalEntry.created_at.desc(), JournalEntry.id.desc())
            .limit(20)).all(),
        configuration=configuration_keys(station.id),
        **charging_profiles.station_section(session, station),
        details_form=details_form or DetailsFields(obj=station, formdata=None),
        map_link=map_link(station.latitude, station.longitude),
    )


def configuration_keys(charge_box_pk: int) -> list:
    """Configuration keys last read from the station (GetConfiguration)."""
    return configuration_of(db(), charge_box_pk)


@bp.get("/<int:pk>")
def detail(pk: int):
    station = _station_or_404(pk)
    form = EditStationForm(obj=station)
    return render_template("stations/detail.html", form=form, **_detail_context(station))


@bp.post("/<int:pk>")
def edit(pk: int):
    station = _station_or_404(pk)
    form = EditStationForm()
    if form.validate_on_submit():
        session = db()
        try:
            stations.update(session, pk, registration_status=form.registration_status.data,
                            note=form.note.data, endpoint_address=form.endpoint_address.data,
                            unpin=form.unpin.data, allowed_networks=current_app.config[
                                "SOAPGW_SETTINGS"].allowed_callback_networks)
        except Invalid as invalid:
            session.rollback()
            show_problems(form, invalid.problems)
        else:
            session.commit()
            flash(f"Saved {station.charge_box_id}.", "success")
            return redirect(url_for(".detail", pk=pk))
    return render_template("stations/detail.html", form=form,
                           **_detail_context(_station_or_404(pk))), 400


@bp.post("/<int:pk>/details")
def edit_details(pk: int):
    station = _station_or_404(pk)
    details = DetailsFields()
    if details.validate_on_submit():
        session = db()
        try:
            stations.update_details(session, pk, details.details())
        except Invalid as invalid:
            session.rollback()
            show_problems(details, invalid.problems)
        else:
            session.commit()
            flash(f"Saved the details of {station.charge_box_id}.", "success")
            return redirect(url_for(".detail", pk=pk))
    station = _station_or_404(pk)
    return render_template("stations/detail.html", form=EditStationForm(obj=station,
                                                                        formdata=None),
                           **_detail_context(station, details)), 400


@bp.route("/<int:pk>/delete", methods=["GET", "POST"])
def delete(pk: int):
    station = _station_or_404(pk)
    form = ConfirmForm()
    if form.validate_on_submit():
        charge_box_id = stations.delete_station(db(), pk)
        db().commit()
        flash(f"Deleted charge point {charge_box_id}.", "success")
        return redirect(url_for(".index"))
    transactions = db().scalar(select(func.count()).select_from(Transaction).join(Connector)
                               .where(Connector.charge_box_pk == station.id))
    return render_template("stations/delete.html", station=station, form=form,
                           transactions=transactions)


# --- unknown stations ----------------------------------------------------------------------------
@bp.get("/unknown")
def unknown():
    page = paginate(db(), select(UnknownChargeBox).order_by(UnknownChargeBox.last_seen.desc(),
                                                            UnknownChargeBox.id.desc()),
                    scalars=True)
    return render_template("stations/unknown.html", page=page, form=ConfirmForm())


def _unknown_act(act, unknown_id: int) -> str:
    if not ConfirmForm().validate_on_submit():
        abort(400)
    try:
        charge_box_id = act(db(), unknown_id)
    except NotFound:
        abort(404)
    db().commit()
    return charge_box_id


@bp.post("/unknown/<int:unknown_id>/accept")
def accept_unknown(unknown_id: int):
    charge_box_id = _unknown_act(stations.accept_unknown, unknown_id)
    flash(f"Registered {charge_box_id}: it is accepted at its next BootNotification.",
          "success")
    return redirect(url_for(".unknown"))


@bp.post("/unknown/<int:unknown_id>/dismiss")
def dismiss_unknown(unknown_id: int):
    charge_box_id = _unknown_act(stations.dismiss_unknown, unknown_id)
    flash(f"Dismissed {charge_box_id}; it shows up again if it talks to us again.")
    return redirect(url_for(".unknown"))
