"""Station authentication on the charge point page: source networks, password (never shown
again), client certificate, callback policy; refused messages (soapgw.core.station_credentials)."""
from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, url_for
from flask_wtf import FlaskForm
from wtforms import BooleanField, PasswordField, SelectField, StringField, TextAreaField
from wtforms.validators import Length, Optional, ValidationError

from soapgw.core.passwords import password_problem
from soapgw.core.station_auth import read_networks
from soapgw.core.station_credentials import (CredentialError, set_callback_policy,
                                             set_certificate, set_networks, set_password,
                                             summary_of)
from soapgw.store.models import ChargeBox
from soapgw.web.db import db
from soapgw.web.fields import options

bp = Blueprint("station_auth", __name__, url_prefix="/chargepoints")


def _networks(form, field) -> None:
    try:
        read_networks((field.data or "").replace(",", "\n").splitlines())
    except ValueError as exc:
        raise ValidationError(str(exc)) from None


def _password(form, field) -> None:
    if field.data:
        problem = password_problem(field.data)
        if problem:
            raise ValidationError(problem[0].upper() + problem[1:] + ".")


class AccessForm(FlaskForm):
    networks = TextAreaField("Source networks (CIDR, one per line)",
                             validators=[Optional(), Length(max=4000), _networks],
                             render_kw={"rows": 2, "spellcheck": "false",
                                        "placeholder": "10.8.0.0/16"})
    password = PasswordField("New password (HTTP Basic, user = charge point id)",
                             validators=[Optional(), _password],
                             render_kw={"autocomplete": "new-password"})
    clear_password = BooleanField("Remove the password")
    certificate = StringField("Client certificate subject or fingerprint",
                              validators=[Optional(), Length(max=1024)],
                              render_kw={"spellcheck": "false",
                                         "placeholder": "CN=CP-1,O=Operator"})
    callback_policy = SelectField("Callback address", choices=options(
        ("follow", "follows the station's announcements"),
        ("keep", "kept: never moves to another host by itself")))


def access_context(station: ChargeBox) -> dict:
    summary = summary_of(station)
    form = AccessForm(formdata=None, networks="\n".join(str(n) for n in summary.networks),
                      certificate=summary.certificate or "",
                      callback_policy=summary.callback_policy)
    return {"form": form, "summary": summary}


@bp.post("/<int:pk>/access")
def edit(pk: int):
    session = db()
    station = session.get(ChargeBox, pk)
    if station is None:
        abort(404)
    form = AccessForm()
    if not form.validate_on_submit():
        for field in form:
            for error in field.errors:
                flash(f"{field.label.text}: {error}", "error")
        return redirect(url_for("stations.detail", pk=pk, _anchor="access"))
    identity = station.charge_box_id
    try:
        set_networks(session, identity, (form.networks.data or "").replace(",", "\n").splitlines())
        set_certificate(session, identity, form.certificate.data)
        set_callback_policy(session, identity, form.callback_policy.data)
        if form.clear_password.data:
            set_password(session, identity, None)
        elif form.password.data:
            set_password(session, identity, form.password.data)
    except CredentialError as exc:
        session.rollback()
        flash(str(exc), "error")
        return redirect(url_for("stations.detail", pk=pk, _anchor="access"))
    session.commit()
    flash(f"Saved the authentication of {identity}.", "success")
    return redirect(url_for("stations.detail", pk=pk, _anchor="access"))


def init_app(app) -> None:
    app.register_blueprint(bp)
    app.context_processor(lambda: {"station_access": access_context})
