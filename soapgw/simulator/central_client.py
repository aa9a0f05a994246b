"""Sends a station's CentralSystemService requests over SOAP 1.2 with WS-Addressing.

Envelopes are built from our cs15/cs16 definitions (field order, namespaces) with lxml;
``chargeBoxIdentity`` goes in the Cs namespace and ``wsa:From`` carries the station's own
ChargePointService URL: that is how a SOAP central system learns where to send commands.
Replies are parsed with the gateway's safe parser. One keep-alive ``requests.Session`` per
station, always with timeouts (a dead central system must not hang a station forever).
"""
from __future__ import annotations

import threading
import time
from collections import Counter, deque
from dataclasses import dataclass, field

import requests
from lxml import etree

from soapgw.core.errors import OcppError
from soapgw.soap.addressing import ANONYMOUS, WSA, request_headers
from soapgw.soap.envelope import CONTENT_TYPES, build_envelope, parse_envelope
from soapgw.simulator.dialect import dialect_for
from soapgw.simulator.wire import Message, from_element, to_element


class CentralError(Exception):
    """A request got no usable answer."""


class CentralFault(CentralError):
    """The central system answered with a SOAP Fault."""

    def __init__(self, action: str, code: str | None, reason: str):
        super().__init__(f"{action}: fault {code or '?'}: {reason}")
        self.code, self.reason = code, reason


class CentralUnavailable(CentralError):
    """Connection refused, timeout, HTTP error without a SOAP body, unreadable reply."""


@dataclass
class Traffic:
    """What one client sent: counts per action, errors, and recent latencies (seconds)."""

    sent: Counter = field(default_factory=Counter)
    failed: Counter = field(default_factory=Counter)
    latencies: deque = field(default_factory=lambda: deque(maxlen=2000))
    last_error: str | None = None


def _address_element(name: str, address: str) -> etree._Element:
    wrapper = etree.Element(f"{{{WSA}}}{name}", nsmap={"a": WSA})
    etree.SubElement(wrapper, f"{{{WSA}}}Address").text = address
    return wrapper


class CentralClient:
    """CentralSystemService requests of one station (thread-safe: one request at a time)."""

    def __init__(self, central_url: str, charge_box_id: str, own_url: str, ocpp_version: str,
                 *, connect_timeout: float = 5.0, read_timeout: float = 30.0,
                 session: requests.Session | None = None):
        self.central_url = central_url
        self.charge_box_id = charge_box_id
        self.own_url = own_url
        self.dialect = dialect_for(ocpp_version)
        self.service = self.dialect.service
        self.timeout = (connect_timeout, read_timeout)
        self.http = session or requests.Session()
        self.traffic = Traffic()
        self._lock = threading.Lock()  # requests.Session is not meant for concurrent use

    @property
    def namespace(self) -> str:
        return self.service.namespace

    def envelope(self, action: str, payload: Message) -> bytes:
        """The SOAP 1.2 request for ``action`` with ``payload`` already in this version's shape."""
        operation = self.service.by_name[action]
        identity = etree.Element(f"{{{self.namespace}}}chargeBoxIdentity",
                                 nsmap={"cs": self.namespace})
        identity.text = self.charge_box_id
        # ReplyTo stays anonymous (the reply comes on this HTTP connection); From is our URL.
        headers = [identity, *request_headers(operation.input_action, self.central_url, None),
                   _address_element("From", self.own_url),
                   _address_element("ReplyTo", ANONYMOUS)]
        body = to_element(operation.request, payload, operation.request_element, self.namespace)
        return build_envelope("1.2", headers, body)

    def call(self, action: str, payload: Message) -> Message | None:
        """Send one request; the reply as a dict in the 1.6 vocabulary.

        Returns None, sending nothing, when this OCPP version has no such message. Raises
        CentralFault or CentralUnavailable.
        """
        shaped = self.dialect.request(action, payload)
        if shaped is None:
            return None
        operation = self.service.by_name[action]
        data = self.envelope(action, shaped)
        content_type = f'{CONTENT_TYPES["1.2"]}; action="{operation.input_action}"'
        started = time.perf_counter()
        try:
            with self._lock:
                try:
                    response = self.http.post(self.central_url, data=data, timeout=self.timeout,
                                              headers={"Content-Type": content_type})
                except requests.RequestException as exc:
                    raise CentralUnavailable(f"{action}: {exc.__class__.__name__}: {exc}") \
                        from None
                reply = self._read(action, response)
        except CentralError as exc:
            self.traffic.failed[action] += 1
            self.traffic.last_error = str(exc)
            raise
        finally:
            self.traffic.latencies.append((action, time.perf_counter() - started))
        self.traffic.sent[action] += 1
        return self.dialect.reply(action, from_element(operation.response, reply))

    def _read(self, action: str, response: requests.Response) -> etree._Element:
        try:
            envelope = parse_envelope(response.content)
        except OcppError as exc:
            raise CentralUnavailable(f"{action}: HTTP {response.status_code}, "
                                     f"unreadable reply: {exc.reason}") from None
        body = envelope.body
        if body is None:
            raise CentralUnavailable(f"{action}: HTTP {response.status_code}, empty Body")
        if etree.QName(body).localname == "Fault":
            raise CentralFault(action, *_fault_code_and_reason(body))
        expected = self.service.by_name[action].response_element
        if etree.QName(body).localname != expected:
            raise CentralUnavailable(f"{action}: expected {expected}, got {body.tag}")
        return body

    def close(self) -> None:
        self.http.close()


def _fault_code_and_reason(fault: etree._Element) -> tuple[str | None, str]:
    """OCPP subcode (SOAP 1.2 Subcode/Value, or the SOAP 1.1 faultcode suffix) and reason."""
    subcode = fault.xpath("./*[local-name()='Code']/*[local-name()='Subcode']"
                          "/*[local-name()='Value']/text()")
    reason = fault.xpath("./*[local-name()='Reason']/*[local-name()='Text']/text()"
                         " | ./faultstring/text()")
    code = subcode[0].split(":")[-1].strip() if subcode else None
    if code is None:
        faultcode = fault.xpath("./faultcode/text()")
        code = faultcode[0].split(".")[-1].strip() if faultcode else None
    return code, (reason[0].strip() if reason else "")

