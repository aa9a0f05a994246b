"""The stations' ChargePointService over HTTP: one WSGI app, one path per station.

``POST /<chargeBoxId>`` runs the request through spyne (``SpyneRunner`` on our cp15/cp16
definition) into that station's handlers and answers SOAP 1.2 (1.1 to a 1.1 request) with
WS-Addressing reply headers and ``chargeBoxIdentity`` echoed, like a station. Anything that
goes wrong becomes a SOAP Fault with an OCPP subcode. ``GET /<chargeBoxId>?wsdl`` serves the
station's WSDL; ``GET /<chargeBoxId>`` a one-line state. Each station keeps what it was sent, headers
included (``ChargePointApp.received``), for tests and demos to check what a central system
put on the wire.
"""
from __future__ import annotations

import logging
import threading
from collections import deque
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import unquote

from lxml import etree

from soapgw.core.errors import ErrorCode, OcppError
from soapgw.timestamps import now
from soapgw.soap.addressing import FAULT_ACTION, is_addressing, read_addressing, reply_headers
from soapgw.soap.envelope import CONTENT_TYPES, Envelope, build_envelope, is_true, parse_envelope
from soapgw.soap.faults import SoapFault, fault_envelope
from soapgw.soap.reader import read_request
from soapgw.soap.schema.base import Operation, ServiceDefinition
from soapgw.soap.spyne_service import SpyneRunner
from soapgw.simulator.commands import handle
from soapgw.simulator.dialect import charge_point_service
from soapgw.simulator.station import Station
from soapgw.simulator.wire import from_spyne, to_spyne

log = logging.getLogger(__name__)
MAX_REQUEST_BYTES = 1024 * 1024
RECEIVED_PER_STATION = 500  # the latest requests each station remembers
_CP_NAMESPACES = {"urn://Ocpp/Cp/2012/06/": "OCPP 1.5", "urn://Ocpp/Cp/2015/10/": "OCPP 1.6",
                  "urn://Ocpp/Cp/2010/08/": "OCPP 1.2"}


@dataclass(frozen=True)
class ReceivedRequest:
    """One request a station got, as it came over the wire (before it was judged)."""

    received_at: datetime
    element: str | None  # local name of the first Body child, e.g. ``resetRequest``
    operation: str | None  # the ChargePointService operation, when the element is one
    soap_version: str
    content_type: str
    identity: str | None  # chargeBoxIdentity header
    identity_namespace: str | None
    action: str | None  # WS-Addressing headers
    message_id: str | None
    to: str | None
    from_address: str | None
    reply_to: str | None
    peer: str | None  # the client's IP address


class _Refusal(Exception):
    def __init__(self, fault: SoapFault):
        super().__init__(fault.reason)
        self.fault = fault


class _Invocation:
    """``ctx.udc`` for SpyneRunner: spyne request -> the station's handler -> spyne response."""

    def __init__(self, station: Station):
        self.station = station
        self.error: Exception | None = None

    def invoke(self, operation: Operation, request):
        answer = handle(self.station, operation.name, from_spyne(request) or {})
        return to_spyne(operation.response, answer)


class _Version:
    """One ChargePointService version: its definition and spyne runner (built once)."""

    def __init__(self, ocpp_version: str):
        self.service: ServiceDefinition = charge_point_service(ocpp_version)
        self.runner = SpyneRunner(self.service)
        self.lock = threading.Lock()  # spyne is not known to be thread-safe: one at a time


class ChargePointApp:
    """WSGI app serving every simulated station of one process."""

    def __init__(self):
        self.stations: dict[str, Station] = {}
        self.urls: dict[str, str] = {}
        self.received: dict[str, deque[ReceivedRequest]] = {}
        self._versions: dict[str, _Version] = {}

    def add(self, station: Station, url: str) -> None:
        if station.ocpp_version not in self._versions:
            self._versions[station.ocpp_version] = _Version(station.ocpp_version)
        self.stations[station.charge_box_id] = station
        self.urls[station.charge_box_id] = url
        self.received[station.charge_box_id] = deque(maxlen=RECEIVED_PER_STATION)

    def __call__(self, environ, start_response):
        station_id = unquote(environ.get("PATH_INFO", "").strip("/").split("/")[0])
        station = self.stations.get(station_id)
        method = environ.get("REQUEST_METHOD", "GET")
        if station is None:
            return _respond(start_response, 404, "text/plain; charset=utf-8",
                            f"no simulated charge point at /{station_id}\n".encode())
        version = self._versions[station.ocpp_version]
        if method == "GET":
            return self._get(environ, start_response, station, version)
        if method != "POST":
            return _respond(start_response, 405, "text/plain; charset=utf-8",
                            b"POST SOAP requests; GET ?wsdl for the WSDL\n",
                            [("Allow", "GET, POST")])
        soap_version = "1.1" if "text/xml" in environ.get("CONTENT_TYPE", "") else "1.2"
        relates_to = None
        try:
            envelope = parse_envelope(_read(environ))
            soap_version = envelope.soap_version
            addressing = read_addressing(envelope.headers)
            relates_to = addressing.message_id
            self._record(station, version.service, envelope, addressing, environ)
            operation = self._operation(envelope, station, version.service)
            with version.lock:
                response = version.runner.run(envelope, _Invocation(station))
            headers = [*reply_headers(operation.output_action, relates_to),
                       _identity(version.service.namespace, station.charge_box_id)]
            body = build_envelope(soap_version, headers, response)
            action = operation.output_action
            status = 200
        except (OcppError, _Refusal) as problem:
            status, body = _fault(problem, version.service, soap_version, relates_to)
            action = FAULT_ACTION
        except Exception:  # noqa: BLE001  (a simulator bug: answer like a station would)
            log.exception("%s: request failed", station_id)
            status, body = _fault(OcppError(ErrorCode.INTERNAL_ERROR, "the charge point failed"),
                                  version.service, soap_version, relates_to)
            action = FAULT_ACTION
        content_type = CONTENT_TYPES[soap_version]
        if soap_version == "1.2":
            content_type += f'; action="{action}"'
        return _respond(start_response, status, content_type, body)

    def _record(self, station: Station, service: ServiceDefinition, envelope: Envelope,
                addressing, environ) -> None:
        identity = next((h for h in envelope.headers
                         if etree.QName(h).localname.lower() == "chargeboxidentity"), None)
        element = etree.QName(envelope.body).localname if envelope.body is not None else None
        operation = service.by_element.get(element) if element else None
        self.received[station.charge_box_id].append(ReceivedRequest(
            received_at=now(), element=element, operation=operation.name if operation else None,
            soap_version=envelope.soap_version, content_type=environ.get("CONTENT_TYPE", ""),
            identity=(identity.text or "").strip() if identity is not None else None,
            identity_namespace=etree.QName(identity).namespace if identity is not None else None,
            action=addressing.action, message_id=addressing.message_id, to=addressing.to,
            from_address=addressing.from_address, reply_to=addressing.reply_to,
            peer=environ.get("REMOTE_ADDR")))

    def _get(self, environ, start_response, station: Station, version: _Version):
        if environ.get("QUERY_STRING", "").lower() == "wsdl":
            from soapgw.soap.wsdl import generate_wsdl
            document = generate_wsdl(version.service, self.urls[station.charge_box_id])
            return _respond(start_response, 200, "text/xml; charset=utf-8", document)
        with station.lock:
            line = (f"{station.charge_box_id} OCPP {station.ocpp_version} "
                    f"{station.registration or 'not booted'}; connectors: "
                    + ", ".join(f"{n}={c.status}" for n, c in station.connectors.items()))
        return _respond(start_response, 200, "text/plain; charset=utf-8", (line + "\n").encode())

    @staticmethod
    def _operation(envelope: Envelope, station: Station, service: ServiceDefinition) -> Operation:
        body = envelope.body
        if body is None:
            raise OcppError(ErrorCode.FORMATION_VIOLATION, "the SOAP Body is empty")
        namespace, name = etree.QName(body).namespace, etree.QName(body).localname
        if namespace != service.namespace:
            spoken = _CP_NAMESPACES.get(namespace)
            if spoken:
                raise OcppError(ErrorCode.NOT_SUPPORTED, f"this charge point speaks OCPP "
                                f"{service.ocpp_version}, not {spoken}")
            raise OcppError(ErrorCode.NOT_IMPLEMENTED,
                            f"unknown message {name} in namespace {namespace or '(none)'}")
        operation = service.by_element.get(name)
        if operation is None:
            raise OcppError(ErrorCode.NOT_IMPLEMENTED, f"{name} is not an OCPP "
                            f"{service.ocpp_version} ChargePointService request")
        _check_headers(envelope, station.charge_box_id)
        read_request(body, operation, namespace)  # repairs what spyne would choke on
        return operation


def _check_headers(envelope: Envelope, charge_box_id: str) -> None:
    """chargeBoxIdentity must name this station (when sent); mustUnderstand is honoured."""
    must_understand = f"{{{envelope.env_ns}}}mustUnderstand"
    for header in envelope.headers:
        if etree.QName(header).localname.lower() == "chargeboxidentity":
            identity = (header.text or "").strip()
            if identity and identity != charge_box_id:
                raise OcppError(ErrorCode.SECURITY_ERROR, f"this is charge point "
                                f"{charge_box_id!r}, not {identity!r}")
        elif not is_addressing(header) and is_true(header.get(must_understand)):
            raise _Refusal(SoapFault(f"header {header.tag} is not understood",
                                     soap_code="MustUnderstand"))


def _identity(namespace: str, charge_box_id: str) -> etree._Element:
    element = etree.Element(f"{{{namespace}}}chargeBoxIdentity", nsmap={"cp": namespace})
    element.text = charge_box_id
    return element


def _fault(problem, service: ServiceDefinition, soap_version: str,
           relates_to: str | None) -> tuple[int, bytes]:
    fault = problem.fault if isinstance(problem, _Refusal) else SoapFault(problem.reason,
                                                                          problem.code)
    fault.ocpp_namespace = service.namespace
    return fault.http_status(soap_version), fault_envelope(fault, soap_version, relates_to)


def _read(environ) -> bytes:
    try:
        length = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    if length > MAX_REQUEST_BYTES:
        raise OcppError(ErrorCode.FORMATION_VIOLATION, "the request is too large")
    return environ["wsgi.input"].read(length) if length > 0 else b""


def _respond(start_response, status: int, content_type: str, body: bytes, extra=()):
    reasons = {200: "OK", 400: "Bad Request", 404: "Not Found", 405: "Method Not Allowed",
               500: "Internal Server Error"}
    start_response(f"{status} {reasons.get(status, '')}",
                   [("Content-Type", content_type), ("Content-Length", str(len(body))), *extra])
    return [body]
