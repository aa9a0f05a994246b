"""Journal messages as readable XML. Parsing never resolves entities or touches the network;
the result is plain text that the template escapes."""
from __future__ import annotations

from dataclasses import dataclass

from lxml import etree

MAX_PRETTY_BYTES = 2 * 1024 * 1024


@dataclass
class PrettyMessage:
    text: str  # the whole envelope, indented (or the raw text when it is no XML)
    header: str | None  # the SOAP Header element, indented
    well_formed: bool


def _parser() -> etree.XMLParser:
    return etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False,
                           huge_tree=False, remove_blank_text=True)


def _indent(element) -> str:
    return etree.tostring(element, pretty_print=True, encoding="unicode")


def pretty(raw: bytes | None) -> PrettyMessage:
    raw = raw or b""
    if len(raw) > MAX_PRETTY_BYTES:
        return PrettyMessage(raw[:MAX_PRETTY_BYTES].decode("utf-8", "replace")
                             + "\n… (cut)", None, False)
    try:
        root = etree.fromstring(raw, _parser())
    except (etree.XMLSyntaxError, ValueError):
        return PrettyMessage(raw.decode("utf-8", "replace"), None, False)
    header = next((child for child in root
                   if isinstance(child.tag, str) and etree.QName(child).localname == "Header"),
                  None)
    return PrettyMessage(_indent(root), _indent(header) if header is not None else None, True)
