"""Sign in and out; every other page requires a signed-in admin user."""
from __future__ import annotations

from flask import (Blueprint, Flask, flash, g, redirect, render_template, request, session,
                   url_for)
from flask_wtf import FlaskForm
from sqlalchemy import select
from wtforms import PasswordField, StringField
from wtforms.validators import DataRequired, Length

from soapgw.timestamps import now
from soapgw.store.models import AdminUser
from soapgw.web.db import db
from soapgw.web.security import password_matches

bp = Blueprint("auth", __name__)

# Endpoints open without a session: the sign-in page, health checks (tests, load balancers)
# and the stylesheet the sign-in page needs.
PUBLIC_ENDPOINTS = {"auth.sign_in", "health", "static"}
API_PATH = "/api/"


class SignInForm(FlaskForm):
    username = StringField("User name", validators=[DataRequired(), Length(max=80)],
                           render_kw={"autocomplete": "username", "autofocus": True})
    password = PasswordField("Password", validators=[DataRequired(), Length(max=1024)],
                             render_kw={"autocomplete": "current-password"})


def safe_next(target: str | None) -> str:
    """Only paths on this site (no //host, no scheme): no open redirect through ?next=."""
    if target and target.startswith("/") and not target.startswith("//") \
            and "\\" not in target and not any(ord(c) < 32 for c in target):
        return target
    return url_for("dashboard.index")


@bp.route("/login", methods=["GET", "POST"])
def sign_in():
    form = SignInForm()
    error = None
    if form.validate_on_submit():
        user = db().scalars(select(AdminUser).where(
            AdminUser.username == form.username.data.strip())).one_or_none()
        if password_matches(user.password_hash if user else None, form.password.data):
            user.last_login_at = now()
            db().commit()
            session.clear()  # a fresh session: nothing carried over from before signing in
            session.permanent = True
            session["user_id"] = user.id
            return redirect(safe_next(request.args.get("next")))
        error = "Unknown user name or wrong password."
    return render_template("auth/sign_in.html", form=form, error=error), 401 if error else 200


@bp.post("/logout")
def sign_out():
    session.clear()
    flash("You are signed out.")
    return redirect(url_for("auth.sign_in"))


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)

    @app.before_request
    def require_sign_in():
        if request.endpoint in PUBLIC_ENDPOINTS or request.path.startswith(API_PATH):
            return None  # the API authenticates with bearer tokens (soapgw.api)
        user_id = session.get("user_id")
        user = db().get(AdminUser, user_id) if isinstance(user_id, int) else None
        if user is None:  # signed out, or the user was deleted meanwhile
            session.pop("user_id", None)
            target = request.full_path if request.method == "GET" else None
            return redirect(url_for("auth.sign_in", next=target))
        g.user = user
        return None
