"""Sign in and out; every other page requires a signed-in admin user whose session is
current (soapgw.core.sign_in: throttled guesses, revocable sessions)."""
from __future__ import annotations

from flask import (Blueprint, Flask, current_app, flash, g, redirect, render_template, request,
                   session, url_for)
from flask_wtf import FlaskForm
from wtforms import PasswordField, StringField
from wtforms.validators import DataRequired, Length

from soapgw.core import sign_in as sign_in_service
from soapgw.core.commands.callback_policy import client_address
from soapgw.timestamps import now
from soapgw.store.models import AdminUser
from soapgw.web.check_gate import CheckGate
from soapgw.web.db import db

bp = Blueprint("auth", __name__)
THROTTLE_CONFIG = "SOAPGW_SIGN_IN_THROTTLE"  # a core.sign_in.ThrottlePolicy (tests shorten it)

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


def _client_address() -> str | None:
    settings = current_app.config["SOAPGW_SETTINGS"]
    return client_address(request.remote_addr, request.headers.get("X-Forwarded-For"),
                          settings.trusted_proxies)


@bp.route("/login", methods=["GET", "POST"])
def sign_in():
    form = SignInForm()
    error, status, headers = None, 200, {}
    if form.validate_on_submit():
        policy = current_app.config.get(THROTTLE_CONFIG) or sign_in_service.ThrottlePolicy()
        result = sign_in_service.sign_in(db(), form.username.data.strip(), form.password.data,
                                         _client_address(), now(), policy,
                                         current_app.extensions["soapgw_check_gate"].enter)
        db().commit()
        if result.ok:
            session.clear()  # a fresh session: nothing carried over from before signing in
            session.permanent = True
            session["user_id"] = result.user_id
            session["generation"] = result.session_generation
            return redirect(safe_next(request.args.get("next")))
        if result.busy:
            error = "The server is checking another sign-in. Try again in a second."
            status, headers = 429, {"Retry-After": "1"}
        elif result.retry_after is not None:
            error = (f"Too many failed sign-ins for this user or from this address. Try again "
                     f"in {result.retry_after} seconds.")
            status, headers = 429, {"Retry-After": str(result.retry_after)}
        else:
            error, status = "Unknown user name or wrong password.", 401
    return render_template("auth/sign_in.html", form=form, error=error), status, headers


@bp.post("/logout")
def sign_out():
    # every session of this user ends, also copies of the cookie kept elsewhere
    sign_in_service.end_sessions(db(), g.user.id)
    db().commit()
    session.clear()
    flash("You are signed out.")
    return redirect(url_for("auth.sign_in"))


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
    app.extensions["soapgw_check_gate"] = CheckGate(app.config["SOAPGW_SETTINGS"].instance_path)

    @app.before_request
    def require_sign_in():
        if request.endpoint in PUBLIC_ENDPOINTS or request.path.startswith(API_PATH):
            return None  # the API authenticates with bearer tokens (soapgw.api)
        user_id = session.get("user_id")
        user = db().get(AdminUser, user_id) if isinstance(user_id, int) else None
        # signed out (here or elsewhere), a new password, or the user deleted meanwhile
        if not sign_in_service.session_is_current(user, session.get("generation")):
            session.pop("user_id", None)
            session.pop("generation", None)
            target = request.full_path if request.method == "GET" else None
            return redirect(url_for("auth.sign_in", next=target))
        g.user = user
        return None
