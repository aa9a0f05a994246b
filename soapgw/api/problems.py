"""Errors of the API as RFC 9457 problem details (``application/problem+json``).

Every error under /api has a stable ``type`` (a URI naming the kind of problem), a
``title``, the HTTP ``status``, a readable ``detail`` and, when fields are at fault,
``errors``: each field path (``idTag``, ``csChargingProfiles.chargingSchedule.duration``,
``query.limit``) with its reason.
"""
from __future__ import annotations

from flask import Response, json, request
from werkzeug.exceptions import HTTPException

TYPE_BASE = "https://soapgw.dev/problems/"

TITLES = {
    400: ("bad-request", "The request is malformed"),
    401: ("unauthorized", "A valid bearer token is needed"),
    403: ("forbidden", "The token's scope does not allow this"),
    404: ("not-found", "There is no such resource"),
    405: ("method-not-allowed", "The resource does not allow this method"),
    406: ("not-acceptable", "The API answers JSON only"),
    409: ("conflict", "The request conflicts with the resource's state"),
    413: ("too-large", "The request body is too large"),
    415: ("unsupported-media-type", "Send the body as application/json"),
    422: ("invalid", "The request is well-formed but its content is refused"),
    500: ("internal-error", "The gateway failed to answer; it is logged"),
    503: ("unavailable", "The gateway cannot answer now"),
}


class ApiProblem(Exception):
    def __init__(self, status: int, detail: str, *, kind: str | None = None,
                 title: str | None = None, errors: list[dict] | None = None,
                 headers: dict | None = None, **extra):
        super().__init__(detail)
        slug, default_title = TITLES.get(status, ("error", "Error"))
        self.status, self.detail = status, detail
        self.kind, self.title = kind or slug, title or default_title
        self.errors, self.headers, self.extra = errors, headers or {}, extra

    def response(self) -> Response:
        body = {"type": TYPE_BASE + self.kind, "title": self.title, "status": self.status,
                "detail": self.detail, "instance": request.path}
        if self.errors:
            body["errors"] = self.errors
        body.update(self.extra)
        response = Response(json.dumps(body), self.status,
                            mimetype="application/problem+json")
        for name, value in self.headers.items():
            response.headers[name] = value
        return response


def field_errors(problems: dict[str, str]) -> list[dict]:
    return [{"field": name, "message": reason} for name, reason in problems.items()]


def invalid(problems: dict[str, str], status: int = 422, detail: str | None = None,
            kind: str | None = None) -> ApiProblem:
    """A refusal naming each field (the service's ``Invalid.problems``, in API names)."""
    return ApiProblem(status, detail or "; ".join(f"{k}: {v}" for k, v in problems.items()),
                      kind=kind, errors=field_errors(problems))


def from_http(error: HTTPException) -> ApiProblem:
    headers = {}
    if error.code == 405 and getattr(error, "valid_methods", None):
        headers["Allow"] = ", ".join(error.valid_methods)
    return ApiProblem(error.code or 500, error.description or "", headers=headers)
