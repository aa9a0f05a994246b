"""Small helpers the views share: timestamps, links, the gateway's parts."""
from __future__ import annotations

from datetime import datetime

from flask import current_app, url_for


def iso(value: datetime | None) -> str | None:
    return value.isoformat().replace("+00:00", "Z") if value is not None else None


def link(endpoint: str, **values) -> str:
    return url_for(f"api.{endpoint}", **values)


def settings():
    return current_app.config["SOAPGW_SETTINGS"]


def task_runner():
    return current_app.extensions["soapgw_task_runner"]


def events():
    return current_app.extensions["soapgw_events"]
