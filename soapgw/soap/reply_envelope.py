"""The envelope of a reply to a station, written from a template.

Byte for byte what ``build_envelope(version, reply_headers(...), body)`` writes
(tests/test_reply_envelope.py holds them equal), without building and cleaning up an lxml
tree for the envelope and its four WS-Addressing headers: that cost ~30 µs per message, inside
the write transaction, against ~5 µs for serialising the body alone.
"""
from __future__ import annotations

from lxml import etree

from soapgw.soap.addressing import ANONYMOUS, WSA, new_message_id
from soapgw.soap.envelope import ENVELOPE_NS

_OPEN = {version: (f"<?xml version='1.0' encoding='utf-8'?>\n<s:Envelope xmlns:s=\"{ns}\" "
                   f"xmlns:a=\"{WSA}\"><s:Header><a:Action>").encode()
         for version, ns in ENVELOPE_NS.items()}
_BODY = b"</s:Header><s:Body>"
_CLOSE = b"</s:Body></s:Envelope>"


def _text(value: str) -> bytes:
    """Element text escaped as lxml escapes it (a carriage return as a reference)."""
    return (value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
            .replace("\r", "&#13;").encode())


def reply_envelope(soap_version: str, action: str, relates_to: str | None, to: str | None,
                   body_child: etree._Element) -> bytes:
    """The reply: Action, a fresh MessageID, To (``to``, else anonymous) and RelatesTo (when
    the request had a MessageID) around ``body_child`` (see addressing.reply_headers)."""
    parts = [_OPEN[soap_version], _text(action), b"</a:Action><a:MessageID>",
             _text(new_message_id()), b"</a:MessageID><a:To>", _text(to or ANONYMOUS),
             b"</a:To>"]
    if relates_to:
        parts += [b"<a:RelatesTo>", _text(relates_to), b"</a:RelatesTo>"]
    parts += [_BODY, etree.tostring(body_child, encoding="utf-8", xml_declaration=False),
              _CLOSE]
    return b"".join(parts)
