"""The operators' web UI (Flask app factory; blueprints per page group)."""
from __future__ import annotations

from flask import Flask, jsonify, render_template
from flask_wtf.csrf import CSRFError, CSRFProtect
from sqlalchemy import text
from sqlalchemy.orm import Session, sessionmaker

from soapgw.config import Settings
from soapgw.core.commands.runner import TaskRunner
from soapgw.core.events import EventPublisher
from soapgw.web import auth, db as web_db, formatting
from soapgw.web.security import configure_sessions


def create_web_app(settings: Settings, sessions: sessionmaker[Session], task_runner: TaskRunner,
                   events: EventPublisher) -> Flask:
    """The UI over the Gateway's parts: commands go through ``task_runner``, state changes
    publish through ``events``."""
    app = Flask(__name__)
    app.config["SOAPGW_SETTINGS"] = settings
    app.extensions["soapgw_task_runner"] = task_runner
    app.extensions["soapgw_events"] = events
    app.config["MAX_CONTENT_LENGTH"] = 2 * 1024 * 1024  # forms only; lists of ids at most
    configure_sessions(app, settings.instance_path, settings.public_url)
    CSRFProtect(app)
    web_db.init_app(app, sessions)
    formatting.init_app(app)
    auth.init_app(app)
    _register_pages(app)

    @app.get("/health")
    def health():
        with sessions() as session:
            session.execute(text("SELECT 1"))
        return jsonify(status="ok")

    @app.errorhandler(CSRFError)
    def csrf_failed(error):
        return render_template("error.html", title="Form expired",
                               message="The form was missing its security token or it has "
                                       "expired. Go back, reload the page and send it again."), 400

    @app.errorhandler(404)
    def not_found(error):
        return render_template("error.html", title="Not found",
                               message="There is no such page or record."), 404

    @app.after_request
    def security_headers(response):
        # Pages embed nothing from elsewhere and run no inline script.
        response.headers.setdefault(
            "Content-Security-Policy",
            "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
            "frame-ancestors 'none'; form-action 'self'; base-uri 'none'")
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        return response

    return app


def _register_pages(app: Flask) -> None:
    from soapgw.web import (about, accounts, api_access, bridge, charging_profiles, dashboard,
                            journal, local_lists, notifications, operations, people,
                            reservations, settings_page, stations, tags, transactions,
                            unknown_tags)
    for module in (dashboard, stations, tags, transactions, reservations, journal,
                   settings_page, notifications, operations, bridge, api_access,
                   charging_profiles, local_lists, people, unknown_tags, accounts, about):
        app.register_blueprint(module.bp)
    __import__("soapgw.web.station_auth", fromlist=["init_app"]).init_app(app)
