"""Building and posting OCPP SOAP messages in tests."""
from __future__ import annotations

import uuid

import requests
from lxml import etree

SOAP12 = "http://www.w3.org/2003/05/soap-envelope"
SOAP11 = "http://schemas.xmlsoap.org/soap/envelope/"
WSA = "http://www.w3.org/2005/08/addressing"
CS16 = "urn://Ocpp/Cs/2015/10/"
CS15 = "urn://Ocpp/Cs/2012/06/"
SERVICE_PATH = "/services/CentralSystemService"
# A BootNotification with every field (the same elements in OCPP 1.5 and 1.6).
BOOT = ("<cs:bootNotificationRequest><cs:chargePointVendor>Acme</cs:chargePointVendor>"
        "<cs:chargePointModel>X1</cs:chargePointModel>"
        "<cs:chargePointSerialNumber>CPS-1</cs:chargePointSerialNumber>"
        "<cs:chargeBoxSerialNumber>CBS-1</cs:chargeBoxSerialNumber>"
        "<cs:firmwareVersion>1.2.3</cs:firmwareVersion><cs:iccid>8931</cs:iccid>"
        "<cs:imsi>2620</cs:imsi><cs:meterType>M-T</cs:meterType>"
        "<cs:meterSerialNumber>M-S</cs:meterSerialNumber></cs:bootNotificationRequest>")


def envelope(identity: str | None, body: str, *, ns: str = CS16, soap: str = SOAP12,
             action: str | None = None, message_id: str | None = None,
             from_address: str | None = "http://127.0.0.1:9/ocpp", extra_headers: str = "") -> bytes:
    """A request envelope; ``body`` uses the prefix ``cs`` for the OCPP namespace."""
    headers = []
    if identity is not None:
        headers.append(f"<cs:chargeBoxIdentity>{identity}</cs:chargeBoxIdentity>")
    headers.append(f"<a:MessageID>{message_id or 'urn:uuid:' + str(uuid.uuid4())}</a:MessageID>")
    if action:
        headers.append(f"<a:Action>{action}</a:Action>")
    if from_address:
        headers.append(f"<a:From><a:Address>{from_address}</a:Address></a:From>")
    return (f'<s:Envelope xmlns:s="{soap}" xmlns:a="{WSA}" xmlns:cs="{ns}">'
            f'<s:Header>{"".join(headers)}{extra_headers}</s:Header>'
            f"<s:Body>{body}</s:Body></s:Envelope>").encode()


def post(base_url: str, data: bytes, *, soap11: bool = False, path: str = SERVICE_PATH,
         action: str | None = None) -> requests.Response:
    if soap11:
        headers = {"Content-Type": "text/xml; charset=utf-8", "SOAPAction": f'"{action or ""}"'}
    else:
        content_type = "application/soap+xml; charset=utf-8"
        if action:
            content_type += f'; action="{action}"'
        headers = {"Content-Type": content_type}
    return requests.post(base_url + path, data=data, headers=headers, timeout=30)


def body_of(response_bytes: bytes) -> etree._Element:
    """The first child of the reply's Body."""
    root = etree.fromstring(response_bytes)
    body = next(child for child in root if etree.QName(child).localname == "Body")
    return body[0]


def fault_subcode(response_bytes: bytes) -> str | None:
    """The OCPP subcode of a SOAP 1.2 Fault reply (local part), or None."""
    values = etree.fromstring(response_bytes).xpath(
        "//s:Fault/s:Code/s:Subcode/s:Value/text()", namespaces={"s": SOAP12})
    return values[0].split(":")[-1] if values else None


def text_of(element: etree._Element, local_name: str) -> str | None:
    found = element.xpath(f".//*[local-name()='{local_name}']/text()")
    return found[0] if found else None
