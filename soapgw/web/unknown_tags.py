"""Unknown id tags: presented by stations (Authorize, StartTransaction) but not registered;
Add registers one (core.unknown_tags.add_unknown), Forget drops it from the list."""
from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from sqlalchemy import select

from soapgw.core import unknown_tags
from soapgw.core.errors import Invalid, NotFound
from soapgw.store.models import UnknownIdTag
from soapgw.web.db import db
from soapgw.web.paging import paginate
from soapgw.web.stations import ConfirmForm

bp = Blueprint("unknown_tags", __name__, url_prefix="/tags/unknown")


@bp.get("/")
def index():
    page = paginate(db(), select(UnknownIdTag).order_by(UnknownIdTag.last_seen.desc(),
                                                        UnknownIdTag.id.desc()), scalars=True)
    return render_template("unknown_tags/list.html", page=page, form=ConfirmForm())


def _act(act, unknown_id: int) -> str | None:
    if not ConfirmForm().validate_on_submit():
        abort(400)
    try:
        id_tag = act(db(), unknown_id)
    except NotFound:
        abort(404)
    except Invalid as invalid:
        db().rollback()
        flash("Cannot add it: " + "; ".join(invalid.problems.values()) + ".", "error")
        return None
    db().commit()
    return id_tag


@bp.post("/<int:unknown_id>/add")
def add(unknown_id: int):
    id_tag = _act(unknown_tags.add_unknown, unknown_id)
    if id_tag is not None:
        flash(f"Added id tag {id_tag}: it is accepted from now on. Edit it to set an expiry, "
              "a parent or its holder.", "success")
    return redirect(url_for(".index"))


@bp.post("/<int:unknown_id>/forget")
def forget(unknown_id: int):
    id_tag = _act(unknown_tags.forget_unknown, unknown_id)
    if id_tag is not None:
        flash(f"Forgot {id_tag}; it shows up again if a station presents it again.")
    return redirect(url_for(".index"))
