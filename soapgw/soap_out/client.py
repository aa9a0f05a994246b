"""The SOAP client for ChargePointService: zeep, with our generated WSDLs.

Each WSDL is parsed once per process (building a zeep client from a WSDL costs 12-21 ms);
every call gets a light zeep ``Client`` on that parsed document with its own transport and
plugin (they hold what this one call sent and received, for the journal), and
``create_service(binding, address)`` for the station's address. One ``requests`` session
per sender is shared by all calls: connection pools, TLS settings.

On the wire: SOAP 1.2, ``chargeBoxIdentity`` in the Cp namespace, WS-Addressing Action,
MessageID and To (zeep adds these itself, from ``wsaw:Action``) plus From/ReplyTo (zeep never
sends those) with the gateway's public address, else the anonymous URI. Replies are read
leniently: SOAP 1.1,
no header, elements out of order or unqualified, ``1``/``0`` booleans.
"""
from __future__ import annotations

import io
import logging
import threading
import time
from dataclasses import dataclass
from http.cookiejar import DefaultCookiePolicy
from urllib.parse import urlsplit

import requests
from lxml import etree
from zeep import Client, Plugin, Settings as ZeepSettings, Transport
from zeep.exceptions import Error as ZeepError, Fault as ZeepFault, TransportError
from zeep.helpers import serialize_object
from zeep.wsdl import Document

from soapgw.config import Settings
from soapgw.core.commands.errors import ErrorKind, TaskError
from soapgw.core.commands.runner import Reply, Target, Timeouts
from soapgw.soap.addressing import ANONYMOUS, WSA, endpoint_reference, read_addressing
from soapgw.soap.envelope import SOAP11, SOAP12, SOAP_VERSIONS
from soapgw.soap.reader import Reading, read_element
from soapgw.soap.schema.base import Operation, ServiceDefinition
from soapgw.soap.schema.registry import find
from soapgw.soap.wsdl import generate_wsdl
from soapgw.soap_out import errors
from soapgw.soap_out.json_mapping import from_soap, to_soap
from soapgw.soap_out.pinning import PinnedAddressAdapter, pinned_url
from soapgw.store.journal import JournalRecord

log = logging.getLogger(__name__)

# Replies are untrusted XML: no DTDs, entities or network access; sequence order not enforced.
ZEEP_SETTINGS = ZeepSettings(strict=False, forbid_dtd=True, forbid_entities=True,
                             forbid_external=True, xsd_ignore_sequence_order=True,
                             force_https=False, xml_huge_tree=False)
_BINDING = "{%s}ChargePointServiceSoap"
_DOCUMENTS: dict[str, Document] = {}
_DOCUMENTS_LOCK = threading.Lock()


def wsdl_document(ocpp_version: str) -> Document:
    """Our ChargePointService WSDL for ``ocpp_version``, parsed once per process."""
    with _DOCUMENTS_LOCK:
        if ocpp_version not in _DOCUMENTS:
            service = find("ChargePointService", ocpp_version)
            data = generate_wsdl(service, "http://localhost/Ocpp/ChargePointService/")
            _DOCUMENTS[ocpp_version] = Document(io.BytesIO(data), Transport(),
                                                settings=ZEEP_SETTINGS)
        return _DOCUMENTS[ocpp_version]


@dataclass
class _Exchange:
    """One call as it went over the wire."""

    address: str
    request: bytes | None = None
    message_id: str | None = None
    status: int | None = None
    reply: bytes | None = None
    reply_soap_version: str | None = None
    relates_to: str | None = None
    reply_message_id: str | None = None
    fault_code: str | None = None
    duration_ms: float | None = None


class _CallTransport(Transport):
    """zeep's transport for one call: (connect, read) timeouts, no redirects (a redirect could
    lead past the callback safety rules), a size limit on replies, and the raw bytes kept."""

    def __init__(self, session: requests.Session, exchange: _Exchange, settings: Settings,
                 timeouts: Timeouts, connect_to: tuple[str, ...] = ()):
        super().__init__(session=session)
        self.exchange, self.settings, self.timeouts = exchange, settings, timeouts
        self.connect_to = connect_to

    def post(self, address, message, headers):
        self.exchange.request = message
        started = time.perf_counter()
        url = address
        if self.connect_to:  # the address the callback guard checked (see soap_out.pinning)
            url, host = pinned_url(address, self.connect_to[0])
            if host is not None:
                headers = {**headers, "Host": host}
        try:
            response = self.session.post(
                url, data=message, headers=headers, allow_redirects=False, stream=True,
                timeout=(self.timeouts.connect, self.timeouts.operation))
            content = self._read(response, address, started)
        finally:
            self.exchange.duration_ms = (time.perf_counter() - started) * 1000
        response._content = content  # what zeep reads as response.content
        self.exchange.status, self.exchange.reply = response.status_code, content
        if content.strip() and not _is_xml(content):
            # zeep's own parser recovers into None on such bytes; say what it is instead
            if response.status_code != 200:
                raise errors.http_error(response.status_code, address, content)
            raise TaskError(ErrorKind.INVALID_REPLY, f"the reply from {address} is not XML: "
                                                     f"{content[:80]!r}")
        return response


    def _read(self, response: requests.Response, address: str, started: float) -> bytes:
        """The reply body, within the size limit and a total deadline (the read timeout alone
        restarts with every packet, so a station trickling bytes could hold a worker)."""
        limit = self.settings.max_message_bytes
        deadline = started + self.timeouts.connect + self.timeouts.operation
        content = bytearray()
        raw = response.raw
        if hasattr(raw, "read1"):  # urllib3 2: returns whatever has arrived
            chunks = iter(lambda: raw.read1(65536, decode_content=True), b"")
        else:  # urllib3 1.26: waits for full chunks (the deadline is checked less often)
            chunks = raw.stream(65536, decode_content=True)
        try:
            for chunk in chunks:
                content += chunk
                if len(content) > limit:
                    raise TaskError(ErrorKind.INVALID_REPLY,
                                    f"the reply from {address} is longer than {limit} bytes")
                if time.perf_counter() > deadline:
                    raise TaskError(ErrorKind.TIMEOUT,
                                    f"the station at {address} was still sending its answer "
                                    f"after {deadline - started:g} s")
        finally:
            response.close()
        return bytes(content)


_CHECK_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False,
                                huge_tree=False)


def _is_xml(content: bytes) -> bool:
    try:
        etree.fromstring(content, _CHECK_PARSER)
    except etree.XMLSyntaxError:
        return False
    return True


class _OcppPlugin(Plugin):
    """Adds WS-A From/ReplyTo; makes replies readable before zeep deserialises them."""

    def __init__(self, service: ServiceDefinition, exchange: _Exchange, public_address: str | None):
        self.service, self.exchange, self.public_address = service, exchange, public_address

    def egress(self, envelope, http_headers, operation, binding_options):
        header = envelope.find(f"{{{SOAP12}}}Header")
        if header is not None:
            # Always both: strict station stacks refuse a command without From ("missing
            # From"); without a public URL the anonymous URI (the reply comes back on this
            # HTTP connection either way).
            for name in ("From", "ReplyTo"):
                header.append(endpoint_reference(name, self.public_address or ANONYMOUS))
        if header is not None:
            self.exchange.message_id = header.findtext(f"{{{WSA}}}MessageID")
        return envelope, http_headers

    def ingress(self, envelope, http_headers, operation):
        soap_version = SOAP_VERSIONS.get(etree.QName(envelope).namespace)
        if soap_version is None or etree.QName(envelope).localname != "Envelope":
            if self.exchange.status != 200:  # an error page that happens to be XML
                raise errors.http_error(self.exchange.status or 0, self.exchange.address,
                                        self.exchange.reply or b"")
            raise TaskError(ErrorKind.INVALID_REPLY,
                            f"the reply is not a SOAP envelope (root {envelope.tag})")
        self.exchange.reply_soap_version = soap_version
        env_ns = SOAP12 if soap_version == "1.2" else SOAP11
        header = envelope.find(f"{{{env_ns}}}Header")
        if header is not None:
            headers = [h for h in header if isinstance(h.tag, str)]
            addressing = read_addressing(headers)
            self.exchange.relates_to = addressing.relates_to
            self.exchange.reply_message_id = addressing.message_id
        body = envelope.find(f"{{{env_ns}}}Body")
        child = None if body is None else next(
            (c for c in body if isinstance(c.tag, str)), None)
        if child is not None and etree.QName(child).localname == "Fault":
            error = errors.fault_error(child)
            self.exchange.fault_code = error.fault_code or "Fault"
            raise error
        if self.exchange.status is not None and self.exchange.status != 200:
            raise errors.http_error(self.exchange.status, self.exchange.address,
                                    self.exchange.reply or b"")
        op = self.service.by_name[operation.name]
        if child is None or etree.QName(child).localname != op.response_element:
            found = "an empty Body" if child is None else etree.QName(child).localname
            raise TaskError(ErrorKind.INVALID_REPLY,
                            f"expected {op.response_element} in the reply, got {found}")
        child.tag = f"{{{self.service.namespace}}}{op.response_element}"
        reading = Reading()
        read_element(child, op.response, self.service.namespace, reading)
        for quirk in reading.quirks:
            log.debug("reply quirk from %s: %s %s", self.exchange.address, quirk.code,
                      quirk.detail)
        if soap_version == "1.1":  # zeep's binding reads SOAP 1.2 only
            envelope = _as_soap12(envelope)
        return envelope, http_headers


def _as_soap12(envelope: etree._Element) -> etree._Element:
    converted = etree.Element(f"{{{SOAP12}}}Envelope", nsmap={"s": SOAP12})
    for part in envelope:
        if isinstance(part.tag, str) and etree.QName(part).namespace == SOAP11:
            copy = etree.SubElement(converted, f"{{{SOAP12}}}{etree.QName(part).localname}")
            copy.extend(list(part))
    return converted


def _as_dict(op: Operation, result) -> dict | None:
    """zeep unwraps a response with a single field (``status``) into its value: wrap it back."""
    if result is None:
        return None
    values = serialize_object(result, target_cls=dict)
    if isinstance(values, dict):
        return values
    fields = list(op.response._type_info)
    return {fields[0]: values} if len(fields) == 1 else None


class SoapSender:
    """Sends ChargePointService requests: :class:`soapgw.core.commands.runner.Sender`."""

    def __init__(self, settings: Settings):
        self.settings = settings
        self.public_address = (f"{settings.public_url}/services/CentralSystemService"
                               if settings.public_url else None)
        self.session = self._session(settings)

    @staticmethod
    def _session(settings: Settings) -> requests.Session:
        session = requests.Session()
        session.trust_env = False  # no proxies from the environment: we call stations directly
        session.cookies.set_policy(DefaultCookiePolicy(allowed_domains=[]))  # no cookies
        # one pool per station host:port; calls to one host never exceed the workers
        adapter = PinnedAddressAdapter(pool_connections=256,
                                       pool_maxsize=max(settings.outbound_concurrency, 64))
        session.mount("http://", adapter)
        session.mount("https://", adapter)
        session.verify = str(settings.tls_ca) if settings.tls_ca else True
        if settings.tls_client_cert:
            session.cert = (str(settings.tls_client_cert), str(settings.tls_client_key)) \
                if settings.tls_client_key else str(settings.tls_client_cert)
        return session

    def check(self, ocpp_version: str, operation: str, payload: dict) -> None:
        to_soap(ocpp_version, operation, payload)

    def send(self, target: Target, operation: str, payload: dict,
             timeouts: Timeouts | None = None) -> Reply:
        timeouts = timeouts or Timeouts.of(self.settings)
        service = find("ChargePointService", target.ocpp_version)
        op = service.by_name[operation]
        exchange = _Exchange(address=target.address)
        try:
            values = to_soap(target.ocpp_version, operation, payload)
            client = Client(wsdl_document(target.ocpp_version),
                            transport=_CallTransport(self.session, exchange, self.settings,
                                                     timeouts, target.connect_to),
                            plugins=[_OcppPlugin(service, exchange, self.public_address)],
                            settings=ZEEP_SETTINGS)
            proxy = client.create_service(_BINDING % service.namespace, target.address)
            result = getattr(proxy, operation)(
                **values, _soapheaders={"ChargeBoxIdentity": target.charge_box_id})
            values = _as_dict(op, result)
            if values is None and exchange.status != 200:
                raise errors.http_error(exchange.status or 0, target.address,
                                        exchange.reply or b"")
            reply = Reply(response=from_soap(target.ocpp_version, operation, values))
        except TaskError as error:
            reply = Reply(error=error)
        except requests.RequestException as exc:
            reply = Reply(error=errors.from_requests(exc, target.address, timeouts.connect,
                                                     timeouts.operation))
        except TransportError as exc:
            status = exc.status_code or exchange.status or 0
            reply = Reply(error=errors.http_error(status, target.address, exchange.reply or b"")
                          if status != 200 else TaskError(
                              ErrorKind.INVALID_REPLY,
                              f"the reply from {target.address} is not XML"))
        except ZeepFault as exc:
            reply = Reply(error=TaskError(ErrorKind.FAULT, f"the station answered a SOAP "
                                                           f"Fault: {exc.message}"))
        except (ZeepError, ValueError, TypeError, AttributeError, etree.LxmlError) as exc:
            kind = ErrorKind.INVALID_REPLY if exchange.request else ErrorKind.INVALID_PAYLOAD
            what = "cannot read the reply" if exchange.request else "cannot build the request"
            reply = Reply(error=TaskError(kind, f"{what}: {type(exc).__name__}: {exc}"))
        reply.message_id = exchange.message_id
        reply.duration_ms = exchange.duration_ms
        reply.journal = self._journal(target, op, exchange, reply)
        return reply

    def _journal(self, target: Target, op: Operation, exchange: _Exchange,
                 reply: Reply) -> list[JournalRecord]:
        if exchange.request is None:
            return []  # nothing went out
        peer = urlsplit(target.address).netloc
        common = dict(charge_box_id=target.charge_box_id, ocpp_version=target.ocpp_version,
                      peer=peer)
        records = [JournalRecord(direction="out", raw=exchange.request, action=op.name,
                                 message_id=exchange.message_id, soap_version="1.2", **common)]
        if exchange.reply is not None:
            fault = exchange.fault_code
            records.append(JournalRecord(
                direction="in", raw=exchange.reply,
                action=f"Fault:{fault}" if fault else f"{op.name}Response",
                message_id=exchange.reply_message_id, relates_to=exchange.relates_to,
                soap_version=exchange.reply_soap_version,
                http_status=exchange.status, duration_ms=exchange.duration_ms,
                fault_code=fault, **common))
        return records
