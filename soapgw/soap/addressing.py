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


@dataclass
class Addressing:
    action: str | None = None
    message_id: str | None = None
    to: str | None = None
    from_address: str | None = None
    reply_to: str | None = None
    relates_to: str | None = None


def is_addressing(element: etree._Element) -> bool:
    return etree.QName(element).namespace in _WSA_NAMESPACES


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


def reply_headers(action: str, relates_to: str | None) -> list[etree._Element]:
    """Action, a fresh MessageID and RelatesTo (when the request had a MessageID)."""
    headers = [_element("Action", action), _element("MessageID", new_message_id())]
    if relates_to:
        headers.append(_element("RelatesTo", relates_to))
    return headers


def request_headers(action: str, to: str, from_address: str | None,
                    message_id: str | None = None) -> list[etree._Element]:
    """Headers of a request we send: Action, MessageID, To, and From/ReplyTo when we have one."""
    headers = [_element("Action", action), _element("MessageID", message_id or new_message_id()),
               _element("To", to)]
    for name in ("From", "ReplyTo") if from_address else ():
        wrapper = etree.Element(f"{{{WSA}}}{name}", nsmap={"a": WSA})
        wrapper.append(_element("Address", from_address))
        headers.append(wrapper)
    return headers
