"""Operations: one form per ChargePointService operation (OCPP 1.5 and 1.6), sent to the
selected stations as a task (soapgw.core.commands), and a task page that refreshes itself."""
from __future__ import annotations

import json
from dataclasses import dataclass

from flask import (Blueprint, abort, current_app, g, redirect, render_template,
                   request, url_for)
from flask import session as web_session
from flask_wtf import FlaskForm
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from wtforms import (Field, IntegerField, SelectField, SelectMultipleField, StringField,
                     TextAreaField)
from wtforms.validators import InputRequired, Length, NumberRange, Optional, ValidationError

from soapgw.core.authorization import tag_concern
from soapgw.core.commands import outcome
from soapgw.core.commands.tasks import outcome_summaries, task_conditions
from soapgw.core.enums import (AvailabilityType, ChargingProfilePurposeType,
                               ChargingRateUnitType, MessageTrigger, ResetType, TaskOrigin,
                               TaskState, UpdateType, values)
from soapgw.core.commands.errors import TaskError
from soapgw.core.commands.operations import BY_VERSION, OCPP16
from soapgw.timestamps import format_timestamp, now
from soapgw.store.models import ChargeBox, ConfigurationKey, Task, TaskResult
from soapgw.core.errors import Invalid
from soapgw.web import profile_picker
from soapgw.web.db import db
from soapgw.web.fields import (FilterForm, UtcDateTimeField, date_range_problem, options,
                               show_problems)
from soapgw.web import operation_pickers
from soapgw.web.paging import paginate
from soapgw.web.task_answers import rich_answer

bp = Blueprint("operations", __name__, url_prefix="/operations")

REFRESH_SECONDS = 2


# --- what each operation asks for (OCPP-J 1.6 payload names) ---------------------------------
@dataclass(frozen=True)
class Param:
    name: str  # the payload key, shown as a hint beside the human label
    kind: str  # int | str | text | select | datetime | lines | json | allocated
    required: bool = False
    choices: tuple[str, ...] = ()
    hint: str | None = None
    label: str | None = None  # None: LABELS[name]
    zero: bool = True  # connectorId: 0 (the whole station) is allowed


# Human labels by OCPP field name (a Param's own label wins: "type" is not always the same).
LABELS = {
    "connectorId": "Connector", "idTag": "Tag", "parentIdTag": "Parent tag",
    "expiryDate": "Expiry", "reservationId": "Reservation id", "transactionId": "Transaction",
    "key": "Configuration key", "value": "New value", "vendorId": "Vendor id",
    "messageId": "Message id", "data": "Data", "duration": "Duration",
    "chargingRateUnit": "Rate unit", "location": "URL", "retries": "Retries",
    "retryInterval": "Retry interval", "startTime": "Logs from", "stopTime": "Logs until",
    "retrieveDate": "Download from", "requestedMessage": "Message to trigger",
    "listVersion": "List version", "updateType": "Update type",
    "localAuthorizationList": "Tags to send", "csChargingProfiles": "Charging profile",
    "id": "Profile id", "chargingProfilePurpose": "Purpose", "stackLevel": "Stack level",
    "type": "Type",
}
# Suggestions (datalists of web.operation_pickers) by OCPP field name, for one-line fields;
# a typed value not among them is still sent.
PICKED_BY = {"connectorId": "connectors", "idTag": "tags", "parentIdTag": "tags",
             "key": "keys", "transactionId": "transactions", "reservationId": "reservations"}

_CONNECTOR = Param("connectorId", "int", True, hint="0: the whole station")
PARAMS: dict[str, tuple[Param, ...]] = {
    "CancelReservation": (Param("reservationId", "int", True,
                                hint="the reservations waiting or accepted are suggested"),),
    "ChangeAvailability": (_CONNECTOR, Param("type", "select", True,
                                             values(AvailabilityType), label="Availability")),
    "ChangeConfiguration": (Param("key", "str", True,
                                  hint="the keys the stations reported are suggested"),
                            Param("value", "str", True)),
    "ClearCache": (),
    "ClearChargingProfile": (
        Param("id", "int"), Param("connectorId", "int"),
        Param("chargingProfilePurpose", "select", False,
              values(ChargingProfilePurposeType)),
        Param("stackLevel", "int")),
    "DataTransfer": (Param("vendorId", "str", True, hint="who defines the message, e.g. "
                           "com.example"),
                     Param("messageId", "str", hint="the vendor's message name"),
                     Param("data", "text", hint="free text, as the vendor defines it")),
    "GetCompositeSchedule": (Param("connectorId", "int", True,
                                   hint="0: the whole station's grid connection"),
                             Param("duration", "int", True, hint="seconds"),
                             Param("chargingRateUnit", "select", False,
                                   (ChargingRateUnitType.amps, ChargingRateUnitType.watts))),
    "GetConfiguration": (Param("key", "lines", hint="one key per line; empty: all keys",
                               label="Configuration keys"),),
    "GetDiagnostics": (Param("location", "str", True, hint="where the station uploads the file",
                             label="Upload URL"),
                       Param("retries", "int"), Param("retryInterval", "int", hint="seconds"),
                       Param("startTime", "datetime", hint="UTC"),
                       Param("stopTime", "datetime", hint="UTC")),
    "GetLocalListVersion": (),
    "RemoteStartTransaction": (Param("idTag", "str", True),
                               Param("connectorId", "int", zero=False,
                                     hint="empty: the station chooses")),
    "RemoteStopTransaction": (Param("transactionId", "int", True,
                                    hint="the stations' transactions under way are suggested"),),
    "ReserveNow": (Param("connectorId", "int", True,
                         hint="0: any connector of the station (if it supports that)"),
                   Param("expiryDate", "datetime", True, hint="UTC"),
                   Param("idTag", "str", True), Param("parentIdTag", "str"),
                   Param("reservationId", "allocated",
                         hint="empty: allocated by the gateway, the next id free on every "
                              "chosen station")),
    "Reset": (Param("type", "select", True, (ResetType.soft, ResetType.hard),  # Soft first
                    label="Reset"),),
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
        MessageTrigger.meter_values, MessageTrigger.status_notification)),
        Param("connectorId", "int", hint="empty: the whole station")),
    "UnlockConnector": (Param("connectorId", "int", True, zero=False),),
    "UpdateFirmware": (Param("location", "str", True, hint="where the station downloads it",
                             label="Firmware URL"),
                       Param("retrieveDate", "datetime", True, hint="UTC"),
                       Param("retries", "int"), Param("retryInterval", "int", hint="seconds")),
}
ID_TAG_FIELDS = ("idTag", "parentIdTag")  # checked against the tag table after sending


def label_of(param: Param) -> str:
    return param.label or LABELS.get(param.name, param.name)


def picker_of(param: Param) -> str | None:
    """The datalist a field suggests from (one-line fields only)."""
    return PICKED_BY.get(param.name) if param.kind in ("int", "str") else None


def _json_value(form, field: Field) -> None:
    if field.data and field.data.strip():
        try:
            field.parsed = json.loads(field.data)
        except json.JSONDecodeError as exc:
            raise ValidationError(f"Not JSON: {exc.msg} (line {exc.lineno}).") from None


def _field(param: Param) -> Field:
    label = label_of(param)
    need = [InputRequired(f"Enter {label.lower()} ({param.name}).")] if param.required else [
        Optional()]
    extra = {"description": param.hint or ""}
    picker = picker_of(param)
    attributes = {"list": f"pick-{picker}", "autocomplete": "off"} if picker else {}
    if param.kind in ("int", "allocated"):
        if param.kind == "allocated":
            attributes["placeholder"] = "allocated by the gateway"
        low = 0 if param.zero else 1
        message = ("Use 0 or more." if low == 0 else
                   "Use 1 or more (0, the whole station, is not allowed here).")
        return IntegerField(label, need + [NumberRange(low, 2 ** 31 - 1, message)],
                            render_kw={"inputmode": "numeric", **attributes}, **extra)
    if param.kind == "select":
        items = param.choices if param.required else (("", "–"), *param.choices)
        return SelectField(label, choices=options(*items), default="" if not param.required
                           else param.choices[0], **extra)
    if param.kind == "datetime":
        return UtcDateTimeField(label, need, render_kw={"type": "datetime-local"}, **extra)
    if param.kind == "lines":
        return TextAreaField(label, [Optional()], render_kw={"rows": 3}, **extra)
    if param.kind == "text":
        return TextAreaField(label, need + [Length(max=10000)], render_kw={"rows": 3}, **extra)
    if param.kind == "json":
        return TextAreaField(label, need + [_json_value], render_kw={"rows": 5,
                                                                    "spellcheck": "false"},
                             **extra)
    return StringField(label, need + [Length(max=500)], render_kw=attributes or None, **extra)


def _json_object(form, field: Field) -> None:
    _json_value(form, field)
    if field.data and field.data.strip() and not isinstance(field.parsed, dict):
        raise ValidationError("Give a JSON object, e.g. {\"type\": \"Soft\"}.")


class OperationForm(FlaskForm):
    stations = SelectMultipleField("Charge points", choices=[],
                                   validators=[InputRequired("Select at least one station.")],
                                   render_kw={"size": 8})
    # The alternative for who knows OCPP: the whole payload, sent instead of the fields above.
    advanced = TextAreaField("Payload as JSON", [Optional(), Length(max=100_000), _json_object],
                             render_kw={"rows": 5, "spellcheck": "false"},
                             description="advanced: when given, it is sent as it is (OCPP-J "
                                         "1.6 JSON) and the fields above are ignored")

    def validate(self, extra_validators=None) -> bool:
        if not (self.advanced.data or "").strip():
            return super().validate(extra_validators)
        # the payload replaces the guided fields: only it and the stations are checked
        ok = True
        for name in ("csrf_token", "stations", "advanced"):
            if name in self._fields:
                ok = self._fields[name].validate(self) and ok
        return ok


def form_class(operation: str, version: str = "1.6") -> type[OperationForm]:
    """A form with the stations and the operation's own fields."""
    fields = {f"p_{p.name}": _field(p) for p in PARAMS[operation]}
    fields.update(profile_picker.fields(operation, version))
    return type(f"{operation}Form", (OperationForm,), fields)


def payload_of(form: OperationForm, operation: str) -> dict:
    if (form.advanced.data or "").strip():
        return form.advanced.parsed
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
        elif param.kind == "text":
            value = field.data or None
        else:
            value = field.data if field.data not in ("", None) else None
        if value is not None:
            payload[param.name] = value
    return payload


def suggestions(session: Session, operation: str, stations: list[str]) -> dict[str, list]:
    """The datalists the operation's fields use, for these stations (connector 0 offered
    where the field allows it)."""
    found = {}
    for param in PARAMS[operation]:
        picker = picker_of(param)
        if picker and picker not in found:
            found[picker] = operation_pickers.PICKERS[picker](session, stations)
            if picker == "connectors" and param.zero:
                found[picker].insert(0, ("0", "the whole station", ()))
    return found


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
    summaries = {task_id: {"text": outcome.summary_text(c), "overall": outcome.overall(c)}
                 for task_id, c in outcome_summaries(session, [t.id for t in page.items]).items()}
    return render_template("operations/index.html", operations=OCPP16, by_version=BY_VERSION,
                           counts=counts, form=form, filtered=bool(conditions), page=page,
                           summaries=summaries)


_NOTES_KEPT = 5  # tasks whose notes the session keeps (the operator's latest)


def _notes_after_sending(task_id: int, submitted: dict) -> None:
    """Notes for the task page the form leads to, kept in the session until the task is
    finished (the page refreshes itself meanwhile): what the gateway filled in and what the
    station may refuse, an id tag unknown, blocked or expired here (sent anyway: the operator
    may know better)."""
    payload = json.loads(db().get(Task, task_id).payload)
    notes, at = [], now()
    for name in ID_TAG_FIELDS:
        if payload.get(name):
            concern = tag_concern(db(), payload[name], at)
            if concern:
                notes.append(("warning", f"Sent, but {concern}."))
    if "reservationId" in payload and "reservationId" not in submitted:
        notes.append(("success", f"Reservation id {payload.get('reservationId')} was allocated "
                                 "by the gateway (free on every chosen station)."))
    if notes:
        kept = dict(list(web_session.get("task_notes", {}).items())[-(_NOTES_KEPT - 1):])
        web_session["task_notes"] = {**kept, str(task_id): notes}


def _notes_of(task: Task) -> list[tuple[str, str]]:
    notes = web_session.get("task_notes", {})
    if task.finished_at is not None and str(task.id) in notes:  # shown a last time
        web_session["task_notes"] = {k: v for k, v in notes.items() if k != str(task.id)}
    return notes.get(str(task.id), [])


@bp.route("/<operation>/<version>", methods=["GET", "POST"])
def run(operation: str, version: str):
    if version not in BY_VERSION or operation not in BY_VERSION[version]:
        abort(404)
    form = form_class(operation, version)()
    listed = _stations(db(), operation, version)
    form.stations.choices = options(*listed)
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
            _notes_after_sending(task_id, payload)
            return redirect(url_for(".task", task_id=task_id))
    status = 400 if (form.errors or error) else 200
    # suggestions for the chosen stations, else for every station the form offers
    scope = [s for s in (form.stations.data or []) if s in dict(listed)] or [s for s, _ in listed]
    return render_template("operations/run.html", form=form, operation=operation,
                           version=version, error=error,
                           pickers=suggestions(db(), operation, scope),
                           picker=profile_picker.picker_fields(form),
                           params=[(p, form[f"p_{p.name}"], label_of(p), picker_of(p))
                                   for p in PARAMS[operation]]), status


@bp.get("/tasks/<int:task_id>")
def task(task_id: int):
    session = db()
    found = session.get(Task, task_id)
    if found is None:
        abort(404)
    results = session.scalars(select(TaskResult).where(TaskResult.task_id == task_id)
                              .order_by(TaskResult.charge_box_id)).all()
    done = sum(1 for r in results if r.finished_at is not None)
    verdicts = {r.id: outcome.classify(found.operation, r.state,
                                       json.loads(r.response) if r.response else None)
                for r in results}
    counts = outcome.summary(v.outcome for v in verdicts.values())
    return render_template("operations/task.html", task=found, results=results, done=done,
                           payload=_pretty_json(found.payload), verdicts=verdicts,
                           outcome_text=outcome.summary_text(counts),
                           overall=outcome.overall(counts), notes=_notes_of(found),
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


