"""The notifications section of the Settings page: the SMTP server, the test mail, the
recipients and the notifications each chose, and the latest mails with their state.

Every act is one core function (core.mail); the mails themselves go out from ``soapgw
dispatch``, never from a web request (a slow SMTP server must not hold a worker the stations
need): the test mail is queued and its state shows below the button.
"""
from __future__ import annotations

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_wtf import FlaskForm
from wtforms import (BooleanField, IntegerField, PasswordField, SelectField,
                     SelectMultipleField, StringField)
from wtforms.validators import InputRequired, Length, NumberRange, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from soapgw.core.enums import MailEvent, SmtpSecurity
from soapgw.core.errors import Invalid, NotFound
from soapgw.core.mail import outbox, recipients, smtp_settings
from soapgw.core.mail.compose import LABELS
from soapgw.core.upstream_secret import PasswordBox
from soapgw.web.db import db
from soapgw.web.fields import options, show_problems

bp = Blueprint("notifications", __name__, url_prefix="/settings/notifications")

EVENT_CHOICES = [(kind.value, LABELS[kind]) for kind in MailEvent]
SECURITY_CHOICES = [(SmtpSecurity.STARTTLS.value, "STARTTLS (usually port 587)"),
                    (SmtpSecurity.TLS.value, "TLS from the start (usually port 465)"),
                    (SmtpSecurity.NONE.value, "None (a relay on a trusted network)")]


class CheckboxesField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class SmtpForm(FlaskForm):
    host = StringField("SMTP host", validators=[Optional(), Length(max=253)],
                       render_kw={"placeholder": "smtp.example.com"})
    port = IntegerField("Port", default=587, validators=[
        InputRequired("Enter a port."), NumberRange(1, 65535, "Use 1 to 65535.")])
    security = SelectField("Encryption", choices=options(*SECURITY_CHOICES))
    username = StringField("User name", validators=[Optional(), Length(max=254)],
                           render_kw={"autocomplete": "off"})
    password = PasswordField("Password", validators=[Optional(), Length(max=1024)],
                             render_kw={"autocomplete": "new-password"})
    clear_password = BooleanField("Remove the stored password")
    from_address = StringField("From address", validators=[Optional(), Length(max=254)],
                               render_kw={"placeholder": "soapgw@example.com"})


class TestMailForm(FlaskForm):
    test_recipient = StringField("Send a test mail to", validators=[
        InputRequired("Enter an e-mail address."), Length(max=254)])


class RecipientForm(FlaskForm):
    address = StringField("E-mail address", validators=[
        InputRequired("Enter an e-mail address."), Length(max=254)])
    events = CheckboxesField("Notify on", choices=options(*EVENT_CHOICES))


def section(smtp_form: SmtpForm | None = None, test_form: TestMailForm | None = None,
            recipient_form: RecipientForm | None = None) -> dict:
    """What the section template needs (the Settings page includes it)."""
    session = db()
    current = smtp_settings.load(session)
    if smtp_form is None:
        smtp_form = SmtpForm(formdata=None, host=current.host, port=current.port,
                             security=current.security, username=current.username,
                             from_address=current.from_address)
    return {"smtp": current, "smtp_form": smtp_form,
            "test_form": test_form or TestMailForm(formdata=None),
            "recipient_form": recipient_form or RecipientForm(formdata=None),
            "recipients": recipients.listed(session), "event_choices": EVENT_CHOICES,
            "event_labels": {k.value: v for k, v in LABELS.items()},
            "mails": outbox.recent(session)}


def _page(status: int = 400, **forms):
    return render_template("notifications/page.html", **section(**forms)), status


@bp.get("")
def index():
    return _page(200)


@bp.post("/smtp")
def save_smtp():
    form = SmtpForm()
    if not form.validate():
        return _page(smtp_form=form)
    box = PasswordBox(current_app.config["SOAPGW_SETTINGS"].instance_path)
    try:
        smtp_settings.save(db(), box, host=form.host.data or "", port=form.port.data,
                           security=form.security.data, username=form.username.data or "",
                           from_address=form.from_address.data or "",
                           password=form.password.data or None,
                           clear_password=form.clear_password.data)
    except Invalid as invalid:
        show_problems(form, invalid.problems)
        return _page(smtp_form=form)
    db().commit()
    flash("SMTP settings saved.", "success")
    return redirect(url_for("settings_page.edit", _anchor="notifications"))


@bp.post("/test")
def send_test():
    form = TestMailForm()
    if not form.validate():
        return _page(test_form=form)
    session = db()
    try:
        current = smtp_settings.load(session)
        outbox.queue_test_mail(session, form.test_recipient.data,
                               current.from_address if current.configured else "")
    except Invalid as invalid:
        show_problems(form, invalid.problems)
        return _page(test_form=form)
    session.commit()
    flash(f"Test mail to {form.test_recipient.data.strip()} queued: its state shows under "
          "Latest mails (the dispatcher sends it within seconds).", "success")
    return redirect(url_for("settings_page.edit", _anchor="mails"))


@bp.post("/recipients")
def add_recipient():
    form = RecipientForm()
    if not form.validate():
        return _page(recipient_form=form)
    try:
        recipients.add(db(), form.address.data, form.events.data or [])
    except Invalid as invalid:
        show_problems(form, invalid.problems)
        return _page(recipient_form=form)
    db().commit()
    flash(f"{form.address.data.strip()} will be notified.", "success")
    return redirect(url_for("settings_page.edit", _anchor="recipients"))


@bp.post("/recipients/<int:recipient_id>")
def change_recipient(recipient_id: int):
    try:
        if request.form.get("remove"):
            recipients.remove(db(), recipient_id)
            message = "Recipient removed."
        else:
            recipients.change(db(), recipient_id, request.form.getlist("events"))
            message = "Notifications changed."
    except NotFound:
        return render_template("error.html", title="Not found",
                               message="There is no such recipient."), 404
    except Invalid as invalid:
        for reason in invalid.problems.values():
            flash(reason[0].upper() + reason[1:] + ".", "error")
        return redirect(url_for("settings_page.edit", _anchor="recipients"))
    db().commit()
    flash(message, "success")
    return redirect(url_for("settings_page.edit", _anchor="recipients"))


@bp.post("/mails/<int:mail_id>/retry")
def retry_mail(mail_id: int):
    try:
        outbox.retry(db(), mail_id)
    except NotFound:
        flash("That mail was sent already or is gone.", "error")
        return redirect(url_for("settings_page.edit", _anchor="mails"))
    db().commit()
    flash("The mail will be sent again now.", "success")
    return redirect(url_for("settings_page.edit", _anchor="mails"))
