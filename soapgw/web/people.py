"""People (the Users page): list with search, add, detail with edits (their tags,
transactions and reservations), delete. Every write is a core.people function."""
from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_wtf import FlaskForm
from sqlalchemy import func, select
from wtforms import StringField, TextAreaField
from wtforms.validators import Length, Optional

from soapgw.core import people
from soapgw.core.errors import Invalid, NotFound
from soapgw.store.models import (ChargeBox, Connector, IdTag, Person, Reservation,
                                 Transaction)
from soapgw.web.db import db
from soapgw.web.fields import FilterForm, show_problems
from soapgw.web.paging import paginate
from soapgw.web.stations import ConfirmForm

bp = Blueprint("people", __name__, url_prefix="/people")

SHOWN = 20  # transactions and reservations on a person's page (the lists have the rest)


class PersonFilter(FilterForm):
    q = StringField("Name, e-mail, phone, city or tag contains",
                    validators=[Optional(), Length(max=255)])


def _text(label: str, limit: int, **kwargs) -> StringField:
    return StringField(label, validators=[Optional(), Length(max=limit)], **kwargs)


class PersonForm(FlaskForm):
    first_name = _text("First name", 100)
    last_name = _text("Last name", 100)
    email = _text("E-mail", 255, render_kw={"type": "email", "spellcheck": "false"})
    phone = _text("Phone", 40, render_kw={"type": "tel"})
    street = _text("Street", 255)
    house_number = _text("House number", 20)
    postal_code = _text("Postal code", 20)
    city = _text("City", 100)
    country = _text("Country", 100)
    note = TextAreaField("Note", validators=[Optional(), Length(max=4000)],
                         render_kw={"rows": 2})
    id_tags = TextAreaField("OCPP tags, one per line", validators=[Optional(), Length(max=4000)],
                            render_kw={"rows": 3, "spellcheck": "false"})

    def values(self) -> people.PersonValues:
        return people.PersonValues(**{name: getattr(self, name).data for name in (
            "first_name", "last_name", "email", "phone", "street", "house_number",
            "postal_code", "city", "country", "note")})

    def tag_list(self) -> list[str]:
        return [line.strip() for line in (self.id_tags.data or "").splitlines() if line.strip()]


@bp.get("/")
def index():
    session = db()
    form = PersonFilter(request.args)
    form.validate()
    query = people.people_query(form.q.data if not form.errors else None)
    page = paginate(session, query, scalars=True,
                    count_query=select(func.count()).select_from(
                        query.order_by(None).with_only_columns(Person.id).subquery()))
    ids = [p.id for p in page.items]
    held: dict[int, list[str]] = {}
    if ids:
        for person_id, id_tag in session.execute(
                select(IdTag.person_id, IdTag.id_tag).where(IdTag.person_id.in_(ids))
                .order_by(IdTag.id_tag)):
            held.setdefault(person_id, []).append(id_tag)
    return render_template("people/list.html", form=form, page=page, held=held)


@bp.route("/add", methods=["GET", "POST"])
def add():
    form = PersonForm(id_tags=request.args.get("tag", ""))
    if form.validate_on_submit():
        session = db()
        try:
            created = people.create_person(session, form.values(), form.tag_list())
        except Invalid as invalid:
            session.rollback()
            show_problems(form, invalid.problems)
        else:
            session.commit()
            flash(f"Added {created.name}.", "success")
            return redirect(url_for(".detail", pk=created.id))
    return render_template("people/form.html", form=form, person=None,
                           title="Add a user"), 400 if form.errors else 200


def _person_or_404(pk: int) -> Person:
    try:
        return people.person(db(), pk)
    except NotFound:
        abort(404)


def _history(person: Person, tags: list[str]) -> dict:
    session = db()
    transactions = session.execute(
        select(Transaction.id, Transaction.id_tag, Transaction.start_timestamp,
               Transaction.stop_timestamp, Transaction.meter_start, Transaction.meter_stop,
               ChargeBox.charge_box_id, Connector.connector_id)
        .join(Connector, Transaction.connector_pk == Connector.id)
        .join(ChargeBox, Connector.charge_box_pk == ChargeBox.id)
        .where(Transaction.id_tag.in_(tags)).order_by(Transaction.id.desc())
        .limit(SHOWN)).all() if tags else []
    reservations = session.execute(
        select(Reservation.reservation_id, Reservation.id_tag, Reservation.expiry_date,
               Reservation.status, ChargeBox.charge_box_id, Connector.connector_id)
        .join(Connector, Reservation.connector_pk == Connector.id)
        .join(ChargeBox, Reservation.charge_box_pk == ChargeBox.id)
        .where(Reservation.id_tag.in_(tags)).order_by(Reservation.id.desc())
        .limit(SHOWN)).all() if tags else []
    return dict(person=person, tags=tags, transactions=transactions,
                reservations=reservations, title=person.name)


@bp.route("/<int:pk>", methods=["GET", "POST"])
def detail(pk: int):
    person = _person_or_404(pk)
    session = db()
    tags = people.tags_of(session, pk)
    form = PersonForm(obj=person)
    if request.method == "GET":
        form.id_tags.data = "\n".join(tags)
    elif form.validate_on_submit():
        try:
            people.update_person(session, pk, form.values(), form.tag_list())
        except Invalid as invalid:
            session.rollback()
            show_problems(form, invalid.problems)
            person = _person_or_404(pk)
        else:
            session.commit()
            flash(f"Saved {person.name}.", "success")
            return redirect(url_for(".detail", pk=pk))
    return render_template("people/form.html", form=form, **_history(person, tags)), \
        400 if form.errors else 200


@bp.route("/<int:pk>/delete", methods=["GET", "POST"])
def delete(pk: int):
    person = _person_or_404(pk)
    form = ConfirmForm()
    if form.validate_on_submit():
        name = people.delete_person(db(), pk)
        db().commit()
        flash(f"Deleted {name}; their tags stay, held by nobody.", "success")
        return redirect(url_for(".index"))
    return render_template("people/delete.html", person=person, form=form,
                           tags=people.tags_of(db(), pk))
