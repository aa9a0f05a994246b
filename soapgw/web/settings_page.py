"""Run-time settings: heartbeat interval, auto-registration, journal retention."""
from __future__ import annotations

from flask import Blueprint, current_app, flash, redirect, render_template, url_for
from flask_wtf import FlaskForm
from wtforms import BooleanField, IntegerField
from wtforms.validators import InputRequired, NumberRange

from soapgw.core.runtime_settings import RuntimeSettings
from soapgw.web.db import db
from soapgw.web.queries import runtime_settings

bp = Blueprint("settings_page", __name__, url_prefix="/settings")

MAX_INTERVAL = 7 * 86400  # as SOAPGW_HEARTBEAT_INTERVAL
MAX_RETENTION = 3650


class SettingsForm(FlaskForm):
    heartbeat_interval = IntegerField(
        "Heartbeat interval (seconds)",
        validators=[InputRequired("Enter a number of seconds."),
                    NumberRange(1, MAX_INTERVAL, f"Use 1 to {MAX_INTERVAL} seconds.")])
    auto_register = BooleanField("Register unknown stations automatically at their "
                                 "BootNotification")
    journal_retention_days = IntegerField(
        "Keep the message journal for (days)",
        validators=[InputRequired("Enter a number of days (0: keep forever)."),
                    NumberRange(0, MAX_RETENTION, f"Use 0 (forever) to {MAX_RETENTION} days.")])


@bp.route("", methods=["GET", "POST"])
def edit():
    current = runtime_settings(db())
    form = SettingsForm(obj=current)
    if form.validate_on_submit():
        session = db()
        for key in RuntimeSettings.KEYS:
            RuntimeSettings.save(session, key, getattr(form, key).data)
        session.commit()
        flash("Settings saved. Stations get the new heartbeat interval at their next "
              "BootNotification.", "success")
        return redirect(url_for(".edit"))
    return render_template("settings.html", form=form,
                           defaults=current_app.config["SOAPGW_SETTINGS"]), \
        400 if form.errors else 200
