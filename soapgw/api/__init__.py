"""The REST API for integrators: JSON under /api/v1 with bearer tokens, OpenAPI 3.1 at
/api/v1/openapi.json, docs at /api/docs. A thin edge over the core services: views read
with queries and act through one core function per act.

It shares the web app (``soapgw.app`` mounts it there) but none of the UI's session login or
CSRF protection: a request is a token's, and every error is problem+json.
"""
from __future__ import annotations

from flask import Flask, request
from werkzeug.exceptions import HTTPException, InternalServerError
from werkzeug.routing import RequestRedirect

from soapgw.api import db as api_db
from soapgw.api.blueprint import bp, docs
from soapgw.api.problems import ApiProblem, from_http

API_PATH = "/api/"


def init_app(app: Flask) -> None:
    """Mount the API on the web app (``create_web_app``'s: its sessions, task runner and
    event publisher)."""
    csrf = app.extensions.get("csrf")
    if csrf is not None:
        csrf.exempt(bp)
        csrf.exempt(docs)
    app.register_blueprint(bp)
    app.register_blueprint(docs)
    app.teardown_appcontext(api_db.close)

    @app.before_request
    def api_routing_errors():
        # 404 and 405 are found before any view runs; under /api they are problems too
        error = request.routing_exception
        if request.path.startswith(API_PATH) and error is not None \
                and not isinstance(error, RequestRedirect):
            return from_http(error).response()
        return None



def _authenticate():
    from soapgw.api.auth import check_request
    from soapgw.api.spec import PUBLIC_ENDPOINTS
    if request.endpoint in PUBLIC_ENDPOINTS:
        return None
    check_request()
    if request.method in ("POST", "PUT", "PATCH") and request.content_length:
        if not request.is_json:
            raise ApiProblem(415, "send the body as application/json")
        if request.get_json(silent=True) is None:
            raise ApiProblem(400, "the body is not valid JSON", kind="bad-json")
    return None


def _internal(error: Exception):
    if isinstance(error, HTTPException):
        return from_http(error).response()
    from flask import current_app
    current_app.logger.exception("API request %s %s failed", request.method, request.path)
    return from_http(InternalServerError()).response()


bp.before_request(_authenticate)
bp.register_error_handler(ApiProblem, lambda problem: problem.response())
bp.register_error_handler(HTTPException, lambda error: from_http(error).response())
bp.register_error_handler(Exception, _internal)
docs.register_error_handler(HTTPException, lambda error: from_http(error).response())

# the views register themselves on the blueprint
from soapgw.api import (chargepoints, commands, events, journal, reservations, root,  # noqa: E402,F401
                        people, settings, spec, tags, tasks, tokens, transactions, unknown,
                        webhooks)
from soapgw.api import charging_profiles  # noqa: E402,F401
