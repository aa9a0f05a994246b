"""Run-time settings: heartbeat interval, auto-registration, journal retention, the timeouts of
commands to stations."""
from __future__ import annotations

import math

from flask import Blueprint, current_app, flash, redirect, render_template, url_for
from flask_wtf import FlaskForm
from wtforms import BooleanField, FloatField, IntegerField
from wtforms.validators import InputRequired, NumberRange, ValidationError

from soapgw.config import MAX_TIMEOUT
from soapgw.core.errors import Invalid
from soapgw.core.runtime_settings import MAX_INTERVAL, MAX_RETENTION, RuntimeSettings
from soapgw.web import notifications
from soapgw.web.db import db
from soapgw.web.fields import show_problems
from soapgw.web.queries import runtime_settings

bp = Blueprint("settings_page", __name__, url_prefix="/settings")



class SecondsField(FloatField):
    """Seconds with decimals (as SOAPGW_CONNECT_TIMEOUT and SOAPGW_OPERATION_TIMEOUT)."""

    def process_formdata(self, valuelist) -> None:
        # our own message: WTForms' "Not a valid float value." means little to an operator
        try:
            super().process_formdata(valuelist)
        except ValueError:
            raise ValueError("Enter a number of seconds, e.g. 30 or 2.5.") from None

    def _value(self) -> str:
        if self.raw_data or self.data is None:
            return super()._value()
        return f"{self.data:g}"  # 30, not 30.0


def _timeout_range(form, field: SecondsField) -> None:
    # NumberRange includes its minimum, but 0 s is no timeout (and "nan" parses as a float)
    value = field.data
    if value is not None and not (math.isfinite(value) and 0 < value <= MAX_TIMEOUT):
        raise ValidationError(f"Use more than 0 and at most {MAX_TIMEOUT:g} seconds.")


def _seconds(label: str) -> SecondsField:
    return SecondsField(label, validators=[InputRequired("Enter a number of seconds."),
                                           _timeout_range])


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
    event_retention_days = IntegerField(
        "Keep events every consumer has read for (days)",
        validators=[InputRequired("Enter a number of days (0: keep forever)."),
                    NumberRange(0, MAX_RETENTION, f"Use 0 (forever) to {MAX_RETENTION} days.")])
    connect_timeout = _seconds("Connect timeout for commands to stations (seconds)")
    operation_timeout = _seconds("Operation timeout for commands to stations (seconds)")


@bp.route("", methods=["GET", "POST"])
def edit():
    current = runtime_settings(db())
    form = SettingsForm(obj=current)
    if form.validate_on_submit():
        session = db()
        try:
            RuntimeSettings.save(session, {key: getattr(form, key).data
                                           for key in RuntimeSettings.KEYS})
        except Invalid as invalid:  # the form's own checks are the same: a safety net
            show_problems(form, invalid.problems)
            return render_template("settings.html", form=form,
                                   defaults=current_app.config["SOAPGW_SETTINGS"],
                                   **notifications.section()), 400
        session.commit()
        flash("Settings saved. Stations get the new heartbeat interval at their next "
              "BootNotification; the timeouts apply to commands started from now on.", "success")
        return redirect(url_for(".edit"))
    return render_template("settings.html", form=form,
                           defaults=current_app.config["SOAPGW_SETTINGS"],
                           **notifications.section()), \
        400 if form.errors else 200
