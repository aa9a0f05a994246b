"""Web UI accounts, managed by the signed-in admin: list, create, disable and enable, reset a
password. Every act is a core.accounts function (the CLI's ``soapgw admin`` uses the same)."""
from __future__ import annotations

from flask import Blueprint, abort, flash, g, redirect, render_template, url_for
from flask_wtf import FlaskForm
from wtforms import PasswordField, StringField
from wtforms.validators import EqualTo, InputRequired, Length

from soapgw.core import accounts
from soapgw.core.errors import Conflict, Invalid, NotFound
from soapgw.core.passwords import MIN_PASSWORD_LENGTH
from soapgw.web.db import db
from soapgw.web.fields import show_problems

bp = Blueprint("accounts", __name__, url_prefix="/accounts")
PASSWORD_HINT = f"At least {MIN_PASSWORD_LENGTH} characters."


def _password_fields():
    return (PasswordField("Password", validators=[InputRequired("Enter a password."),
                                                  Length(max=1024)],
                          render_kw={"autocomplete": "new-password"}),
            PasswordField("Password again", validators=[
                InputRequired("Enter the password again."),
                EqualTo("password", "The two passwords differ.")],
                render_kw={"autocomplete": "new-password"}))


class AccountForm(FlaskForm):
    username = StringField("User name", validators=[InputRequired("Enter a user name."),
                                                    Length(max=80)],
                           render_kw={"autocomplete": "off"})
    password, password_again = _password_fields()


class PasswordForm(FlaskForm):
    password, password_again = _password_fields()


class ActionForm(FlaskForm):
    """Only the CSRF token: the row buttons (disable, enable)."""


def _index(form: AccountForm, status: int = 200):
    return render_template("accounts/index.html", users=accounts.listed(db()), form=form,
                           action=ActionForm(), password_hint=PASSWORD_HINT), status


@bp.get("")
def index():
    return _index(AccountForm(formdata=None))


@bp.post("")
def create():
    form = AccountForm()
    if not form.validate():
        return _index(form, 400)
    try:
        user = accounts.create_account(db(), form.username.data, form.password.data)
    except Invalid as invalid:
        show_problems(form, invalid.problems)
        return _index(form, 400)
    db().commit()
    flash(f"Account {user.username} created.", "success")
    return redirect(url_for(".index"))


def _act(user_id: int, act, done: str):
    try:
        user = act(db(), user_id)
    except NotFound:
        abort(404)
    except Conflict as refused:
        flash(str(refused)[0].upper() + str(refused)[1:] + ".", "error")
        return redirect(url_for(".index"))
    db().commit()
    flash(f"Account {user.username} {done}.", "success")
    return redirect(url_for(".index"))


@bp.post("/<int:user_id>/disable")
def disable(user_id: int):
    return _act(user_id, lambda session, i: accounts.disable(session, i, g.user.id),
                "disabled: it cannot sign in and its sessions have ended")


@bp.post("/<int:user_id>/enable")
def enable(user_id: int):
    return _act(user_id, accounts.enable, "enabled")


@bp.route("/<int:user_id>/password", methods=["GET", "POST"])
def reset_password(user_id: int):
    try:
        user = accounts.account(db(), user_id)
    except NotFound:
        abort(404)
    form = PasswordForm()
    if form.validate_on_submit():
        try:
            accounts.reset_password(db(), user_id, form.password.data)
        except Invalid as invalid:
            show_problems(form, invalid.problems)
        else:
            db().commit()
            own = user.id == g.user.id
            flash(f"Password of {user.username} changed; its sessions have ended"
                  + (": sign in with the new password." if own else "."), "success")
            return redirect(url_for(".index"))
    return render_template("accounts/password.html", user=user, form=form,
                           password_hint=PASSWORD_HINT), 400 if form.errors else 200
