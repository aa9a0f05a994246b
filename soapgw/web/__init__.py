"""The operators' web UI (Flask app factory; blueprints per page group)."""
from __future__ import annotations

from flask import Flask, jsonify, render_template
from sqlalchemy import text
from sqlalchemy.orm import Session, sessionmaker

from soapgw.config import Settings


def create_web_app(settings: Settings, sessions: sessionmaker[Session]) -> Flask:
    app = Flask(__name__)
    app.config["SOAPGW_SETTINGS"] = settings
    app.extensions["soapgw_sessions"] = sessions

    @app.get("/")
    def index():
        return render_template("index.html", settings=settings)

    @app.get("/health")
    def health():
        with sessions() as db:
            db.execute(text("SELECT 1"))
        return jsonify(status="ok")

    return app
