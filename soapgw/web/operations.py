"""Operations: one form per ChargePointService operation (OCPP 1.5 and 1.6), sent to the
selected stations as a task (soapgw.core.commands), and a task page that refreshes itself."""
from __future__ import annotations

import json
from dataclasses import dataclass

from flask import (Blueprint, abort, current_app, g, redirect, render_template, request,
                   url_for)
from flask_wtf import FlaskForm
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from wtforms import (Field, IntegerField, SelectField, SelectMultipleField, StringField,
                     TextAreaField)
from wtforms.validators import InputRequired, Length, NumberRange, Optional, ValidationError

from soapgw.core.commands.tasks import task_conditions
from soapgw.core.enums import (AvailabilityType, ChargingProfilePurposeType,
                               ChargingRateUnitType, MessageTrigger, ResetType, TaskOrigin,
                               TaskState, UpdateType, values)
from soapgw.core.commands.errors import TaskError
from soapgw.core.commands.operations import BY_VERSION, OCPP16
from soapgw.timestamps import format_timestamp
from soapgw.store.models import ChargeBox, ConfigurationKey, Task, TaskResult
from soapgw.core.errors import Invalid
from soapgw.web import profile_picker
from soapgw.web.db import db
from soapgw.web.fields import (FilterForm, UtcDateTimeField, date_range_problem, options,
                               show_problems)
from soapgw.web.paging import paginate
from soapgw.web.task_answers import rich_answer

bp = Blueprint("operations", __name__, url_prefix="/operations")

REFRESH_SECONDS = 2


# --- what each operation asks for (OCPP-J 1.6 payload names) ---------------------------------
@dataclass(frozen=True)
class Param:
    name: str  # the payload key
    kind: str  # int | str | select | datetime | lines | json
    required: bool = False
    choices: tuple[str, ...] = ()
    hint: str | None = None


_CONNECTOR = Param("connectorId", "int", True, hint="0: the whole station")
PARAMS: dict[str, tuple[Param, ...]] = {
    "CancelReservation": (Param("reservationId", "int", True),),
    "ChangeAvailability": (_CONNECTOR, Param("type", "select", True,
                                             values(AvailabilityType))),
    "ChangeConfiguration": (Param("key", "str", True), Param("value", "str", True)),
    "ClearCache": (),
    "ClearChargingProfile": (
        Param("id", "int"), Param("connectorId", "int"),
        Param("chargingProfilePurpose", "select", False,
              values(ChargingProfilePurposeType)),
        Param("stackLevel", "int")),
    "DataTransfer": (Param("vendorId", "str", True), Param("messageId", "str"),
                     Param("data", "str")),
    "GetCompositeSchedule": (Param("connectorId", "int", True),
                             Param("duration", "int", True, hint="seconds"),
                             Param("chargingRateUnit", "select", False,
                                   (ChargingRateUnitType.amps, ChargingRateUnitType.watts))),
    "GetConfiguration": (Param("key", "lines", hint="one key per line; empty: all keys"),),
    "GetDiagnostics": (Param("location", "str", True, hint="URL to upload to"),
                       Param("retries", "int"), Param("retryInterval", "int", hint="seconds"),
                       Param("startTime", "datetime"), Param("stopTime", "datetime")),
    "GetLocalListVersion": (),
    "RemoteStartTransaction": (Param("idTag", "str", True), Param("connectorId", "int")),
    "RemoteStopTransaction": (Param("transactionId", "int", True),),
    "ReserveNow": (_CONNECTOR, Param("expiryDate", "datetime", True), Param("idTag", "str", True),
                   Param("parentIdTag", "str"),
                   Param("reservationId", "int", hint="empty: the next id free on each station")),
    "Reset": (Param("type", "select", True, (ResetType.soft, ResetType.hard)),),  # Soft first
    "SendLocalList": (Param("listVersion", "int", True),
                      Param("updateType", "select", True, (UpdateType.full, UpdateType.differential)),
                      Param("localAuthorizationList", "json",
                            hint='JSON list, e.g. [{"idTag": "CARD-1", "idTagInfo": '
                                 '{"status": "Accepted"}}]')),
    "SetChargingProfile": (_CONNECTOR, Param("csChargingProfiles", "json",
                                             hint=profile_picker.ADVANCED)),
    "TriggerMessage": (Param("requestedMessage", "select", True, (
        MessageTrigger.boot_notification, MessageTrigger.diagnostics_status_notification,
        MessageTrigger.firmware_status_notification, MessageTrigger.heartbeat,
        MessageTrigger.meter_values, MessageTrigger.status_notification)), Param("connectorId", "int")),
    "UnlockConnector": (Param("connectorId", "int", True),),
    "UpdateFirmware": (Param("location", "str", True, hint="URL of the firmware"),
                       Param("retrieveDate", "datetime", True), Param("retries", "int"),
                       Param("retryInterval", "int", hint="seconds")),
}


def _json_value(form, field: Field) -> None:
    if field.data and field.data.strip():
        try:
            field.parsed = json.loads(field.data)
        except json.JSONDecodeError as exc:
            raise ValidationError(f"Not JSON: {exc.msg} (line {exc.lineno}).") from None


def _field(param: Param) -> Field:
    need = [InputRequired(f"Enter {param.name}.")] if param.required else [Optional()]
    label, extra = param.name, {"description": param.hint or ""}
    if param.kind == "int":
        return IntegerField(label, need + [NumberRange(0, 2 ** 31 - 1, "Use 0 or more.")],
                            **extra)
    if param.kind == "select":
        items = param.choices if param.required else (("", "–"), *param.choices)
        return SelectField(label, choices=options(*items), default="" if not param.required
                           else param.choices[0], **extra)
    if param.kind == "datetime":
        return UtcDateTimeField(label, need, render_kw={"type": "datetime-local"}, **extra)
    if param.kind == "lines":
        return TextAreaField(label, [Optional()], render_kw={"rows": 3}, **extra)
    if param.kind == "json":
        return TextAreaField(label, need + [_json_value], render_kw={"rows": 5,
                                                                    "spellcheck": "false"},
                             **extra)
    return StringField(label, need + [Length(max=500)], **extra)


class OperationForm(FlaskForm):
    stations = SelectMultipleField("Charge points", choices=[],
                                   validators=[InputRequired("Select at least one station.")],
                                   render_kw={"size": 8})


def form_class(operation: str, version: str = "1.6") -> type[OperationForm]:
    """A form with the stations and the operation's own fields."""
    fields = {f"p_{p.name}": _field(p) for p in PARAMS[operation]}
    fields.update(profile_picker.fields(operation, version))
    return type(f"{operation}Form", (OperationForm,), fields)


def payload_of(form: OperationForm, operation: str) -> dict:
    payload = {}
    for param in PARAMS[operation]:
        field = form[f"p_{param.name}"]
        if param.kind == "datetime":
            value = format_timestamp(field.value) if field.value else None
        elif param.kind == "lines":
            lines = [line.strip() for line in (field.data or "").splitlines() if line.strip()]
            value = lines or None
        elif param.kind == "json":
            value = getattr(field, "parsed", None)
        elif param.kind == "str":
            value = (field.data or "").strip() or None
        else:
            value = field.data if field.data not in ("", None) else None
        if value is not None:
            payload[param.name] = value
    return payload


# --- the runner: the Gateway's, handed to create_web_app -----------------------------------
def task_runner():
    return current_app.extensions["soapgw_task_runner"]


# --- the task list and its filters -----------------------------------------------------------
RESULT_STATES = values(TaskState)


class TaskFilter(FilterForm):
    operation = SelectField("Operation", default="", choices=options(("", "any"), *OCPP16))
    # known origins; another one typed into the URL still filters
    origin = SelectField("Origin", default="", validate_choice=False,
                         choices=options(("", "any"), (TaskOrigin.web.value, "web UI"),
                                         (TaskOrigin.cli.value, "command line")))
    station = StringField("Charge point", validators=[Optional(), Length(max=255)])
    state = SelectField("State", default="", choices=options(
        ("", "any"), ("open", "open (not finished)"),
        *((state, state.replace("_", " ")) for state in RESULT_STATES)))
    created_from = UtcDateTimeField("Created from", render_kw={"type": "datetime-local"})
    created_to = UtcDateTimeField("Created before", render_kw={"type": "datetime-local"})


def _task_conditions(form: TaskFilter) -> list:
    data = form.data
    return task_conditions(data["operation"], data["origin"], data["station"], data["state"],
                           form.created_from.value, form.created_to.value)


# --- pages ---------------------------------------------------------------------------------------
def _stations(session: Session, operation: str, version: str) -> list[tuple[str, str]]:
    versions = [v for v, ops in BY_VERSION.items() if operation in ops and v == version]
    return [(cb, f"{cb} (OCPP {v})") for cb, v in session.execute(
        select(ChargeBox.charge_box_id, ChargeBox.ocpp_version)
        .where(ChargeBox.ocpp_version.in_(versions),
               ChargeBox.registration_status == "Accepted")
        .order_by(ChargeBox.charge_box_id).limit(2000))]


@bp.get("/")
def index():
    session = db()
    counts = dict(session.execute(select(ChargeBox.ocpp_version, func.count())
                                  .where(ChargeBox.registration_status == "Accepted")
                                  .group_by(ChargeBox.ocpp_version)).all())
    form = TaskFilter(request.args)
    if form.validate():
        date_range_problem(form.created_from, form.created_to)
    conditions = _task_conditions(form)
    page = paginate(session, select(Task).where(*conditions).order_by(Task.id.desc()),
                    scalars=True, per_page=20)
    return render_template("operations/index.html", operations=OCPP16, by_version=BY_VERSION,
                           counts=counts, form=form, filtered=bool(conditions), page=page,
                           summaries=_summaries(session, page.items))


def _summaries(session: Session, items: list[Task]) -> dict[int, dict[str, int]]:
    ids = [t.id for t in items]
    summary: dict[int, dict[str, int]] = {i: {} for i in ids}
    if ids:
        for task_id, state, count in session.execute(
                select(TaskResult.task_id, TaskResult.state, func.count())
                .where(TaskResult.task_id.in_(ids))
                .group_by(TaskResult.task_id, TaskResult.state)):
            summary[task_id][state] = count
    return summary


@bp.route("/<operation>/<version>", methods=["GET", "POST"])
def run(operation: str, version: str):
    if version not in BY_VERSION or operation not in BY_VERSION[version]:
        abort(404)
    form = form_class(operation, version)()
    form.stations.choices = options(*_stations(db(), operation, version))
    profile_picker.fill_choices(db(), form, operation)
    if request.method == "GET" and request.args.get("station"):
        form.stations.data = [request.args["station"]]
    error = None
    payload = None
    if form.validate_on_submit():
        try:
            payload = profile_picker.apply(db(), form, operation, payload_of(form, operation))
        except Invalid as invalid:
            show_problems(form, invalid.problems)
    if payload is not None:
        # End this request's transaction first: on SQLite it holds the write lock, which the
        # runner's own transaction (recording the task) would wait for in vain.
        caller = g.user.username  # read before the rollback expires the user
        db().rollback()
        try:
            task_id = task_runner().submit(operation, payload,
                                           form.stations.data, origin=TaskOrigin.web, caller=caller)
        except TaskError as exc:  # the OCPP 1.6 JSON schema refused the payload
            error = exc.reason
        else:
            return redirect(url_for(".task", task_id=task_id))
    status = 400 if (form.errors or error) else 200
    return render_template("operations/run.html", form=form, operation=operation,
                           version=version, error=error,
                           picker=profile_picker.picker_fields(form),
                           params=[(p, form[f"p_{p.name}"]) for p in PARAMS[operation]]), status


@bp.get("/tasks/<int:task_id>")
def task(task_id: int):
    session = db()
    found = session.get(Task, task_id)
    if found is None:
        abort(404)
    results = session.scalars(select(TaskResult).where(TaskResult.task_id == task_id)
                              .order_by(TaskResult.charge_box_id)).all()
    done = sum(1 for r in results if r.finished_at is not None)
    return render_template("operations/task.html", task=found, results=results, done=done,
                           payload=_pretty_json(found.payload),
                           responses={r.id: _pretty_json(r.response) for r in results},
                           rich={r.id: rich_answer(found.operation, r.response) for r in results},
                           refresh=REFRESH_SECONDS if found.finished_at is None else None)


def _pretty_json(text: str | None) -> str | None:
    if not text:
        return None
    try:
        return json.dumps(json.loads(text), indent=2, ensure_ascii=False)
    except json.JSONDecodeError:
        return text


# --- for the charge point page ---------------------------------------------------------------
@dataclass
class KeyRow:
    key: str
    value: str | None
    readonly: bool | None
    read_at: object


def configuration_of(session: Session, charge_box_pk: int) -> list[KeyRow]:
    return [KeyRow(k.key, k.value, k.readonly, k.updated_at) for k in session.scalars(
        select(ConfigurationKey).where(ConfigurationKey.charge_box_pk == charge_box_pk)
        .order_by(ConfigurationKey.key))]


