"""API access: the REST API's tokens (list with last use, revoke) and webhook subscriptions
(state, paused ones with the reason, pause, resume). Tokens are created with
``soapgw token create`` (the token is shown once, on the command line) or by the API."""
from __future__ import annotations

import json

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_wtf import FlaskForm
from sqlalchemy import func, select

from soapgw.core import api_tokens
from soapgw.core.errors import NotFound
from soapgw.core.webhooks import subscriptions
from soapgw.store.models import Webhook, WebhookDelivery
from soapgw.web.db import db

bp = Blueprint("api_access", __name__, url_prefix="/api-access")


@bp.get("/")
def index():
    session = db()
    hooks = session.scalars(select(Webhook).order_by(Webhook.id)).all()
    pending = dict(session.execute(
        select(WebhookDelivery.webhook_id, func.count()).where(
            WebhookDelivery.state == "pending").group_by(WebhookDelivery.webhook_id)).all())
    return render_template("api_access/index.html", tokens=api_tokens.tokens(session),
                           hooks=hooks, pending=pending, form=FlaskForm(),
                           filters=lambda text: ", ".join(json.loads(text)) or "all")


def _act(act, message: str):
    form = FlaskForm()
    if form.validate_on_submit():
        try:
            act(db())
            db().commit()
            flash(message, "success")
        except NotFound as error:
            flash(str(error), "error")
    return redirect(url_for(".index"))


@bp.post("/tokens/<int:token_id>/revoke")
def revoke_token(token_id: int):
    return _act(lambda session: api_tokens.revoke(session, token_id),
                "The token is revoked: requests with it are refused from now on.")


@bp.post("/webhooks/<int:webhook_id>/pause")
def pause_webhook(webhook_id: int):
    return _act(lambda session: subscriptions.pause(session, webhook_id, "paused by hand"),
                f"Webhook {webhook_id} is paused; its events wait.")


@bp.post("/webhooks/<int:webhook_id>/resume")
def resume_webhook(webhook_id: int):
    return _act(lambda session: subscriptions.resume(session, webhook_id),
                f"Webhook {webhook_id} delivers again, from the message that waited.")
