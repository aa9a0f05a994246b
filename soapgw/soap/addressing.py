"""WS-Addressing 1.0 (spyne has none): read request headers, write reply and request headers."""
from __future__ import annotations

import uuid
from dataclasses import dataclass

from lxml import etree

WSA = "http://www.w3.org/2005/08/addressing"
ANONYMOUS = f"{WSA}/anonymous"
FAULT_ACTION = f"{WSA}/soap/fault"
# Older drafts some stacks still send; read like 1.0.
_WSA_NAMESPACES = (WSA, "http://schemas.xmlsoap.org/ws/2004/08/addressing")
# Header names read as WS-Addressing even unqualified (stations leave the namespace out the way
# they do for chargeBoxIdentity, and the meaning is just as clear).
_WSA_NAMES = frozenset(("Action", "MessageID", "To", "From", "ReplyTo", "FaultTo", "RelatesTo"))


@dataclass
class Addressing:
    action: str | None = None
    message_id: str | None = None
    to: str | None = None
    from_address: str | None = None
    reply_to: str | None = None
    relates_to: str | None = None


def is_addressing(element: etree._Element) -> bool:
    qname = etree.QName(element)
    return qname.namespace in _WSA_NAMESPACES or is_unqualified_addressing(element)


def is_unqualified_addressing(element: etree._Element) -> bool:
    """A WS-Addressing header name without a namespace (read as WS-Addressing, a quirk)."""
    qname = etree.QName(element)
    return qname.namespace is None and qname.localname in _WSA_NAMES


def _text(element: etree._Element) -> str | None:
    text = (element.text or "").strip()
    return text or None


def _address(element: etree._Element) -> str | None:
    for child in element:
        if isinstance(child.tag, str) and etree.QName(child).localname == "Address":
            return _text(child)
    return _text(element)  # some stacks put the address straight in From


def read_addressing(headers: list[etree._Element]) -> Addressing:
    found = Addressing()
    for header in headers:
        if not is_addressing(header):
            continue
        name = etree.QName(header).localname
        if name == "Action":
            found.action = _text(header)
        elif name == "MessageID":
            found.message_id = _text(header)
        elif name == "To":
            found.to = _text(header)
        elif name == "From":
            found.from_address = _address(header)
        elif name == "ReplyTo":
            found.reply_to = _address(header)
        elif name == "RelatesTo":
            found.relates_to = _text(header)
    return found


def new_message_id() -> str:
    return f"urn:uuid:{uuid.uuid4()}"


def _element(name: str, text: str) -> etree._Element:
    element = etree.Element(f"{{{WSA}}}{name}", nsmap={"a": WSA})
    element.text = text
    return element


def reply_headers(action: str, relates_to: str | None,
                  to: str | None = None) -> list[etree._Element]:
    """Action, a fresh MessageID, To (the request's ReplyTo, else the anonymous URI: strict
    stacks require To in every message) and RelatesTo (when the request had a MessageID)."""
    headers = [_element("Action", action), _element("MessageID", new_message_id()),
               _element("To", to or ANONYMOUS)]
    if relates_to:
        headers.append(_element("RelatesTo", relates_to))
    return headers


def endpoint_reference(name: str, address: str) -> etree._Element:
    """``<a:From><a:Address>...</a:Address></a:From>`` (or ReplyTo, FaultTo)."""
    wrapper = etree.Element(f"{{{WSA}}}{name}", nsmap={"a": WSA})
    wrapper.append(_element("Address", address))
    return wrapper


def request_headers(action: str, to: str, from_address: str | None,
                    message_id: str | None = None) -> list[etree._Element]:
    """Headers of a request we send: Action, MessageID, To, and From/ReplyTo when we have one."""
    headers = [_element("Action", action), _element("MessageID", message_id or new_message_id()),
               _element("To", to)]
    for name in ("From", "ReplyTo") if from_address else ():
        headers.append(endpoint_reference(name, from_address))
    return headers
