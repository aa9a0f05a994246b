"""SendLocalList built from the tag table (full or differential, chosen tags, all tags or an
empty list) and the station page's GetLocalListVersion button. The payload is
core.local_lists'; the version a station holds is recorded from its answers."""
from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_wtf import FlaskForm
from sqlalchemy import func, select
from wtforms import IntegerField, RadioField, SelectField, SelectMultipleField, TextAreaField
from wtforms.validators import InputRequired, NumberRange

from soapgw.core import local_lists
from soapgw.core.commands.errors import TaskError
from soapgw.core.enums import UpdateType
from soapgw.core.errors import Invalid
from soapgw.store.models import ChargeBox, IdTag
from soapgw.web.db import db
from soapgw.web.fields import MAX_LIST_LINES, options, show_problems
from soapgw.web.task_submit import submit_task

bp = Blueprint("local_lists", __name__, url_prefix="/local-list")

SCOPES = (("all", "Every tag in the tag table"), ("chosen", "The tags named below"),
          ("empty", "An empty list (Full: clears the station's list)"))


class LocalListForm(FlaskForm):
    stations = SelectMultipleField("Charge points", choices=[], render_kw={"size": 8},
                                   validators=[InputRequired("Select at least one station.")])
    list_version = IntegerField("List version", [
        InputRequired("Enter the list version."),
        NumberRange(1, local_lists.MAX_VERSION, "Use 1 or more.")],
        description="listVersion: offered one past the highest version the chosen stations "
                    "hold")
    update_type = SelectField("Update", choices=options(
        (UpdateType.full.value, "Full: replace the station's list"),
        (UpdateType.differential.value, "Differential: add or change these entries")))
    scope = RadioField("Tags in the list", choices=options(*SCOPES), default="all")
    id_tags = TextAreaField("Id tags, one per line", render_kw={"rows": 5,
                                                                 "spellcheck": "false"})


class ActForm(FlaskForm):
    """Only the CSRF token: for buttons that act."""


def _id_tags(text: str | None) -> list[str]:
    return list(dict.fromkeys(line.strip() for line in (text or "").splitlines()
                              if line.strip()))


@bp.route("/", methods=["GET", "POST"])
def send():
    session = db()
    form = LocalListForm()
    form.stations.choices = options(*(
        (cb, f"{cb} (OCPP {version}, holds {held if held is not None else '?'})")
        for cb, version, held in session.execute(
            select(ChargeBox.charge_box_id, ChargeBox.ocpp_version,
                   ChargeBox.local_list_version)
            .where(ChargeBox.registration_status == "Accepted",
                   ChargeBox.ocpp_version.in_(("1.5", "1.6")))
            .order_by(ChargeBox.charge_box_id).limit(2000))))
    if request.method == "GET":
        chosen = request.args.getlist("station")
        form.stations.data = chosen
        form.list_version.data = local_lists.next_version(session, chosen or None)
    error = None
    if form.validate_on_submit():
        tags = _id_tags(form.id_tags.data) if form.scope.data == "chosen" else None
        if tags is not None and len(tags) > MAX_LIST_LINES * 10:
            form.id_tags.errors = list(form.id_tags.errors) + ["Too many lines."]
        else:
            try:
                payload = local_lists.send_local_list_request(
                    session, form.list_version.data, form.update_type.data, tags,
                    empty=form.scope.data == "empty")
            except Invalid as invalid:
                show_problems(form, invalid.problems)
            else:
                try:
                    task_id = submit_task("SendLocalList", payload, form.stations.data)
                except TaskError as exc:
                    error = exc.reason
                else:
                    return redirect(url_for("operations.task", task_id=task_id))
    tag_count = db().scalar(select(func.count()).select_from(IdTag))
    status = 400 if (form.errors or error) else 200
    return render_template("local_lists/send.html", form=form, error=error,
                           tag_count=tag_count), status


@bp.post("/station/<int:pk>/version")
def version(pk: int):
    """GetLocalListVersion to one station; the answer is recorded as its version."""
    if not ActForm().validate_on_submit():
        abort(400)
    station = db().get(ChargeBox, pk)
    if station is None:
        abort(404)
    try:
        task_id = submit_task("GetLocalListVersion", {}, [station.charge_box_id])
    except TaskError as exc:
        flash(f"GetLocalListVersion not sent: {exc.reason}", "error")
        return redirect(url_for("stations.detail", pk=pk))
    return redirect(url_for("operations.task", task_id=task_id))
