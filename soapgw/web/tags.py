"""OCPP id tags: list with filters, add, bulk add, edit, delete."""
from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_wtf import FlaskForm
from sqlalchemy import Select, exists, func, select
from wtforms import BooleanField, IntegerField, SelectField, StringField, TextAreaField
from wtforms.validators import InputRequired, Length, NumberRange, Optional, ValidationError

from soapgw.core.timestamps import now
from soapgw.store.models import IdTag, Transaction
from soapgw.store.upsert import insert_for
from soapgw.web.db import db
from soapgw.web.fields import (FilterForm, Identifier, IdentifierList, UtcDateTimeField,
                               options)
from soapgw.web.paging import paginate
from soapgw.web.stations import ConfirmForm

bp = Blueprint("tags", __name__, url_prefix="/tags")

ID_TAG_LENGTH = 20  # OCPP IdToken is CiString20Type: a station can send no longer one
YES_NO = (("", "any"), "yes", "no")


class TagFilter(FilterForm):
    q = StringField("Id tag contains", validators=[Optional(), Length(max=255)])
    blocked = SelectField("Blocked", default="", choices=options(*YES_NO))
    expired = SelectField("Expired", default="", choices=options(*YES_NO))
    active = SelectField("In a transaction", default="", choices=options(*YES_NO))


def _known_parent(form, field) -> None:
    parent = (field.data or "").strip()
    if not parent:
        return
    own = getattr(form, "id_tag", None)
    if own is not None and own.data and parent == own.data.strip():
        raise ValidationError("A tag cannot be its own parent.")
    if getattr(form, "editing", None) is not None and parent == form.editing:
        raise ValidationError("A tag cannot be its own parent.")
    if db().scalar(select(IdTag.id).where(IdTag.id_tag == parent)) is None:
        raise ValidationError(f"There is no id tag {parent!r}: add the parent tag first.")


class TagFields(FlaskForm):
    editing: str | None = None  # the tag being edited, for the parent check
    parent_id_tag = StringField("Parent id tag", validators=[
        Optional(), Length(max=ID_TAG_LENGTH), Identifier("parent id tag", ID_TAG_LENGTH),
        _known_parent])
    expiry = UtcDateTimeField("Expiry (UTC)", render_kw={"type": "datetime-local"})
    max_active_transactions = IntegerField(
        "Max. active transactions", default=1,
        validators=[InputRequired("Enter a number (0: no limit)."),
                    NumberRange(0, 1000, "Use 0 (no limit) to 1000.")])
    blocked = BooleanField("Blocked")
    note = TextAreaField("Note", validators=[Optional(), Length(max=4000)],
                         render_kw={"rows": 2})

    def values(self) -> dict:
        return {"parent_id_tag": (self.parent_id_tag.data or "").strip() or None,
                "expiry_date": self.expiry.value,
                "max_active_transactions": self.max_active_transactions.data,
                "blocked": bool(self.blocked.data),
                "note": (self.note.data or "").strip() or None}


class AddTagForm(TagFields):
    id_tag = StringField("Id tag", validators=[
        InputRequired("Enter the id tag."), Identifier("id tag", ID_TAG_LENGTH)],
        render_kw={"spellcheck": "false", "maxlength": ID_TAG_LENGTH})

    def validate_id_tag(self, field) -> None:
        if db().scalar(select(IdTag.id).where(IdTag.id_tag == field.data)) is not None:
            raise ValidationError(f"The id tag {field.data!r} exists already.")


class BulkTagForm(TagFields):
    ids = IdentifierList("Id tags, one per line", what="id tag", max_length=ID_TAG_LENGTH,
                         render_kw={"rows": 8, "spellcheck": "false"})


# --- list ----------------------------------------------------------------------------------------
def _active_of_tag():
    return (Transaction.id_tag == IdTag.id_tag) & Transaction.stop_timestamp.is_(None)


def filtered_tags(form: TagFilter) -> Select:
    query = select(IdTag).order_by(IdTag.id_tag)
    data, at = form.data, now()
    if data["q"]:
        pattern = "%" + data["q"].replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        query = query.where(IdTag.id_tag.ilike(pattern, escape="\\"))
    if data["blocked"]:
        query = query.where(IdTag.blocked.is_(data["blocked"] == "yes"))
    if data["expired"] == "yes":
        query = query.where(IdTag.expiry_date < at)
    elif data["expired"] == "no":
        query = query.where(IdTag.expiry_date.is_(None) | (IdTag.expiry_date >= at))
    if data["active"]:
        in_transaction = exists(select(Transaction.id).where(_active_of_tag()))
        query = query.where(in_transaction if data["active"] == "yes" else ~in_transaction)
    return query


@bp.get("/")
def index():
    session = db()
    form = TagFilter(request.args)
    form.validate()
    page = paginate(session, filtered_tags(form), scalars=True)
    names = [tag.id_tag for tag in page.items]
    active = dict(session.execute(
        select(Transaction.id_tag, func.count()).where(Transaction.id_tag.in_(names),
                                                       Transaction.stop_timestamp.is_(None))
        .group_by(Transaction.id_tag)).all()) if names else {}
    return render_template("tags/list.html", form=form, page=page, active=active, at=now())


# --- add, bulk add, edit, delete -----------------------------------------------------------------
@bp.route("/add", methods=["GET", "POST"])
def add():
    form = AddTagForm()
    if form.validate_on_submit():
        db().add(IdTag(id_tag=form.id_tag.data, created_at=now(), **form.values()))
        db().commit()
        flash(f"Added id tag {form.id_tag.data}.", "success")
        return redirect(url_for(".index"))
    return render_template("tags/form.html", form=form, title="Add an id tag", tag=None)


@bp.route("/bulk", methods=["GET", "POST"])
def bulk():
    form = BulkTagForm()
    if form.validate_on_submit():
        session = db()
        ids, values = form.ids.identifiers, form.values()
        if values["parent_id_tag"] in ids:
            form.parent_id_tag.errors.append("A tag cannot be its own parent.")
            return render_template("tags/bulk.html", form=form), 400
        existing = set(session.scalars(select(IdTag.id_tag).where(IdTag.id_tag.in_(ids))))
        new = [i for i in ids if i not in existing]
        if new:
            session.execute(insert_for(session, IdTag).values(
                [{"id_tag": i, "created_at": now(), **values} for i in new])
                .on_conflict_do_nothing())
        session.commit()
        message = f"Added {len(new)} id tag(s)."
        if existing:
            message += " Already there: " + ", ".join(sorted(existing)[:20]) + \
                       ("…" if len(existing) > 20 else "") + "."
        flash(message, "success" if new else "warning")
        return redirect(url_for(".index"))
    return render_template("tags/bulk.html", form=form)


def _tag_or_404(pk: int) -> IdTag:
    tag = db().get(IdTag, pk)
    if tag is None:
        abort(404)
    return tag


@bp.route("/<int:pk>", methods=["GET", "POST"])
def edit(pk: int):
    tag = _tag_or_404(pk)
    form = TagFields(obj=tag)
    form.editing = tag.id_tag
    if request.method == "GET":
        form.expiry.data = tag.expiry_date and tag.expiry_date.strftime("%Y-%m-%dT%H:%M")
    elif form.validate_on_submit():
        for name, value in form.values().items():
            setattr(tag, name, value)
        db().commit()
        flash(f"Saved id tag {tag.id_tag}.", "success")
        return redirect(url_for(".edit", pk=pk))
    session = db()
    transactions = session.execute(
        select(Transaction.id, Transaction.start_timestamp, Transaction.stop_timestamp)
        .where(Transaction.id_tag == tag.id_tag)
        .order_by(Transaction.id.desc()).limit(10)).all()
    children = session.scalars(select(IdTag.id_tag).where(IdTag.parent_id_tag == tag.id_tag)
                               .order_by(IdTag.id_tag).limit(50)).all()
    status = 400 if form.errors else 200
    return render_template("tags/form.html", form=form, title=f"Id tag {tag.id_tag}", tag=tag,
                           transactions=transactions, children=children), status


@bp.route("/<int:pk>/delete", methods=["GET", "POST"])
def delete(pk: int):
    tag = _tag_or_404(pk)
    form = ConfirmForm()
    if form.validate_on_submit():
        db().delete(tag)
        db().commit()
        flash(f"Deleted id tag {tag.id_tag}.", "success")
        return redirect(url_for(".index"))
    active = db().scalar(select(func.count()).select_from(Transaction).where(
        Transaction.id_tag == tag.id_tag, Transaction.stop_timestamp.is_(None)))
    return render_template("tags/delete.html", tag=tag, form=form, active=active)
