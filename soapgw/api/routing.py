"""How API views are declared: one decorator for the route, its scope and its models."""
from __future__ import annotations

from soapgw.api.auth import scope as needs
from soapgw.api.blueprint import bp
from soapgw.api.spec import spec


def route(method: str, rule: str, *, scope: str = "read", tag: str, **validate):
    """Register ``view`` at ``rule`` for ``method``, needing ``scope``; spectree validates
    with ``validate`` (query=, json=, resp=) and documents it (operationId: the view's
    name, which is also its endpoint)."""
    def register(view):
        wrapped = spec.validate(operation_id=view.__name__, tags=(tag,), **validate)(
            needs(scope)(view))
        bp.add_url_rule(rule, view.__name__, wrapped, methods=[method])
        return wrapped
    return register
