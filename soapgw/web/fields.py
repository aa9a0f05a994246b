"""Form fields and validators shared by the pages; messages are shown next to the field."""
from __future__ import annotations

import re
from datetime import datetime

from flask import flash
from flask_wtf import FlaskForm
from wtforms import Field, StringField, TextAreaField
from wtforms.validators import ValidationError

from soapgw.core.identifiers import identifier_problem
from soapgw.timestamps import TimestampError, parse_timestamp

MAX_LIST_LINES = 1000


class FilterForm(FlaskForm):
    """A GET search form: no CSRF token (it changes nothing), filled from the query string."""

    class Meta:
        csrf = False


class Identifier:
    """A chargeBoxIdentity or idTag: printable, trimmed, bounded."""

    def __init__(self, what: str, max_length: int):
        self.what, self.max_length = what, max_length

    def __call__(self, form, field: Field) -> None:
        if field.data:
            problem = identifier_problem(field.data, self.what, self.max_length)
            if problem:
                raise ValidationError(problem[0].upper() + problem[1:] + ".")


class IdentifierList(TextAreaField):
    """One identifier per line; blank lines are skipped and duplicates dropped (order kept)."""

    def __init__(self, label=None, what: str = "id", max_length: int = 255, **kwargs):
        super().__init__(label, **kwargs)
        self.what, self.max_length = what, max_length
        self.identifiers: list[str] = []

    def pre_validate(self, form) -> None:
        lines = [line.strip() for line in (self.data or "").splitlines()]
        lines = [line for line in lines if line]
        if not lines:
            raise ValidationError(f"Enter at least one {self.what}, one per line.")
        if len(lines) > MAX_LIST_LINES:
            raise ValidationError(f"At most {MAX_LIST_LINES} lines at once.")
        problems = []
        for number, line in enumerate(lines, 1):
            problem = identifier_problem(line, self.what, self.max_length)
            if problem:
                problems.append(f"line {number}: {problem}")
        if problems:
            shown = "; ".join(problems[:5]) + ("; …" if len(problems) > 5 else "")
            raise ValidationError(shown[0].upper() + shown[1:] + ".")
        self.identifiers = list(dict.fromkeys(lines))


class UtcDateTimeField(StringField):
    """A date and time typed as ISO 8601 or picked in a datetime-local input; read as UTC."""

    def __init__(self, label=None, validators=None, **kwargs):
        kwargs.setdefault("render_kw", {}).setdefault("placeholder", "YYYY-MM-DD HH:MM (UTC)")
        super().__init__(label, validators, **kwargs)
        self.value: datetime | None = None

    def process_formdata(self, valuelist) -> None:
        super().process_formdata(valuelist)
        self.value = None
        text = (self.data or "").strip()
        if not text:
            return
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
            text += "T00:00"  # a bare date means its start
        try:
            self.value = parse_timestamp(text)[0]
        except TimestampError:
            self.value = None
            raise ValueError("Not a date and time: use YYYY-MM-DD HH:MM (UTC).") from None

    def _value(self) -> str:
        return self.data or ""


def period_conditions(column, start: UtcDateTimeField, end: UtcDateTimeField) -> list:
    """WHERE conditions for a period filter: from ``start`` (included) to ``end`` (excluded)."""
    conditions = []
    if start.value:
        conditions.append(column >= start.value)
    if end.value:
        conditions.append(column < end.value)
    return conditions


def date_range_problem(start: UtcDateTimeField, end: UtcDateTimeField) -> bool:
    """Mark ``end`` when it comes before ``start``; True when there was a problem."""
    if start.value and end.value and end.value < start.value:
        end.errors = list(end.errors) + ["The end comes before the start."]
        return True
    return False


try:  # WTForms 3.3 deprecates (value, label) tuples as choices
    from wtforms.fields.choices import SelectChoice
except ImportError:  # pragma: no cover  (older WTForms)
    SelectChoice = None


def options(*items: str | tuple[str, str]) -> list:
    """Choices of a SelectField: a plain string is both value and label."""
    pairs = [(item, item) if isinstance(item, str) else item for item in items]
    return [SelectChoice(value, label) if SelectChoice else (value, label)
            for value, label in pairs]


def show_problems(form: FlaskForm, problems: dict[str, str], names: dict[str, str] | None = None,
                  ) -> None:
    """Put a service's refusal (``core.errors.Invalid.problems``) next to the form's fields;
    ``names`` maps the service's field names to the form's where they differ. A problem with
    no such field is flashed above the page."""
    names = names or {}
    for name, reason in problems.items():
        message = reason[0].upper() + reason[1:] + ("" if reason.endswith(".") else ".")
        field = getattr(form, names.get(name, name), None)
        if isinstance(field, Field):
            field.errors = list(field.errors) + [message]
        else:
            flash(message, "error")
