"""The OpenAPI 3.1 document, generated from the views and their pydantic models by spectree,
and the docs page (Swagger UI from the ``flask-swagger-ui`` package's files: no CDN).

spectree validates each request (query, JSON body) and each response against the models of
the view; its answers to invalid requests become problem details here (``before``). spectree
serves nothing itself: the document is served at /api/v1/openapi.json with what spectree
does not know added (the bearer scheme, each route's scope, problem+json for errors, the
headers of commands).
"""
from __future__ import annotations

import copy
from pathlib import Path

import flask_swagger_ui
from flask import Response, current_app, json, send_from_directory, url_for
from spectree import SpecTree
from spectree.plugins.flask_plugin import FlaskPlugin

from soapgw import __version__
from soapgw.api.auth import needed_scope
from soapgw.api.blueprint import PREFIX, bp, docs
from soapgw.api.problems import ApiProblem
from soapgw.api.schemas import Problem

ASSETS = Path(flask_swagger_ui.__file__).parent / "dist"
PROBLEM_JSON = "application/problem+json"


class _UnservedFlaskPlugin(FlaskPlugin):
    """spectree's Flask plugin without its own routes (we serve the document and page)."""

    def register_route(self, app):
        pass


def _before(request, response, validation_error, instance, model_adapter):
    if validation_error is None:
        return
    errors = [{"field": ".".join(str(p) for p in error["loc"]) or "body",
               "message": error["msg"]} for error in validation_error.errors()]
    in_query = validation_error.title.endswith("Query")
    if in_query:
        errors = [{**e, "field": f"query.{e['field']}"} for e in errors]
    raise ApiProblem(400 if in_query else 422,
                     "; ".join(f"{e['field']}: {e['message']}" for e in errors[:10]),
                     kind="bad-query" if in_query else "invalid", errors=errors)


spec = SpecTree("flask", backend=_UnservedFlaskPlugin, mode="strict", before=_before,
                validation_error_status=422, validation_error_model=Problem,
                title="soapgw API", version=__version__,
                description="JSON API of the soapgw OCPP 1.5/1.6 SOAP gateway. "
                            "Authenticate with `Authorization: Bearer TOKEN`.")

_ERROR_STATUSES = {"400": "Malformed request or query", "401": "No valid token",
                   "403": "The token's scope is too small", "415": "The body is not JSON"}
SECURITY = [{"bearer": []}]


def document() -> dict:
    """The finished OpenAPI document (built once per process)."""
    cached = current_app.extensions.get("soapgw_openapi")
    if cached is None:
        cached = current_app.extensions["soapgw_openapi"] = _finish(copy.deepcopy(spec.spec))
    return cached


def _finish(document: dict) -> dict:
    document.setdefault("components", {})["securitySchemes"] = {
        "bearer": {"type": "http", "scheme": "bearer",
                   "description": "an API token: soapgw token create NAME --scope SCOPE"}}
    document["security"] = SECURITY
    document["servers"] = [{"url": "/"}]
    scopes = {}
    for rule in current_app.url_map.iter_rules():
        if rule.endpoint.startswith("api."):
            scopes[rule.endpoint] = needed_scope(current_app.view_functions[rule.endpoint])
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            endpoint = operation.pop("x-endpoint", None)
            responses = operation["responses"]
            for code, description in _ERROR_STATUSES.items():
                responses.setdefault(code, {"description": description})
            for code, response in responses.items():
                if code.startswith(("4", "5")):
                    response["content"] = {PROBLEM_JSON: {
                        "schema": {"$ref": "#/components/schemas/Problem"}}}
            operation["security"] = SECURITY
            scope = _scope_of(operation, scopes)
            operation["x-scope"] = scope
            operation["description"] = (f"Scope: `{scope}`. " + operation.get("description", "")
                                        ).strip()
            if not operation.get("tags"):
                operation.pop("tags", None)
            for extra in _EXTRA_PARAMETERS.get(operation["operationId"], ()):
                operation.setdefault("parameters", []).append(extra)
            if "{" in path:
                responses.setdefault("404", {"description": "No such resource"})
                responses["404"]["content"] = {PROBLEM_JSON: {
                    "schema": {"$ref": "#/components/schemas/Problem"}}}
            operation.update(_EXTRA_OPERATION.get(operation["operationId"], {}))
            if operation["operationId"] == "export_transactions":
                responses.update(_CSV)
    return document


def _scope_of(operation: dict, scopes: dict) -> str:
    endpoint = operation["operationId"]
    return scopes.get(f"api.{endpoint}", "read")


_WAIT = {"name": "Prefer", "in": "header", "required": False,
         "description": "`wait=N`: wait up to N seconds (at most 60) for the result and answer "
                        "200 with it; otherwise (or when it takes longer) 202",
         "schema": {"type": "string"}}
_IDEMPOTENCY = {"name": "Idempotency-Key", "in": "header", "required": False,
                "description": "retrying a POST with the same key (per token) returns the task "
                               "the first one created, without sending the command again",
                "schema": {"type": "string", "maxLength": 255}}
_EXTRA_OPERATION = {
    # views that read their body or write their answer themselves
    "send_command": {"requestBody": {"required": False, "content": {"application/json": {
        "schema": {"type": "object", "description": "the OCPP-J 1.6 request payload of the "
                                                    "action"}}}}},
}
_CSV = {"200": {"description": "CSV, one transaction a line",
                "content": {"text/csv": {"schema": {"type": "string"}}}}}
_EXTRA_PARAMETERS = {"send_command": (_WAIT, _IDEMPOTENCY),
                     "send_command_to_many": (_WAIT, _IDEMPOTENCY)}


@bp.get("/openapi.json")
def openapi():
    """The OpenAPI document (needs no token)."""
    return Response(json.dumps(document()), mimetype="application/json")


_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>soapgw API</title>
<link rel="stylesheet" href="{css}"></head>
<body><div id="swagger-ui" data-spec="{spec}"></div>
<script src="{bundle}"></script><script src="{init}"></script></body></html>"""

_INIT = """window.addEventListener("load", function () {
  var node = document.getElementById("swagger-ui");
  window.ui = SwaggerUIBundle({url: node.dataset.spec, dom_id: "#swagger-ui",
                               deepLinking: true, persistAuthorization: false});
});"""


@docs.get("/docs")
def page():
    html = _PAGE.format(css=url_for(".asset", name="swagger-ui.css"),
                        bundle=url_for(".asset", name="swagger-ui-bundle.js"),
                        init=url_for(".init_script"), spec=url_for("api.openapi"))
    response = Response(html, mimetype="text/html")
    # Swagger UI sets inline styles; scripts still come only from here
    response.headers["Content-Security-Policy"] = (
        "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; "
        "script-src 'self'; frame-ancestors 'none'; base-uri 'none'")
    return response


@docs.get("/docs/init.js")
def init_script():
    return Response(_INIT, mimetype="text/javascript")


@docs.get("/docs/assets/<path:name>")
def asset(name: str):
    return send_from_directory(ASSETS, name, max_age=3600)


PUBLIC_ENDPOINTS = {"api.openapi", "api_docs.page", "api_docs.init_script", "api_docs.asset"}
