"""SOAP envelopes: safe parsing of untrusted XML, SOAP 1.1/1.2 detection, and building replies."""
from __future__ import annotations

from dataclasses import dataclass

from lxml import etree

from soapgw.core.errors import ErrorCode, OcppError
from soapgw.soap.shape import MAX_ELEMENTS, parse_bounded

SOAP12 = "http://www.w3.org/2003/05/soap-envelope"
SOAP11 = "http://schemas.xmlsoap.org/soap/envelope/"
SOAP_VERSIONS = {SOAP12: "1.2", SOAP11: "1.1"}
ENVELOPE_NS = {"1.2": SOAP12, "1.1": SOAP11}
_TOP_NSMAP = {"a": "http://www.w3.org/2005/08/addressing"}
CONTENT_TYPES = {"1.2": "application/soap+xml; charset=utf-8", "1.1": "text/xml; charset=utf-8"}

# No DTD, no entities, no network, no huge trees: stations are untrusted.
_OPTIONS = dict(resolve_entities=False, no_network=True, load_dtd=False, dtd_validation=False,
                huge_tree=False, remove_comments=True, remove_pis=True)
_PARSER = etree.XMLParser(**_OPTIONS)


@dataclass
class Envelope:
    """A parsed SOAP request: its version, header blocks and first Body child."""

    soap_version: str  # "1.1" | "1.2"
    root: etree._Element
    headers: list[etree._Element]
    body: etree._Element | None

    @property
    def env_ns(self) -> str:
        return ENVELOPE_NS[self.soap_version]


def parse_envelope(data: bytes, max_elements: int = MAX_ELEMENTS) -> Envelope:
    """Parse untrusted bytes into an Envelope or raise OcppError(FormationViolation);
    ``max_elements`` bounds elements and attributes (see soapgw.soap.shape)."""
    if not data or not data.strip():
        raise OcppError(ErrorCode.FORMATION_VIOLATION, "empty request: a SOAP envelope is expected")
    try:
        root = parse_bounded(data, _PARSER, _OPTIONS, max_elements)  # elements, depth, ...
    except etree.XMLSyntaxError as exc:
        raise OcppError(ErrorCode.FORMATION_VIOLATION, f"not well-formed XML: {exc}") from None
    tree = root.getroottree()
    if tree.docinfo.doctype or tree.docinfo.internalDTD is not None:
        raise OcppError(ErrorCode.FORMATION_VIOLATION,
                        "a DOCTYPE or entity declaration is not allowed in SOAP messages")
    namespace = etree.QName(root).namespace
    if etree.QName(root).localname != "Envelope" or namespace not in SOAP_VERSIONS:
        raise OcppError(ErrorCode.FORMATION_VIOLATION,
                        f"not a SOAP envelope: the root element is {root.tag}")
    header = root.find(f"{{{namespace}}}Header")
    body = root.find(f"{{{namespace}}}Body")
    if body is None:
        raise OcppError(ErrorCode.FORMATION_VIOLATION, "the SOAP envelope has no Body")
    first = next((child for child in body if isinstance(child.tag, str)), None)
    headers = [h for h in header if isinstance(h.tag, str)] if header is not None else []
    return Envelope(SOAP_VERSIONS[namespace], root, headers, first)


def build_envelope(soap_version: str, headers: list[etree._Element],
                   body_child: etree._Element | None) -> bytes:
    """Serialise an envelope with conventional prefixes (``s``, ``a`` for WS-Addressing)."""
    ns = ENVELOPE_NS[soap_version]
    envelope = etree.Element(f"{{{ns}}}Envelope", nsmap={"s": ns})
    if headers:
        header = etree.SubElement(envelope, f"{{{ns}}}Header")
        header.extend(headers)
    body = etree.SubElement(envelope, f"{{{ns}}}Body")
    if body_child is not None:
        body.append(body_child)
    # Declare the prefixes once, on the Envelope (conventional prefixes cost nothing).
    # Keep "ocpp": fault subcodes use it inside text (a QName), which lxml cannot see.
    etree.cleanup_namespaces(envelope, top_nsmap=_TOP_NSMAP, keep_ns_prefixes=["ocpp"])
    return etree.tostring(envelope, xml_declaration=True, encoding="utf-8")


def is_true(value: str | None) -> bool:
    """xs:boolean truth, for attributes such as mustUnderstand."""
    return (value or "").strip() in ("1", "true")
