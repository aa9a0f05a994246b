"""Jinja filters: every time is shown in UTC, the time zone the database keeps."""
from __future__ import annotations

from datetime import datetime, timedelta

import re

from flask import Flask, request
from markupsafe import Markup, escape

from soapgw.timestamps import now, utc


def when(value: datetime | None, seconds: bool = True) -> str:
    if value is None:
        return "–"
    return utc(value).strftime("%Y-%m-%d %H:%M:%S" if seconds else "%Y-%m-%d %H:%M")


def ago(value: datetime | None, at: datetime | None = None) -> str:
    """'3 min ago' style distance from now."""
    if value is None:
        return "never"
    seconds = int(((at or now()) - utc(value)).total_seconds())
    if seconds < 0:
        return "in the future"
    for unit, size in (("d", 86400), ("h", 3600), ("min", 60)):
        if seconds >= size:
            return f"{seconds // size} {unit} ago"
    return f"{seconds} s ago"


def kwh(wh: int | float | None) -> str:
    return "–" if wh is None else f"{wh / 1000:,.3f} kWh"


def duration(start: datetime | None, stop: datetime | None) -> str:
    if start is None:
        return "–"
    total = int(((stop or now()) - start).total_seconds())
    if total < 0:
        return "–"
    return str(timedelta(seconds=total))


def datetime_input(value: datetime | None) -> str:
    """The value of an <input type=datetime-local> (UTC)."""
    return "" if value is None else utc(value).strftime("%Y-%m-%dT%H:%M")


def number(value: int | None) -> str:
    return "–" if value is None else f"{value:,}"


_URL_BREAKS = re.compile(r"([/.?&=:#_-]+)")


def breakable(value: str | None) -> Markup:
    """A URL (escaped) with line-break opportunities after its separators, so a narrow column
    wraps it between path segments rather than in the middle of a word."""
    if value is None:
        return Markup("–")
    return Markup("").join(Markup("{}<wbr>").format(part) if _URL_BREAKS.fullmatch(part)
                           else escape(part) for part in _URL_BREAKS.split(value) if part)


def page_args(number: int) -> dict[str, str]:
    """The current query string (the filters) with another page number."""
    args = request.args.to_dict(flat=True)
    args["page"] = str(number)
    return args


def init_app(app: Flask) -> None:
    app.jinja_env.filters.update(when=when, ago=ago, kwh=kwh, number=number,
                                 datetime_input=datetime_input, breakable=breakable)
    app.jinja_env.globals.update(duration=duration, page_args=page_args)
