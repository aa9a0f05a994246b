"""The API's blueprints: everything under /api/v1, and the docs page at /api/docs."""
from __future__ import annotations

from flask import Blueprint

PREFIX = "/api/v1"
bp = Blueprint("api", __name__, url_prefix=PREFIX)
docs = Blueprint("api_docs", __name__, url_prefix="/api")
