"""Charge points: list, add (one or many), detail with edits, delete; unknown stations."""
from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from sqlalchemy import Select, delete as sql_delete, exists, func, select
from wtforms import BooleanField, SelectField, StringField, TextAreaField
from wtforms.validators import Length, Optional, ValidationError

from flask_wtf import FlaskForm

from soapgw.core.commands.callback_policy import judge_callback, resolve
from soapgw.core.timestamps import now
from soapgw.store.models import (ChargeBox, Connector, ConnectorStatus, EndpointChange,
                                 FailedStop, JournalEntry, StationQuirk, Transaction,
                                 UnknownChargeBox)
from soapgw.store.upsert import insert_for
from soapgw.web.dashboard import day_starts
from soapgw.web.db import db
from soapgw.web.fields import FilterForm, IdentifierList, options
from soapgw.web.liveness import is_online, online_cutoff
from soapgw.web.paging import paginate
from soapgw.web.queries import latest_status_id, runtime_settings

bp = Blueprint("stations", __name__, url_prefix="/chargepoints")

REGISTRATION_STATUSES = ("Accepted", "Pending", "Rejected")
CONNECTOR_STATUSES = ("Available", "Preparing", "Charging", "SuspendedEVSE", "SuspendedEV",
                      "Finishing", "Reserved", "Unavailable", "Faulted", "Occupied")
MAX_STATION_ID = 255
ANY = ("", "any")


# --- forms -------------------------------------------------------------------------------------
class StationFilter(FilterForm):
    q = StringField("Id contains", validators=[Optional(), Length(max=255)])
    status = SelectField("Registration", default="", choices=options(ANY, *REGISTRATION_STATUSES))
    version = SelectField("OCPP", default="", choices=options(ANY, "1.6", "1.5", ("none", "not heard from")))
    online = SelectField("Online", default="", choices=options(ANY, ("yes", "online"), ("no", "offline")))
    heartbeat = SelectField("Last heartbeat", default="", choices=options(
        ANY, "today", "yesterday", "earlier", "never"))
    connector_status = SelectField("A connector is", default="", validate_choice=False,
                                   choices=options(ANY, *CONNECTOR_STATUSES))


class AddStationsForm(FlaskForm):
    ids = IdentifierList("Charge point ids (chargeBoxIdentity), one per line",
                         what="charge point id", max_length=MAX_STATION_ID,
                         render_kw={"rows": 6, "spellcheck": "false"})
    status = SelectField("Registration status", default="Accepted",
                         choices=options(*REGISTRATION_STATUSES))


def _endpoint_url(form, field) -> None:
    value = (field.data or "").strip()
    if not value:
        return
    try:
        parts = urlsplit(value)
        parts.port  # noqa: B018  (raises on a bad port)
    except ValueError:
        raise ValidationError("Not a URL.") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValidationError("Use an http:// or https:// URL with a host, e.g. "
                              "http://192.0.2.10:8080/ocpp.")


class EditStationForm(FlaskForm):
    registration_status = SelectField("Registration status",
                                      choices=options(*REGISTRATION_STATUSES))
    endpoint_address = StringField(
        "Endpoint address (ChargePointService URL)",
        validators=[Optional(), Length(max=2048), _endpoint_url],
        render_kw={"spellcheck": "false", "placeholder": "http://host:port/path"})
    unpin = BooleanField("Learn the address from the station's messages again (unpin)")
    note = TextAreaField("Note", validators=[Optional(), Length(max=4000)],
                         render_kw={"rows": 2})


class ConfirmForm(FlaskForm):
    """Only the CSRF token: for buttons that act."""


# --- list ----------------------------------------------------------------------------------------
def filtered_stations(form: StationFilter, interval: int) -> Select:
    query = select(ChargeBox).order_by(ChargeBox.charge_box_id)
    data = form.data
    if data["q"]:
        pattern = "%" + data["q"].replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        query = query.where(ChargeBox.charge_box_id.ilike(pattern, escape="\\"))
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
        ids = form.ids.identifiers
        existing = set(session.scalars(select(ChargeBox.charge_box_id)
                                       .where(ChargeBox.charge_box_id.in_(ids))))
        new = [i for i in ids if i not in existing]
        if new:  # one multi-row statement, safe against a concurrent auto-registration
            session.execute(insert_for(session, ChargeBox).values(
                [{"charge_box_id": i, "registration_status": form.status.data,
                  "created_at": now()} for i in new]).on_conflict_do_nothing())
            session.execute(UnknownChargeBox.__table__.delete()
                            .where(UnknownChargeBox.charge_box_id.in_(new)))
        session.commit()
        message = f"Added {len(new)} charge point(s)."
        if existing:
            message += f" Already registered: {', '.join(sorted(existing)[:20])}" + \
                       ("…" if len(existing) > 20 else "") + "."
        flash(message, "success" if new else "warning")
        if len(new) == 1:
            return redirect(url_for(".detail", pk=_pk_of(new[0])))
        return redirect(url_for(".index"))
    return render_template("stations/add.html", form=form)


def _pk_of(charge_box_id: str) -> int:
    return db().scalar(select(ChargeBox.id).where(ChargeBox.charge_box_id == charge_box_id))


@bp.get("/by-id")
def by_id():
    """Links from pages that know only the chargeBoxIdentity (journal, transactions)."""
    pk = _pk_of(request.args.get("id", ""))
    if pk is None:
        abort(404)
    return redirect(url_for(".detail", pk=pk))


# --- detail --------------------------------------------------------------------------------------
def _station_or_404(pk: int) -> ChargeBox:
    station = db().get(ChargeBox, pk)
    if station is None:
        abort(404)
    return station


def _detail_context(station: ChargeBox) -> dict:
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
    )


def configuration_keys(charge_box_pk: int) -> list | None:
    """Configuration keys last read from the station, once the outbound commands store them."""
    if not current_app.config.get("SOAPGW_OPERATIONS"):
        return None
    from soapgw.web.operations import configuration_of
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
    if not form.validate_on_submit():
        return render_template("stations/detail.html", form=form,
                               **_detail_context(station)), 400
    session = db()
    station.registration_status = form.registration_status.data
    station.note = (form.note.data or "").strip() or None
    address = (form.endpoint_address.data or "").strip() or None
    if form.unpin.data:
        station.endpoint_pinned = False
        _judge_callback(station)
    elif address != station.endpoint_address:
        # An address set here wins over whatever the station announces (endpoint_pinned).
        station.endpoint_address = address
        station.endpoint_source = "admin" if address else None
        station.endpoint_pinned = address is not None
        session.add(EndpointChange(charge_box_pk=station.id, address=address, source="admin",
                                   changed_at=now()))
        _judge_callback(station)
    session.commit()
    flash(f"Saved {station.charge_box_id}.", "success")
    return redirect(url_for(".detail", pk=pk))


def _judge_callback(station: ChargeBox) -> None:
    """Judge a changed callback address at once (the operator sees whether commands may go
    there); the rules are applied again, with a fresh DNS look-up, before every call."""
    if not station.endpoint_address:
        station.endpoint_verdict = station.endpoint_verdict_reason = None
        station.endpoint_checked_at = None
        return
    settings = current_app.config["SOAPGW_SETTINGS"]
    verdict = judge_callback(station.endpoint_address, resolve(station.endpoint_address),
                             pinned=station.endpoint_pinned,
                             peer_host=station.endpoint_peer_host,
                             allowed_networks=settings.allowed_callback_networks)
    station.endpoint_verdict, station.endpoint_verdict_reason = verdict.label, verdict.reason
    station.endpoint_checked_at = now()


@bp.route("/<int:pk>/delete", methods=["GET", "POST"])
def delete(pk: int):
    station = _station_or_404(pk)
    form = ConfirmForm()
    if form.validate_on_submit():
        # The database cascades to connectors, transactions, meter values and the rest.
        db().execute(sql_delete(ChargeBox).where(ChargeBox.id == station.id))
        db().commit()
        flash(f"Deleted charge point {station.charge_box_id}.", "success")
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


def _unknown_or_404(unknown_id: int) -> UnknownChargeBox:
    found = db().get(UnknownChargeBox, unknown_id)
    if found is None:
        abort(404)
    return found


@bp.post("/unknown/<int:unknown_id>/accept")
def accept_unknown(unknown_id: int):
    if not ConfirmForm().validate_on_submit():
        abort(400)
    session = db()
    found = _unknown_or_404(unknown_id)
    session.execute(insert_for(session, ChargeBox).values(
        charge_box_id=found.charge_box_id, registration_status="Accepted",
        created_at=now()).on_conflict_do_nothing())
    session.delete(found)
    session.commit()
    flash(f"Registered {found.charge_box_id}: it is accepted at its next BootNotification.",
          "success")
    return redirect(url_for(".unknown"))


@bp.post("/unknown/<int:unknown_id>/dismiss")
def dismiss_unknown(unknown_id: int):
    if not ConfirmForm().validate_on_submit():
        abort(400)
    found = _unknown_or_404(unknown_id)
    db().delete(found)
    db().commit()
    flash(f"Dismissed {found.charge_box_id}; it shows up again if it talks to us again.")
    return redirect(url_for(".unknown"))
