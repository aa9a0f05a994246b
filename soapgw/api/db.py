"""The request's database session: read-only (no SQLite write lock) for GET, writable for
the rest; the view commits."""
from __future__ import annotations

from flask import current_app, g, request
from sqlalchemy.orm import Session

from soapgw.store.database import READ_ONLY


def db() -> Session:
    if "api_db" not in g:
        sessions = current_app.extensions["soapgw_sessions"]
        if request.method in ("GET", "HEAD"):
            engine = sessions.kw["bind"].execution_options(**{READ_ONLY: True})
            g.api_db = sessions(bind=engine)
        else:
            g.api_db = sessions()
    return g.api_db


def close(_exc=None) -> None:
    session = g.pop("api_db", None)
    if session is not None:
        session.close()
