"""The CentralSystemService endpoint (WSGI): every SOAP message from stations comes in here.

One pass per message: read (size-limited) -> parse safely -> find version and operation by the
first Body child -> headers (chargeBoxIdentity, WS-Addressing, mustUnderstand) -> lenient
schema reading, which also builds the request object -> core, inside one database transaction
that also journals the request and the reply -> the reply written from the definitions.
spyne defines the services (and the WSDLs) but no longer reads or writes messages here: its
per-message machinery was the largest cost of a message (tests/test_direct_codec.py holds the
reader and writer equal to it). Every failure becomes a SOAP Fault with an OCPP subcode.
"""
from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from lxml import etree
from sqlalchemy import Connection, Engine

from soapgw.config import Settings
from soapgw.core.call import StationCall
from soapgw.core.central_system import CentralSystem
from soapgw.core.commands.callback_policy import client_address
from soapgw.core.errors import ErrorCode, OcppError
from soapgw.core.station_access import StationRefused, record_auth_refusal
from soapgw.core.station_auth import Presented
from soapgw.timestamps import now
from soapgw.soap.addressing import FAULT_ACTION, Addressing, is_addressing, read_addressing
from soapgw.soap.addressing import is_unqualified_addressing
from soapgw.soap.envelope import CONTENT_TYPES, Envelope, is_true, parse_envelope
from soapgw.soap.faults import SoapFault, fault_envelope
from soapgw.soap.reader import read_request
from soapgw.soap.reply_envelope import reply_envelope
from soapgw.soap.reply_writer import write_reply
from soapgw.soap.schema.base import Operation
from soapgw.soap_in.credentials import ForwardingCheck, presented_credentials, redact
from soapgw.soap_in.versions import (INBOUND, UNSUPPORTED, InboundVersion,
                                    by_charge_point_namespace)
from soapgw.soap_in.wsdl_documents import PATHS, SERVICE_PATH, WsdlDocuments
from soapgw.store import journal
from soapgw.store.group_commit import GroupCommit
from soapgw.store.journal import JournalRecord
from soapgw.store.database import READ_ONLY
from soapgw.store.models import ChargeBox

log = logging.getLogger(__name__)
_IDENTITY_MAX = ChargeBox.__table__.c.charge_box_id.type.length
_XSI_TYPE = "{http://www.w3.org/2001/XMLSchema-instance}type"


class SoapLevelFault(Exception):
    """A fault below OCPP (MustUnderstand, VersionMismatch)."""

    def __init__(self, fault: SoapFault):
        super().__init__(fault.reason)
        self.fault = fault


# Bytes from which a message is read only once its station is known to be allowed to send it
# (CentralSystem.may_be_read): reading costs up to ~10 µs of CPU per element (a megabyte of
# meter values, tens of ms), a look-up ~0.1 ms; smaller messages are read at once (the usual
# ones are 0.5-3 KB, and a look-up on each would cost the throughput).
CHECK_BEFORE_READING = 16 * 1024


@dataclass
class Exchange:
    """What we learn about one request as it goes through the pipeline."""

    raw: bytes
    peer: str | None
    soap_version: str = "1.2"
    addressing: Addressing = field(default_factory=Addressing)
    charge_box_id: str | None = None
    version: InboundVersion | None = None
    operation: Operation | None = None
    credentials: Presented | None = None
    http_headers: list = field(default_factory=list)  # extra reply headers (WWW-Authenticate)
    request: object = None  # the request object the lenient reader built

    @property
    def ocpp_version(self) -> str | None:
        return self.version.service.ocpp_version if self.version else None


class CentralSystemEndpoint:
    """WSGI application for /services/CentralSystemService and its version-specific aliases."""

    def __init__(self, settings: Settings, engine: Engine, central_system: CentralSystem,
                 write_lock=None, committed: Callable[[], None] | None = None):
        self.settings = settings
        # A Connection per message, not an ORM Session: the core runs Core SQL only, and the
        # Session's bookkeeping around each statement cost a fifth of a Heartbeat.
        self.engine = engine
        self.read_engine = engine.execution_options(**{READ_ONLY: True})  # no write lock
        self.central_system = central_system
        # Messages of this process's threads share write transactions; the write lock queues
        # the process's writers ahead of the database (see store.database.writer_lock).
        self.transactions = GroupCommit(engine, write_lock)
        # Told after each station message is committed (the bridge's wake-up bell).
        self.committed = committed or (lambda: None)
        self.wsdl = WsdlDocuments(settings.public_url)
        self.forwarding = ForwardingCheck(settings.trusted_proxies)

    # --- WSGI ------------------------------------------------------------------------------
    def __call__(self, environ, start_response):
        method = environ.get("REQUEST_METHOD", "GET")
        known_path = environ.get("PATH_INFO", "").rstrip("/") in PATHS
        if known_path and method == "GET" and environ.get("QUERY_STRING", "").lower() == "wsdl":
            return _respond(start_response, 200, "text/xml; charset=utf-8",
                            self.wsdl.for_path(environ))
        started = time.perf_counter()
        # behind a trusted reverse proxy: the forwarded client address (callback safety)
        peer = client_address(environ.get("REMOTE_ADDR"), environ.get("HTTP_X_FORWARDED_FOR"),
                              self.settings.trusted_proxies)
        exchange = Exchange(raw=b"", peer=peer,
                            credentials=presented_credentials(environ, peer, self.settings))
        if "text/xml" in environ.get("CONTENT_TYPE", ""):
            exchange.soap_version = "1.1"  # until the envelope says otherwise
        extra = ()
        if not known_path:
            status, body, action = self._refuse_http(environ, exchange, started, 404, (
                f"no SOAP service at {environ.get('PATH_INFO', '')}; stations post to "
                f"{SERVICE_PATH}"))
        elif method != "POST":
            status, body, action = self._refuse_http(
                environ, exchange, started, 405,
                "send OCPP SOAP requests with POST; GET ?wsdl for the WSDL")
            extra = [("Allow", "GET, POST")]
        else:
            status, body, action = self._handle(environ, exchange, started)
        content_type = CONTENT_TYPES[exchange.soap_version]
        if exchange.soap_version == "1.2" and action:
            content_type += f'; action="{action}"'
        return _respond(start_response, status, content_type, body,
                        [*extra, *exchange.http_headers], head=method == "HEAD")

    def _refuse_http(self, environ, exchange: Exchange, started: float, status: int,
                     reason: str) -> tuple[int, bytes, str]:
        """A request refused for its HTTP method or path, answered and journaled like any
        other: the journal's raw bytes are the request line and whatever body came."""
        try:
            body = self._read_body(environ)
        except OcppError:
            body = b""
        line = (f"{environ.get('REQUEST_METHOD', '')} {_request_target(environ)} "
                f"{environ.get('SERVER_PROTOCOL', 'HTTP/1.1')}\r\n\r\n")
        exchange.raw = line.encode("latin-1", "replace") + body
        return self._refuse(exchange, OcppError(ErrorCode.PROTOCOL_ERROR, reason), started,
                            status=status)

    def framing_error(self, peer: str | None, raw: bytes, reason: str) -> tuple[str, str, bytes]:
        """An HTTP request the server could not frame (bad Content-Length, ...): answered
        with a FormationViolation and journaled (``raw``: what could be read of it).
        Returns (status line, content type, body)."""
        exchange = Exchange(raw=raw, peer=peer)
        if b"text/xml" in raw.lower():
            exchange.soap_version = "1.1"
        status, body, _action = self._refuse(
            exchange, OcppError(ErrorCode.FORMATION_VIOLATION,
                                f"unreadable HTTP request: {reason}"), time.perf_counter())
        return f"{status} {REASONS.get(status, '')}", CONTENT_TYPES[exchange.soap_version], body

    # --- pipeline --------------------------------------------------------------------------
    def _handle(self, environ, exchange: Exchange, started: float) -> tuple[int, bytes, str]:
        try:
            exchange.raw = self._read_body(environ)
            envelope = parse_envelope(exchange.raw, self.settings.max_message_elements)
            exchange.soap_version = envelope.soap_version
            exchange.addressing = read_addressing(envelope.headers)
            call, body, namespace = self._station_call(envelope, exchange)
            self.forwarding.check(environ)  # a local proxy that is not trusted: refuse
            version, operation = exchange.version, exchange.operation
            if len(exchange.raw) > CHECK_BEFORE_READING and not self._may_be_read(call):
                core_request = None  # refused unread (CentralSystem.process)
            else:
                # Read and map before taking the write lock; a decision message may be asked
                # of an outside advisor (an upstream central system ...), never while holding it.
                self._read_request(call, exchange, body, namespace)
                core_request = version.mapping.request_to_core(operation, exchange.request)
                if self.central_system.wants_advice(call):
                    call.advice = self._advice(call, core_request)
        except (OcppError, SoapLevelFault) as problem:
            return self._refuse(exchange, problem, started)

        def unit(db: Connection) -> tuple[int, bytes, str]:
            try:
                core_response = self.central_system.process(db, call, core_request)
                response = write_reply(
                    version.mapping.response_from_core(operation, core_response),
                    operation.response, operation.response_element, version.service.namespace)
                action = operation.output_action
                body = reply_envelope(exchange.soap_version, action,
                                      exchange.addressing.message_id,
                                      exchange.addressing.reply_to, response)
                status, fault_code = 200, None
            except StationRefused:
                raise  # rolled back (to its savepoint): a refused message changes nothing
            except OcppError as error:
                status, body, fault_code = self._fault(exchange, error)
                action = FAULT_ACTION
            self._journal(db, exchange, status, body, action, fault_code, started)
            return status, body, action

        try:
            status, body, action = self.transactions.run(unit)
            self.committed()
            return status, body, action
        except StationRefused as refusal:
            return self._refuse_station(exchange, refusal, started)
        except Exception:  # noqa: BLE001  (a bug or a database failure: answer, log, journal)
            log.exception("processing %s from %s failed", exchange.operation and
                          exchange.operation.name, exchange.charge_box_id)
            error = OcppError(ErrorCode.INTERNAL_ERROR,
                              "the central system could not process the message; "
                              "it was logged, please retry later")
            return self._refuse(exchange, error, started)

    def _advice(self, call: StationCall, core_request):
        """The advisors' answer, or None: whatever goes wrong there, the local rules decide."""
        try:
            with self.read_engine.connect() as reader:
                return self.central_system.advise(reader, call, core_request)
        except Exception:  # noqa: BLE001  (an advisor's bug or the database: decide locally)
            log.exception("asking the advisors about %s from %s failed", call.action,
                          call.charge_box_id)
            return None

    def _may_be_read(self, call: StationCall) -> bool:
        """Whether a large message is worth reading (CentralSystem.may_be_read), asked on a
        read-only connection before the write transaction."""
        try:
            with self.read_engine.connect() as reader:
                return self.central_system.may_be_read(reader, call)
        except Exception:  # noqa: BLE001  (the database is away: read it, the unit decides)
            log.exception("could not look up %s before reading its message", call.charge_box_id)
            return True

    def _read_body(self, environ) -> bytes:
        limit = self.settings.max_message_bytes
        try:
            declared = int(environ.get("CONTENT_LENGTH") or -1)
        except ValueError:
            declared = -1
        if declared > limit:
            raise OcppError(ErrorCode.FORMATION_VIOLATION,
                            f"the message has {declared} bytes, more than the limit of {limit}")
        if declared < 0 and "chunked" not in environ.get("HTTP_TRANSFER_ENCODING", "").lower():
            return b""  # neither a length nor chunks: HTTP says there is no body
        try:
            data = environ["wsgi.input"].read(limit + 1 if declared < 0 else declared)
        except Exception as exc:  # noqa: BLE001  (the server's framing: a bad chunk size, ...)
            raise OcppError(ErrorCode.FORMATION_VIOLATION,
                            f"the HTTP body could not be read: {exc or type(exc).__name__}"
                            ) from None
        if len(data) > limit:
            raise OcppError(ErrorCode.FORMATION_VIOLATION,
                            f"the message is longer than the limit of {limit} bytes")
        return data

    def _station_call(self, envelope: Envelope,
                      exchange: Exchange) -> tuple[StationCall, etree._Element, str]:
        """The call from the envelope's headers and the body's name, with the body element and
        the namespace to read it in (``_read_request``)."""
        body = envelope.body
        if body is None:
            raise OcppError(ErrorCode.FORMATION_VIOLATION, "the SOAP Body is empty")
        # Headers first (SOAP processes mustUnderstand before the body), and so that even a
        # refused unknown message is journaled under the station that sent it.
        identity, quirks = self._identity_and_headers(envelope)
        exchange.charge_box_id = identity
        namespace, name = etree.QName(body).namespace, etree.QName(body).localname
        exchange.version = INBOUND.get(namespace)
        if exchange.version is None:
            exchange.version = by_charge_point_namespace(namespace, name)
            if exchange.version is not None:  # unambiguous: read it in its own namespace
                quirks.append(("cp-namespace-request",
                               f"{name} in the ChargePointService namespace {namespace}"))
                namespace = exchange.version.service.namespace
                _move_namespace(body, etree.QName(body).namespace, namespace)
        if exchange.version is None:
            if namespace in UNSUPPORTED:
                raise OcppError(ErrorCode.NOT_SUPPORTED,
                                f"{UNSUPPORTED[namespace]} is not supported by this central "
                                f"system; use OCPP 1.5 or 1.6")
            raise OcppError(ErrorCode.NOT_IMPLEMENTED,
                            f"unknown message {name} in namespace {namespace or '(none)'}")
        exchange.operation = exchange.version.service.by_element.get(name)
        if exchange.operation is None:
            raise OcppError(ErrorCode.NOT_IMPLEMENTED,
                            f"{name} is not an OCPP {exchange.ocpp_version} "
                            "CentralSystemService request")
        if not identity:
            raise OcppError(ErrorCode.PROTOCOL_ERROR,
                            "the chargeBoxIdentity SOAP header is missing or empty")
        if len(identity) > _IDENTITY_MAX:  # never cut: a cut identity could name another station
            raise OcppError(ErrorCode.PROTOCOL_ERROR,
                            f"the chargeBoxIdentity has {len(identity)} characters, more than "
                            f"the {_IDENTITY_MAX} this central system stores")
        call = StationCall(charge_box_id=identity, action=exchange.operation.name,
                           ocpp_version=exchange.ocpp_version,
                           soap_version=exchange.soap_version,
                           announced_from=exchange.addressing.from_address,
                           announced_reply_to=exchange.addressing.reply_to,
                           peer_host=exchange.peer, credentials=exchange.credentials,
                           message_id=exchange.addressing.message_id)
        for code, detail in quirks:
            call.quirk(code, detail)
        if exchange.soap_version == "1.1":
            call.quirk("soap-1.1", "the station speaks SOAP 1.1")
        action = exchange.addressing.action
        if action is None:
            call.quirk("no-wsa-action", "no WS-Addressing Action header")
        elif action != exchange.operation.input_action:
            call.quirk("wsa-action-mismatch", f"wsa:Action {action!r} with a {name} body")
        return call, body, namespace

    @staticmethod
    def _read_request(call: StationCall, exchange: Exchange, body: etree._Element,
                      namespace: str) -> None:
        reading = read_request(body, exchange.operation, namespace)
        exchange.request = reading.value
        for quirk in reading.quirks:
            call.quirk(quirk.code, f"{exchange.operation.name}: {quirk.detail}")

    def _identity_and_headers(self, envelope: Envelope) -> tuple[str | None, list]:
        """chargeBoxIdentity from any namespace, and a MustUnderstand check of the rest."""
        identity, quirks = None, []
        must_understand = f"{{{envelope.env_ns}}}mustUnderstand"
        for header in envelope.headers:
            qname = etree.QName(header)
            if qname.localname.lower() == "chargeboxidentity":
                text = header.text or ""
                identity = text.strip()
                if text != identity:
                    quirks.append(("identity-whitespace", f"chargeBoxIdentity {text!r}"))
                if qname.namespace != exchange_namespace(envelope):
                    quirks.append(("identity-namespace",
                                   f"chargeBoxIdentity in namespace {qname.namespace}"))
                if qname.localname != "chargeBoxIdentity":
                    quirks.append(("identity-element-name",
                                   f"chargeBoxIdentity header named {qname.localname}"))
                if header.get(_XSI_TYPE) is not None:  # spyne would look for another type
                    quirks.append(("xsi-type", f"chargeBoxIdentity xsi:type "
                                               f"{header.get(_XSI_TYPE)[:40]!r} ignored"))
                    del header.attrib[_XSI_TYPE]
                continue
            if is_addressing(header):
                if is_unqualified_addressing(header):
                    quirks.append(("unqualified-addressing",
                                   f"WS-Addressing header {qname.localname} without namespace"))
                continue
            if is_true(header.get(must_understand)) and _targets_us(header, envelope):
                raise SoapLevelFault(SoapFault(
                    f"header {header.tag} is marked mustUnderstand but is not understood",
                    soap_code="MustUnderstand"))
        return identity, quirks

    # --- replies and journal -----------------------------------------------------------------
    def _fault(self, exchange: Exchange, problem) -> tuple[int, bytes, str]:
        if isinstance(problem, SoapLevelFault):
            fault = problem.fault
        else:
            fault = SoapFault(problem.reason, problem.code)
        if exchange.version is not None:
            fault.ocpp_namespace = exchange.version.service.namespace
        body = fault_envelope(fault, exchange.soap_version, exchange.addressing.message_id,
                              exchange.addressing.reply_to)
        code = fault.code.value if fault.code else fault.soap_code
        return fault.http_status(exchange.soap_version), body, code

    def _refuse(self, exchange: Exchange, problem, started: float,
                status: int | None = None) -> tuple[int, bytes, str]:
        """A fault answered outside the main transaction; journaled in one of its own."""
        fault_status, body, code = self._fault(exchange, problem)
        status = status or fault_status
        try:
            self.transactions.run(lambda db: self._journal(db, exchange, status, body,
                                                           FAULT_ACTION, code, started))
        except Exception:  # noqa: BLE001  (the database is down: still answer the station)
            log.exception("could not journal a fault for %s", exchange.charge_box_id)
        return status, body, FAULT_ACTION

    def _refuse_station(self, exchange: Exchange, refusal: StationRefused,
                        started: float) -> tuple[int, bytes, str]:
        """A message that may not speak as its station: SecurityError with 401 (password) or
        403, journaled (without credentials) and counted on the station, nothing else."""
        verdict = refusal.verdict
        log.warning("refused a %s for %s from %s: %s", exchange.operation and
                    exchange.operation.name, refusal.charge_box_id, exchange.peer, verdict.reason)
        status, body, code = self._fault(exchange, refusal)
        status = verdict.http_status
        if verdict.asks_for_credentials:
            exchange.http_headers.append(("WWW-Authenticate",
                                          'Basic realm="soapgw", charset="UTF-8"'))
        def unit(db: Connection) -> None:
            self._journal(db, exchange, status, body, FAULT_ACTION, code, started)
            record_auth_refusal(db, refusal, exchange.operation and exchange.operation.name,
                                exchange.peer, now())

        try:
            self.transactions.run(unit)
        except Exception:  # noqa: BLE001  (the database is down: still answer the station)
            log.exception("could not record a refusal for %s", exchange.charge_box_id)
        return status, body, FAULT_ACTION

    def _journal(self, db: Connection, exchange: Exchange, status: int, body: bytes, action: str,
                 fault_code: str | None, started: float) -> None:
        common = dict(charge_box_id=exchange.charge_box_id, ocpp_version=exchange.ocpp_version,
                      soap_version=exchange.soap_version, peer=exchange.peer)
        request_action = exchange.operation.name if exchange.operation else None
        raw = redact(exchange.raw, exchange.credentials)  # a station may echo its URL
        journal.write(db, [
            JournalRecord(direction="in", raw=raw, action=request_action,
                          message_id=exchange.addressing.message_id, **common),
            JournalRecord(direction="out", raw=body,
                          action=(f"{request_action}Response" if fault_code is None
                                  else f"Fault:{fault_code}"),
                          relates_to=exchange.addressing.message_id, http_status=status,
                          duration_ms=(time.perf_counter() - started) * 1000,
                          fault_code=fault_code, **common),
        ])


# Header blocks addressed to us: no actor/role, or the "next" and ultimate-receiver roles.
_OUR_ROLES = {"1.1": {"http://schemas.xmlsoap.org/soap/actor/next"},
              "1.2": {"http://www.w3.org/2003/05/soap-envelope/role/next",
                      "http://www.w3.org/2003/05/soap-envelope/role/ultimateReceiver"}}


def _targets_us(header: etree._Element, envelope: Envelope) -> bool:
    """Whether a header block is for this node (SOAP 1.1 actor, SOAP 1.2 role): blocks for
    other nodes are not processed, so their mustUnderstand is not ours to fault on."""
    name = "actor" if envelope.soap_version == "1.1" else "role"
    role = (header.get(f"{{{envelope.env_ns}}}{name}") or "").strip()
    return not role or role in _OUR_ROLES[envelope.soap_version]


def exchange_namespace(envelope: Envelope) -> str | None:
    return etree.QName(envelope.body).namespace if envelope.body is not None else None


def _move_namespace(element: etree._Element, old: str | None, new: str) -> None:
    """Rename every element of ``element``'s tree in namespace ``old`` into ``new``."""
    for node in element.iter():
        if isinstance(node.tag, str) and etree.QName(node).namespace == old:
            node.tag = f"{{{new}}}{etree.QName(node).localname}"


def _request_target(environ) -> str:
    path = environ.get("SCRIPT_NAME", "") + environ.get("PATH_INFO", "")
    query = environ.get("QUERY_STRING", "")
    return f"{path}?{query}" if query else path


REASONS = {200: "OK", 400: "Bad Request", 401: "Unauthorized", 403: "Forbidden",
           404: "Not Found", 405: "Method Not Allowed", 500: "Internal Server Error",
           501: "Not Implemented", 503: "Service Unavailable"}


def _respond(start_response, status: int, content_type: str, body: bytes, extra=(),
             head: bool = False):
    start_response(f"{status} {REASONS.get(status, '')}",
                   [("Content-Type", content_type), ("Content-Length", str(len(body))), *extra])
    return [] if head else [body]
