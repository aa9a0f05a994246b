"""The template that writes replies to stations (soap.reply_envelope) writes byte for byte what
lxml writes for the same envelope (soap.envelope.build_envelope with addressing.reply_headers):
for every CentralSystemService response of OCPP 1.5 and 1.6, SOAP 1.1 and 1.2, with and
without RelatesTo and ReplyTo, and text that needs escaping; and so do the gateway's replies."""
from __future__ import annotations

import io
import re

import pytest
from lxml import etree

from soap_messages import BOOT, envelope
from soapgw.soap.addressing import read_addressing, reply_headers
from soapgw.soap.envelope import build_envelope, parse_envelope
from soapgw.soap.reply_envelope import reply_envelope
from soapgw.soap.reply_writer import write_reply
from soapgw.soap_in.versions import INBOUND

ODD = "a&b<c>d\r\ne\t'\"ü 漢字 😀 ]]> &amp;"
OPERATIONS = [(version.service.namespace, operation)
              for version in INBOUND.values()
              for operation in version.service.by_element.values()]


def same_id(reply: bytes) -> bytes:
    """The reply with its MessageID (fresh in each reply) made the same."""
    return re.sub(rb"<a:MessageID>[^<]*</a:MessageID>", b"<a:MessageID>x</a:MessageID>", reply)


def lxml_reply(soap_version, action, relates_to, to, body) -> bytes:
    return build_envelope(soap_version, reply_headers(action, relates_to, to), body)


@pytest.mark.parametrize("namespace,operation", OPERATIONS,
                         ids=[f"{ns.split('/')[-2]}-{op.name}" for ns, op in OPERATIONS])
@pytest.mark.parametrize("soap_version", ["1.1", "1.2"])
def test_every_response_element_alike(namespace, operation, soap_version):
    for relates_to, to in ((None, None), ("urn:uuid:1", None), (ODD, "http://x/cb?a=1&b=<2>")):
        body = write_reply(None, operation.response, operation.response_element, namespace)
        expected = lxml_reply(soap_version, operation.output_action, relates_to, to, body)
        body = write_reply(None, operation.response, operation.response_element, namespace)
        got = reply_envelope(soap_version, operation.output_action, relates_to, to, body)
        assert same_id(got) == same_id(expected)


def test_nested_bodies_with_attributes_and_odd_text():
    ns = "urn://Ocpp/Cs/2015/10/"

    def body():
        root = etree.Element(f"{{{ns}}}thing", nsmap={"ns": ns})
        inner = etree.SubElement(root, f"{{{ns}}}inner", attrib={"kind": ODD})
        inner.text = ODD
        etree.SubElement(inner, f"{{{ns}}}leaf").text = "2026-12-05T10:00:00Z"
        etree.SubElement(root, "{http://www.w3.org/2001/XMLSchema-instance}nil",
                         nsmap={"xsi": "http://www.w3.org/2001/XMLSchema-instance"})
        return root

    for soap_version in ("1.1", "1.2"):
        assert same_id(reply_envelope(soap_version, "/R", ODD, None, body())) == same_id(
            lxml_reply(soap_version, "/R", ODD, None, body()))


@pytest.mark.parametrize("soap", ["http://www.w3.org/2003/05/soap-envelope",
                                  "http://schemas.xmlsoap.org/soap/envelope/"])
def test_the_gateways_replies_are_what_lxml_writes(app, seed, soap):
    """A BootNotification's and a Heartbeat's replies from the app, taken apart and written
    again through lxml, give the same bytes."""
    seed.station("CB-REPLY")
    for body in (BOOT, "<cs:heartbeatRequest/>"):
        data = envelope("CB-REPLY", body, soap=soap, message_id="urn:uuid:a&amp;b&lt;c&#13;")
        environ = {"REQUEST_METHOD": "POST", "PATH_INFO": "/services/CentralSystemService",
                   "CONTENT_TYPE": "application/soap+xml", "CONTENT_LENGTH": str(len(data)),
                   "wsgi.input": io.BytesIO(data), "REMOTE_ADDR": "127.0.0.1"}
        statuses = []
        reply = b"".join(app(environ, lambda status, headers, exc=None: statuses.append(status)))
        assert statuses == ["200 OK"], reply
        parsed = parse_envelope(reply)
        addressing = read_addressing(parsed.headers)
        assert addressing.relates_to == "urn:uuid:a&b<c"  # its \r stripped, as all text
        again = build_envelope(parsed.soap_version, reply_headers(
            addressing.action, addressing.relates_to, addressing.to), parsed.body)
        assert same_id(reply) == same_id(again)
