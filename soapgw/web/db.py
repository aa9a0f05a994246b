"""One database session per request: read-only for GET (no SQLite write lock), writable else."""
from __future__ import annotations

from flask import Flask, current_app, g, request
from sqlalchemy.orm import Session, sessionmaker

from soapgw.store.database import READ_ONLY


def init_app(app: Flask, sessions: sessionmaker[Session]) -> None:
    app.extensions["soapgw_sessions"] = sessions
    engine = sessions.kw["bind"]
    app.extensions["soapgw_read_engine"] = engine.execution_options(**{READ_ONLY: True})

    @app.teardown_appcontext
    def close(_exc):
        session = g.pop("db", None)
        if session is not None:
            session.close()  # rolls back whatever was not committed


def db() -> Session:
    """The request's session. GET and HEAD pages must not write through it."""
    if "db" not in g:
        sessions: sessionmaker[Session] = current_app.extensions["soapgw_sessions"]
        if request.method in ("GET", "HEAD"):
            g.db = sessions(bind=current_app.extensions["soapgw_read_engine"])
        else:
            g.db = sessions()
    return g.db
