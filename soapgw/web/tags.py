"""OCPP id tags: list with filters, add, bulk add, edit, delete."""
from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_wtf import FlaskForm
from sqlalchemy import Select, exists, func, select
from wtforms import BooleanField, IntegerField, SelectField, StringField, TextAreaField
from wtforms.validators import InputRequired, Length, NumberRange, Optional
from wtforms.widgets import HiddenInput

from soapgw.core import people, tags
from soapgw.core.errors import Invalid, NotFound
from soapgw.core.identifiers import ID_TAG_LENGTH
from soapgw.timestamps import now
from soapgw.store.models import IdTag, Person, Transaction, UnknownIdTag
from soapgw.web.db import db
from soapgw.web.fields import (FilterForm, Identifier, IdentifierList, UtcDateTimeField,
                               options, show_problems)
from soapgw.web.paging import paginate
from soapgw.web.stations import ConfirmForm

bp = Blueprint("tags", __name__, url_prefix="/tags")

YES_NO = (("", "any"), "yes", "no")


class TagFilter(FilterForm):
    q = StringField("Id tag contains", validators=[Optional(), Length(max=255)])
    blocked = SelectField("Blocked", default="", choices=options(*YES_NO))
    expired = SelectField("Expired", default="", choices=options(*YES_NO))
    active = SelectField("In a transaction", default="", choices=options(*YES_NO))
    person = StringField("User contains", validators=[Optional(), Length(max=255)])
    person_id = IntegerField(validators=[Optional()], widget=HiddenInput())


class TagFields(FlaskForm):
    parent_id_tag = StringField("Parent id tag", validators=[
        Optional(), Length(max=ID_TAG_LENGTH), Identifier("parent id tag", ID_TAG_LENGTH)])
    expiry = UtcDateTimeField("Expiry (UTC)", render_kw={"type": "datetime-local"})
    max_active_transactions = IntegerField(
        "Max. active transactions", default=1,
        validators=[InputRequired("Enter a number (0: no limit)."),
                    NumberRange(0, 1000, "Use 0 (no limit) to 1000.")])
    blocked = BooleanField("Blocked")
    note = TextAreaField("Note", validators=[Optional(), Length(max=4000)],
                         render_kw={"rows": 2})

    def values(self) -> tags.TagValues:
        return tags.TagValues(parent_id_tag=self.parent_id_tag.data,
                              expiry_date=self.expiry.value,
                              max_active_transactions=self.max_active_transactions.data,
                              blocked=bool(self.blocked.data), note=self.note.data)


class AddTagForm(TagFields):
    id_tag = StringField("Id tag", validators=[
        InputRequired("Enter the id tag."), Identifier("id tag", ID_TAG_LENGTH)],
        render_kw={"spellcheck": "false", "maxlength": ID_TAG_LENGTH})


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
    held = people.resolved_tags(db(), data["person_id"], data["person"])
    if held is not None:
        query = query.where(IdTag.id_tag.in_(held))
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
    holders = {p.id: p for p in session.scalars(select(Person).where(Person.id.in_(
        {t.person_id for t in page.items if t.person_id is not None})))}
    chosen = session.get(Person, form.person_id.data) if form.person_id.data else None
    return render_template("tags/list.html", form=form, page=page, active=active, at=now(),
                           holders=holders, chosen=chosen,
                           unknown=session.scalar(select(func.count()).select_from(UnknownIdTag)))


# --- add, bulk add, edit, delete -----------------------------------------------------------------
# The service's field names, where the forms name them otherwise.
_FIELDS = {"expiry_date": "expiry"}


@bp.route("/add", methods=["GET", "POST"])
def add():
    form = AddTagForm()
    if form.validate_on_submit():
        try:
            tags.add_tag(db(), form.id_tag.data, form.values())
        except Invalid as invalid:
            show_problems(form, invalid.problems, _FIELDS)
        else:
            db().commit()
            flash(f"Added id tag {form.id_tag.data}.", "success")
            return redirect(url_for(".index"))
    return render_template("tags/form.html", form=form, title="Add an id tag", tag=None), \
        400 if form.errors else 200


@bp.route("/bulk", methods=["GET", "POST"])
def bulk():
    form = BulkTagForm()
    if form.validate_on_submit():
        try:
            added = tags.add_tags(db(), form.ids.identifiers, form.values())
        except Invalid as invalid:
            show_problems(form, invalid.problems, {**_FIELDS, "id_tag": "ids"})
            return render_template("tags/bulk.html", form=form), 400
        db().commit()
        message = f"Added {len(added.added)} id tag(s)."
        if added.existing:
            message += " Already there: " + ", ".join(added.existing[:20]) + \
                       ("…" if len(added.existing) > 20 else "") + "."
        flash(message, "success" if added.added else "warning")
        return redirect(url_for(".index"))
    return render_template("tags/bulk.html", form=form)


def _tag_or_404(pk: int) -> IdTag:
    try:
        return tags.tag(db(), pk)
    except NotFound:
        abort(404)


@bp.route("/<int:pk>", methods=["GET", "POST"])
def edit(pk: int):
    tag = _tag_or_404(pk)
    form = TagFields(obj=tag)
    if request.method == "GET":
        form.expiry.data = tag.expiry_date and tag.expiry_date.strftime("%Y-%m-%dT%H:%M")
    elif form.validate_on_submit():
        try:
            tags.update_tag(db(), pk, form.values())
        except Invalid as invalid:
            db().rollback()
            show_problems(form, invalid.problems, _FIELDS)
            tag = _tag_or_404(pk)
        else:
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
    holder = session.get(Person, tag.person_id) if tag.person_id else None
    return render_template("tags/form.html", form=form, title=f"Id tag {tag.id_tag}", tag=tag,
                           transactions=transactions, children=children, holder=holder), status


@bp.route("/<int:pk>/delete", methods=["GET", "POST"])
def delete(pk: int):
    tag = _tag_or_404(pk)
    form = ConfirmForm()
    if form.validate_on_submit():
        id_tag = tags.delete_tag(db(), pk)
        db().commit()
        flash(f"Deleted id tag {id_tag}.", "success")
        return redirect(url_for(".index"))
    return render_template("tags/delete.html", tag=tag, form=form,
                           active=tags.active_transactions(db(), tag.id_tag))
