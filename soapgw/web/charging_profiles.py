"""The charging profile library: list, add, edit (periods row by row), copy, delete, send
with SetChargingProfile; and the station page's installed profiles with their Clear and
GetCompositeSchedule buttons. Every write is a core.charging_profiles function."""
from __future__ import annotations

import json

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_wtf import FlaskForm
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from wtforms import (BooleanField, FieldList, Form, FormField, IntegerField, SelectField,
                     SelectMultipleField, StringField, TextAreaField)
from wtforms.validators import InputRequired, Length, NumberRange, Optional

from soapgw.core import charging_profiles as profiles
from soapgw.core.charging_profiles import Period, ProfileValues
from soapgw.core.commands.errors import TaskError
from soapgw.core.commands.operations import unsupported_reason
from soapgw.core.enums import ChargingProfilePurposeType, ChargingRateUnitType, OcppVersion
from soapgw.core.errors import Invalid, NotFound
from soapgw.store.models import ChargeBox, InstalledChargingProfile, StoredChargingProfile
from soapgw.web.db import db
from soapgw.web.fields import FilterForm, UtcDateTimeField, options, show_problems
from soapgw.web.paging import paginate
from soapgw.web.task_submit import submit_task

bp = Blueprint("charging_profiles", __name__, url_prefix="/charging-profiles")

EMPTY_ROWS = 3  # offered below the filled ones; "Add rows" adds as many again
MAX_INT = profiles.MAX_ID
NOT_IN_15 = "OCPP 1.5 has no smart charging: charging profiles came with OCPP 1.6."
UNITS = ((ChargingRateUnitType.amps.value, "A (amperes)"),
         (ChargingRateUnitType.watts.value, "W (watts)"))


# --- forms -------------------------------------------------------------------------------------
class PeriodRow(Form):
    """One chargingSchedulePeriod; a row left empty is no period."""

    start_period = IntegerField("Start (s)", [Optional(), NumberRange(0, MAX_INT, "0 or more.")],
                                render_kw={"inputmode": "numeric"})
    limit = StringField("Limit", [Optional(), Length(max=20)], render_kw={"inputmode": "decimal"})
    number_phases = IntegerField("Phases", [Optional(), NumberRange(1, 3, "1, 2 or 3.")])
    remove = BooleanField("Remove")

    def blank(self) -> bool:
        return (self.start_period.data is None and not (self.limit.data or "").strip()
                and self.number_phases.data is None)


class ProfileForm(FlaskForm):
    charging_profile_id = IntegerField("Profile id", [
        InputRequired("Enter the profile id."), NumberRange(1, MAX_INT, "Use 1 or more.")],
        description="chargingProfileId: stations replace a profile with the same id")
    description = StringField("Description", [Optional(), Length(max=255)])
    stack_level = IntegerField("Stack level", [InputRequired("Enter the stack level."),
                                               NumberRange(0, 1000, "Use 0 to 1000.")],
                               default=0, description="stackLevel: the higher one wins")
    purpose = SelectField("Purpose", choices=options(*profiles.PURPOSES),
                          default=ChargingProfilePurposeType.tx_default_profile.value,
                          description="chargingProfilePurpose")
    kind = SelectField("Kind", choices=options(*profiles.KINDS),
                       description="chargingProfileKind")
    recurrency_kind = SelectField("Recurrency", choices=options(("", "–"),
                                                                 *profiles.RECURRENCIES),
                                  default="", description="recurrencyKind: Recurring only")
    valid_from = UtcDateTimeField("Valid from (UTC)", render_kw={"type": "datetime-local"})
    valid_to = UtcDateTimeField("Valid to (UTC)", render_kw={"type": "datetime-local"})
    charging_rate_unit = SelectField("Unit", choices=options(*UNITS),
                                     description="chargingRateUnit of the limits")
    duration = IntegerField("Duration (s)", [Optional(), NumberRange(1, MAX_INT, "1 or more.")],
                            description="empty: until the charging ends")
    start_schedule = UtcDateTimeField("Start (UTC)", render_kw={"type": "datetime-local"},
                                      description="startSchedule: Absolute and Recurring")
    min_charging_rate = StringField("Min. rate", [Optional(), Length(max=20)],
                                    description="minChargingRate, optional")
    periods = FieldList(FormField(PeriodRow), min_entries=EMPTY_ROWS,
                        max_entries=profiles.MAX_PERIODS + EMPTY_ROWS)
    note = TextAreaField("Note", [Optional(), Length(max=4000)], render_kw={"rows": 2})

    def values(self) -> ProfileValues | None:
        """The values, or None when a number is not one (marked on its field)."""
        ok = True
        try:
            rate = profiles.decimal_or_none(self.min_charging_rate.data)
        except ValueError as exc:
            self.min_charging_rate.errors = list(self.min_charging_rate.errors) + [
                str(exc)[0].upper() + str(exc)[1:] + "."]
            rate, ok = None, False
        periods = []
        for row in self.periods:
            if row.remove.data or row.blank():
                continue
            try:
                limit = profiles.decimal_or_none(row.limit.data)
            except ValueError as exc:
                row.limit.errors = list(row.limit.errors) + [f"{exc}."]
                ok = False
                continue
            periods.append(Period(row.start_period.data, limit, row.number_phases.data))
        if not ok:
            return None
        return ProfileValues(
            charging_profile_id=self.charging_profile_id.data,
            stack_level=self.stack_level.data, purpose=self.purpose.data, kind=self.kind.data,
            charging_rate_unit=self.charging_rate_unit.data, periods=periods,
            recurrency_kind=self.recurrency_kind.data or None,
            valid_from=self.valid_from.value, valid_to=self.valid_to.value,
            duration=self.duration.data, start_schedule=self.start_schedule.value,
            min_charging_rate=rate, description=self.description.data, note=self.note.data)


class ProfileFilter(FilterForm):
    q = StringField("Id or description", validators=[Optional(), Length(max=255)])
    purpose = SelectField("Purpose", default="", choices=options(("", "any"),
                                                                  *profiles.PURPOSES))


class SendForm(FlaskForm):
    stations = SelectMultipleField("Charge points", choices=[], render_kw={"size": 8},
                                   validators=[InputRequired("Select at least one station.")])
    connectors = StringField("Connectors", [InputRequired("Enter a connector (0: the station)."),
                                            Length(max=200)], default="1",
                             description="connectorId; several separated by commas make one "
                                         "task each; 0: the whole station")
    transaction_id = IntegerField("Transaction", [Optional(), NumberRange(1, MAX_INT)],
                                  description="transactionId, TxProfile only (optional)")


class ActForm(FlaskForm):
    """Only the CSRF token: for buttons that act."""


class ClearForm(FlaskForm):
    profile_id = IntegerField("Profile id", [Optional(), NumberRange(0, MAX_INT)])


class CompositeForm(FlaskForm):
    connector_id = IntegerField("Connector", [InputRequired("Enter a connector."),
                                              NumberRange(0, MAX_INT)], default=0)
    duration = IntegerField("Duration (s)", [InputRequired("Enter the duration."),
                                             NumberRange(1, MAX_INT)], default=86400)
    unit = SelectField("Unit", default="", choices=options(("", "station's choice"), *UNITS))


# --- the library -------------------------------------------------------------------------------
def _profile_or_404(pk: int) -> StoredChargingProfile:
    try:
        return profiles.profile(db(), pk)
    except NotFound:
        abort(404)


@bp.get("/")
def index():
    session = db()
    form = ProfileFilter(request.args)
    form.validate()
    query = select(StoredChargingProfile).order_by(StoredChargingProfile.charging_profile_id)
    if form.q.data:
        text = form.q.data.strip()
        pattern = "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        matches = StoredChargingProfile.description.ilike(pattern, escape="\\")
        if text.isdigit() and int(text) <= MAX_INT:
            matches = matches | (StoredChargingProfile.charging_profile_id == int(text))
        query = query.where(matches)
    if form.purpose.data:
        query = query.where(StoredChargingProfile.purpose == form.purpose.data)
    page = paginate(session, query, scalars=True)
    ids = [p.charging_profile_id for p in page.items]
    installed = dict(session.execute(
        select(InstalledChargingProfile.charging_profile_id,
               func.count(func.distinct(InstalledChargingProfile.charge_box_pk)))
        .where(InstalledChargingProfile.charging_profile_id.in_(ids))
        .group_by(InstalledChargingProfile.charging_profile_id)).all()) if ids else {}
    periods = {p.id: len(json.loads(p.periods)) for p in page.items}
    return render_template("charging_profiles/list.html", form=form, page=page,
                           installed=installed, periods=periods, act=ActForm())


def _rows_for(form: ProfileForm, stored: StoredChargingProfile | None = None) -> None:
    """Fill the period rows from the stored profile (GET), keep EMPTY_ROWS empty ones below,
    and add as many again when the operator asked for more rows."""
    if stored is not None:
        while len(form.periods):
            form.periods.pop_entry()
        for period in profiles.periods_of(stored):
            form.periods.append_entry({"start_period": period.start_period,
                                       "limit": str(period.limit),
                                       "number_phases": period.number_phases})
    filled = sum(1 for row in form.periods if not row.blank())
    wanted = min(max(len(form.periods), filled + EMPTY_ROWS) + (
        EMPTY_ROWS if request.form.get("more") else 0), form.periods.max_entries)
    while len(form.periods) < wanted:
        form.periods.append_entry()


def _save(form: ProfileForm, write) -> bool:
    """Validate and write; problems end up next to the fields (periods: above the table)."""
    if request.form.get("more") or not form.validate_on_submit():
        return False
    values = form.values()
    if values is None:
        return False
    try:
        write(values)
    except Invalid as invalid:
        db().rollback()
        problems = dict(invalid.problems)
        form.periods_problem = problems.pop("periods", None)
        show_problems(form, problems)
        return False
    db().commit()
    return True


def _form_page(form: ProfileForm, title: str, stored: StoredChargingProfile | None):
    failed = request.method == "POST" and not request.form.get("more")
    status = 400 if failed else 200
    return render_template("charging_profiles/form.html", form=form, title=title,
                           stored=stored, periods_problem=getattr(form, "periods_problem", None),
                           period_errors=any(row.errors for row in form.periods)), status


@bp.route("/add", methods=["GET", "POST"])
def add():
    form = ProfileForm()
    if request.method == "GET":
        form.charging_profile_id.data = profiles.next_profile_id(db())
    saved = []
    if _save(form, lambda values: saved.append(profiles.create_profile(db(), values).id)):
        flash(f"Added charging profile {form.charging_profile_id.data}.", "success")
        return redirect(url_for(".index"))
    _rows_for(form)
    return _form_page(form, "Add a charging profile", None)


def _form_data(stored: StoredChargingProfile) -> dict:
    data = {name: getattr(stored, name) for name in (
        "charging_profile_id", "description", "stack_level", "purpose", "kind",
        "charging_rate_unit", "duration", "min_charging_rate", "note")}
    for name in ("valid_from", "valid_to", "start_schedule"):
        value = getattr(stored, name)
        data[name] = value and value.strftime("%Y-%m-%dT%H:%M:%S")
    data["recurrency_kind"] = stored.recurrency_kind or ""
    return data


@bp.route("/<int:pk>", methods=["GET", "POST"])
def edit(pk: int):
    stored = _profile_or_404(pk)
    form = ProfileForm(data=_form_data(stored)) if request.method == "GET" else ProfileForm()
    if request.method == "GET":
        _rows_for(form, stored)
    elif _save(form, lambda values: profiles.update_profile(db(), pk, values)):
        flash(f"Saved charging profile {form.charging_profile_id.data}.", "success")
        return redirect(url_for(".edit", pk=pk))
    else:
        _rows_for(form)
        stored = _profile_or_404(pk)
    return _form_page(form, f"Charging profile {stored.charging_profile_id}", stored)


@bp.post("/<int:pk>/copy")
def copy(pk: int):
    if not ActForm().validate_on_submit():
        abort(400)
    try:
        made = profiles.copy_profile(db(), pk)
    except NotFound:
        abort(404)
    db().commit()
    flash(f"Copied as charging profile {made.charging_profile_id}: change it here.", "success")
    return redirect(url_for(".edit", pk=made.id))


@bp.route("/<int:pk>/delete", methods=["GET", "POST"])
def delete(pk: int):
    stored = _profile_or_404(pk)
    form = ActForm()
    if form.validate_on_submit():
        ocpp_id = profiles.delete_profile(db(), pk)
        db().commit()
        flash(f"Deleted charging profile {ocpp_id} from the library (stations keep what "
              "they have installed).", "success")
        return redirect(url_for(".index"))
    installed = db().scalar(select(func.count()).select_from(InstalledChargingProfile).where(
        InstalledChargingProfile.charging_profile_id == stored.charging_profile_id))
    return render_template("charging_profiles/delete.html", stored=stored, form=form,
                           installed=installed)


# --- sending -----------------------------------------------------------------------------------
def stations_by_support(session: Session) -> tuple[list, list[str]]:
    """Accepted stations that take charging profiles (OCPP 1.6), as choices, and the ids of
    those that cannot (OCPP 1.5)."""
    rows = session.execute(select(ChargeBox.charge_box_id, ChargeBox.ocpp_version)
                           .where(ChargeBox.registration_status == "Accepted",
                                  ChargeBox.ocpp_version.in_(("1.5", "1.6")))
                           .order_by(ChargeBox.charge_box_id).limit(2000)).all()
    return ([(cb, cb) for cb, version in rows if version == OcppVersion.v16],
            [cb for cb, version in rows if version == OcppVersion.v15])


def _connectors(text: str) -> list[int] | None:
    try:
        numbers = [int(part) for part in text.replace(";", ",").split(",") if part.strip()]
    except ValueError:
        return None
    return list(dict.fromkeys(numbers)) if numbers and len(numbers) <= 20 else None


@bp.route("/<int:pk>/send", methods=["GET", "POST"])
def send(pk: int):
    stored = _profile_or_404(pk)
    session = db()
    form = SendForm()
    choices, old = stations_by_support(session)
    form.stations.choices = options(*choices)
    if request.method == "GET" and request.args.get("station"):
        form.stations.data = [request.args["station"]]
    error = None
    if form.validate_on_submit():
        connectors = _connectors(form.connectors.data)
        payloads = []
        if connectors is None:
            form.connectors.errors = list(form.connectors.errors) + [
                "Use connector numbers separated by commas (at most 20)."]
        else:
            try:
                payloads = [profiles.set_charging_profile_request(
                    session, pk, connector, form.transaction_id.data) for connector in connectors]
            except Invalid as invalid:
                show_problems(form, invalid.problems, {"connector_id": "connectors"})
        if payloads:
            task_ids = []
            try:
                for payload in payloads:
                    task_ids.append(submit_task("SetChargingProfile", payload,
                                                form.stations.data))
            except TaskError as exc:
                error = exc.reason
            if task_ids and error is None:
                if len(task_ids) == 1:
                    return redirect(url_for("operations.task", task_id=task_ids[0]))
                flash(f"Sent as {len(task_ids)} tasks, one per connector.", "success")
                return redirect(url_for("operations.index", operation="SetChargingProfile"))
            stored = _profile_or_404(pk)
    status = 400 if (form.errors or error) else 200
    return render_template("charging_profiles/send.html", form=form, stored=stored, old=old,
                           error=error, not_in_15=NOT_IN_15,
                           payload=json.dumps(profiles.ocpp_profile(profiles.values_of(stored)),
                                              indent=2, default=str)), status


# --- the station page --------------------------------------------------------------------------
def station_section(session: Session, station: ChargeBox) -> dict:
    """What the station page shows of charging profiles: installed ones per connector."""
    installed = session.scalars(
        select(InstalledChargingProfile)
        .where(InstalledChargingProfile.charge_box_pk == station.id)
        .order_by(InstalledChargingProfile.connector_id,
                  InstalledChargingProfile.stack_level.desc(),
                  InstalledChargingProfile.charging_profile_id)).all()
    ids = {p.charging_profile_id for p in installed}
    library = dict(session.execute(
        select(StoredChargingProfile.charging_profile_id, StoredChargingProfile.id)
        .where(StoredChargingProfile.charging_profile_id.in_(ids))).all()) if ids else {}
    return {"installed_profiles": installed, "profile_library": library,
            "profiles_not_in_15": NOT_IN_15, "clear_form": ClearForm(prefix="clear"),
            "composite_form": CompositeForm(prefix="composite")}


def _station_or_404(pk: int) -> ChargeBox:
    station = db().get(ChargeBox, pk)
    if station is None:
        abort(404)
    return station


def _station_task(pk: int, operation: str, payload: dict):
    station = _station_or_404(pk)
    charge_box_id = station.charge_box_id
    reason = unsupported_reason(operation, station.ocpp_version)
    if reason:
        flash(f"{operation} not sent: " + (NOT_IN_15 if station.ocpp_version == OcppVersion.v15
                                           else reason), "error")
        return redirect(url_for("stations.detail", pk=pk))
    try:
        task_id = submit_task(operation, payload, [charge_box_id])
    except TaskError as exc:
        flash(f"{operation} not sent: {exc.reason}", "error")
        return redirect(url_for("stations.detail", pk=pk))
    return redirect(url_for("operations.task", task_id=task_id))


def _not_sent(pk: int, operation: str, form: FlaskForm):
    """Back to the station page, saying which field stopped the command."""
    flash(f"{operation} not sent: " + "; ".join(
        f"{form[name].label.text}: {' '.join(errors)}" if name in form else " ".join(errors)
        for name, errors in form.errors.items()), "error")
    return redirect(url_for("stations.detail", pk=pk))


@bp.post("/station/<int:pk>/clear")
def clear(pk: int):
    form = ClearForm(prefix="clear")
    if not form.validate_on_submit():
        return _not_sent(pk, "ClearChargingProfile", form)
    payload = {} if form.profile_id.data is None else {"id": form.profile_id.data}
    return _station_task(pk, "ClearChargingProfile", payload)


@bp.post("/station/<int:pk>/composite")
def composite(pk: int):
    form = CompositeForm(prefix="composite")
    if not form.validate_on_submit():
        return _not_sent(pk, "GetCompositeSchedule", form)
    payload = {"connectorId": form.connector_id.data, "duration": form.duration.data}
    if form.unit.data:
        payload["chargingRateUnit"] = form.unit.data
    return _station_task(pk, "GetCompositeSchedule", payload)
