"""A real ChargePointService (OCPP 1.5 or 1.6) for tests: our own CP definitions served by
spyne behind a tiny WSGI wrapper, recording every request it receives."""
from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from decimal import Decimal

from lxml import etree

from soapgw.soap.addressing import WSA, read_addressing, reply_headers
from soapgw.soap.envelope import CONTENT_TYPES, build_envelope, parse_envelope
from soapgw.soap.schema import cp15, cp16
from soapgw.soap.schema.registry import find
from soapgw.soap.spyne_service import SpyneRunner

_RUNNERS: dict[str, SpyneRunner] = {}
_LOCK = threading.Lock()


def runner(version: str) -> SpyneRunner:
    with _LOCK:
        if version not in _RUNNERS:
            _RUNNERS[version] = SpyneRunner(find("ChargePointService", version))
        return _RUNNERS[version]


@dataclass
class Received:
    operation: str
    request: object  # the spyne request object (None for empty requests)
    raw: bytes
    content_type: str
    identity: str | None
    identity_namespace: str | None
    action: str | None
    message_id: str | None
    to: str | None
    from_address: str | None
    reply_to: str | None
    peer: str | None


def default_answer(version: str, operation: str, request):
    """A plausible, schema-complete answer to every operation."""
    m = cp16 if version == "1.6" else cp15
    status = {"UnlockConnector": "Unlocked" if version == "1.6" else "Accepted",
              "SendLocalList": "Accepted", "TriggerMessage": "Accepted"}.get(operation, "Accepted")
    if operation == "GetConfiguration":
        return m.GetConfigurationResponse(
            configurationKey=[m.KeyValue(key="HeartbeatInterval", readonly=False, value="300"),
                              m.KeyValue(key="NumberOfConnectors", readonly=True, value="2")],
            unknownKey=["NoSuchKey"])
    if operation == "GetDiagnostics":
        return m.GetDiagnosticsResponse(fileName="diag-0001.zip")
    if operation == "GetLocalListVersion":
        return m.GetLocalListVersionResponse(listVersion=7)
    if operation == "UpdateFirmware":
        return m.UpdateFirmwareResponse()
    if operation == "DataTransfer":
        return m.DataTransferResponse(status="Accepted", data="pong")
    if operation == "GetCompositeSchedule":
        return m.GetCompositeScheduleResponse(
            status="Accepted", connectorId=1,
            scheduleStart=datetime(2030, 1, 1, 8, 0, tzinfo=timezone.utc),
            chargingSchedule=m.ChargingSchedule(
                duration=3600, chargingRateUnit="A", minChargingRate=Decimal("6.5"),
                chargingSchedulePeriod=[m.ChargingSchedulePeriod(startPeriod=0,
                                                                 limit=Decimal("16")),
                                        m.ChargingSchedulePeriod(startPeriod=1800,
                                                                 limit=Decimal("10.5"),
                                                                 numberPhases=3)]))
    response = getattr(m, f"{operation}Response")
    return response(status=status)


class _Invocation:
    def __init__(self, station: "ChargePointStation", raw: bytes):
        self.station, self.raw = station, raw
        self.error = None

    def invoke(self, operation, request):
        self.station.requests.append((operation.name, request))
        answer = self.station.answers.get(operation.name)
        if callable(answer):
            return answer(request)
        if answer is not None:
            return answer
        return default_answer(self.station.version, operation.name, request)


class ChargePointStation:
    """WSGI app. ``answers[op]`` overrides an answer (a spyne object or a callable of the
    request); ``behaviour`` replaces the whole reply: a callable(envelope) returning
    (status, content_type, body) or None, after optionally sleeping."""

    def __init__(self, version: str = "1.6"):
        self.version = version
        self.service = find("ChargePointService", version)
        self.runner = runner(version)
        self.received: list[Received] = []
        self.requests: list[tuple[str, object]] = []  # (operation, spyne request object)
        self.answers: dict = {}
        self.behaviour = None
        self.delay = 0.0

    def __call__(self, environ, start_response):
        length = int(environ.get("CONTENT_LENGTH") or 0)
        raw = environ["wsgi.input"].read(length)
        envelope = parse_envelope(raw)
        addressing = read_addressing(envelope.headers)
        identity = next((h for h in envelope.headers
                         if etree.QName(h).localname == "chargeBoxIdentity"), None)
        operation = self.service.by_element.get(etree.QName(envelope.body).localname)
        self.received.append(Received(
            operation=operation.name if operation else etree.QName(envelope.body).localname,
            request=None, raw=raw, content_type=environ.get("CONTENT_TYPE", ""),
            identity=identity.text if identity is not None else None,
            identity_namespace=etree.QName(identity).namespace if identity is not None else None,
            action=addressing.action, message_id=addressing.message_id, to=addressing.to,
            from_address=addressing.from_address, reply_to=addressing.reply_to,
            peer=environ.get("REMOTE_ADDR")))
        if self.delay:
            time.sleep(self.delay)
        if self.behaviour is not None:
            custom = self.behaviour(envelope)
            if custom is not None:
                status, content_type, body = custom
                start_response(status, [("Content-Type", content_type),
                                        ("Content-Length", str(len(body)))])
                return [body]
        response = self.runner.run(envelope, _Invocation(self, raw))
        body = build_envelope(envelope.soap_version,
                              reply_headers(operation.output_action, addressing.message_id),
                              response)
        content_type = CONTENT_TYPES[envelope.soap_version]
        start_response("200 OK", [("Content-Type", content_type),
                                  ("Content-Length", str(len(body)))])
        return [body]


__all__ = ["ChargePointStation", "Received", "default_answer", "WSA"]
