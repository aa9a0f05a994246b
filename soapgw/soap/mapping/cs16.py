"""OCPP 1.6 CentralSystemService SOAP <-> core messages: the same shape, so a structural walk."""
from __future__ import annotations

from soapgw.core import messages
from soapgw.soap.mapping.structural import from_core, to_core
from soapgw.soap.schema.base import Operation


def request_to_core(operation: Operation, request):
    request_type, _ = messages.ACTIONS[operation.name]
    if request is None:  # Heartbeat and other empty requests
        return request_type()
    return to_core(request, request_type)


def response_from_core(operation: Operation, response):
    return from_core(response, operation.response)
