"""Bounds on the shape of an untrusted XML message, checked as soon as lxml has parsed it and
before any Python code walks the tree (the lenient reader, spyne, the header loop).

lxml parses a megabyte in tens of milliseconds whatever its shape, but code that walks the
tree pays per node, and some lxml calls pay more: ``attrib.items()`` and ``attrib.values()``
look every value up from the start of the element's attribute list, so they are quadratic
(spyne calls them on every element it reads: 100,000 attributes on one Authorize cost 32.7 s
of CPU). The bounds are precompiled XPaths evaluated in C (about 5 µs for a usual message),
so a hostile tree costs little more than its parse. Namespace declarations are not in the
tree: they are counted as the parser meets them, and only when the raw bytes hold more
``xmlns`` than the bound allows (rare), with the parse stopped at the first chunk past it.

The bounds are far above any real OCPP message (the deepest is 8 levels, an OCPP 1.5 meter
``value`` carries 5 attributes) and admit the big lists of the official operations: a
MeterValues or StopTransaction with 2,000 fully described sampled values, a SendLocalList of
3,000 entries, a GetConfiguration answer with 4,000 keys. The element bound (also the bound
on attributes) is the setting SOAPGW_MAX_MESSAGE_ELEMENTS: a station sending longer meter
value lists (with a larger SOAPGW_MAX_MESSAGE_BYTES) may need more.
"""
from __future__ import annotations

import re

from lxml import etree

from soapgw.core.errors import ErrorCode, OcppError

# Elements in the whole envelope (the default of SOAPGW_MAX_MESSAGE_ELEMENTS), and attributes
# in the whole envelope, namespace declarations not included (an OCPP 1.5 meter value has 5,
# most elements none).
MAX_ELEMENTS = 20_000
MAX_DEPTH = 24  # levels of elements, the root's included (libxml2 stops at 256 by itself)
MAX_ATTRIBUTES_PER_ELEMENT = 16
MAX_NAMESPACE_DECLARATIONS = 4_096  # xmlns and xmlns:prefix, in the whole envelope

_FEED_CHUNK = 64 * 1024  # bytes the counting parser takes between two looks at its count
# Where counting the bytes "xmlns" bounds the declarations: the text starts with "<" in an
# encoding whose ASCII is ASCII (not UTF-16/32, and not UTF-7, which can spell xmlns otherwise).
_PLAIN_START = re.compile(rb"(?:\xef\xbb\xbf)?\s*<(?=[^\x00])")
_DECLARED_ENCODING = re.compile(rb"<\?xml[^>]*?encoding\s*=\s*[\"']([^\"']*)")
_PLAIN_ENCODINGS = {b"utf-8", b"utf8", b"us-ascii", b"ascii", b"iso-8859-1", b"latin1",
                    b"latin-1"}

_COUNT_ELEMENTS = etree.XPath("count(//*)")
_COUNT_ATTRIBUTES = etree.XPath("count(//@*)")
_TOO_DEEP = etree.XPath("boolean(" + "/*" * (MAX_DEPTH + 1) + ")")
# One look for both fixed bounds (every message pays it): an element at depth MAX_DEPTH + 1,
# or an element's attribute number MAX_ATTRIBUTES_PER_ELEMENT + 1.
_DEEP_OR_CROWDED = etree.XPath(f"boolean({'/*' * (MAX_DEPTH + 1)}) or "
                               f"boolean(//@*[{MAX_ATTRIBUTES_PER_ELEMENT + 1}])")
# The fewest bytes an element (<a/>) and an attribute ( a="") take: a message shorter than
# this many times the bound cannot exceed it, and is not counted.
_MIN_NODE_BYTES = 4


def _violation(what: str) -> OcppError:
    return OcppError(ErrorCode.FORMATION_VIOLATION,
                     f"the message's XML is out of bounds: {what}; refused unread")


def parse_bounded(data: bytes, parser: etree.XMLParser, options: dict,
                  max_elements: int = MAX_ELEMENTS) -> etree._Element:
    """Parse ``data`` with ``parser``, or, when its bytes may declare more namespaces than
    allowed, with a counting parser built from the same ``options``; then check its shape.
    Raises XMLSyntaxError (not well-formed) or OcppError(FormationViolation)."""
    if not _spells_xmlns_plainly(data) or data.count(b"xmlns") > MAX_NAMESPACE_DECLARATIONS:
        root = _parse_counting_namespaces(data, options)  # (text may hold "xmlns" too)
    else:
        root = etree.fromstring(data, parser)
    check_shape(root, max_elements, len(data))
    return root


def _spells_xmlns_plainly(data: bytes) -> bool:
    head = data[:256]
    if not _PLAIN_START.match(head):
        return False
    declared = _DECLARED_ENCODING.match(head.lstrip(b"\xef\xbb\xbf \t\r\n"))
    return declared is None or declared.group(1).strip().lower() in _PLAIN_ENCODINGS


def _parse_counting_namespaces(data: bytes, options: dict) -> etree._Element:
    parser = etree.XMLPullParser(events=("start-ns",), **options)
    declared = 0
    for start in range(0, len(data), _FEED_CHUNK):
        parser.feed(data[start:start + _FEED_CHUNK])
        declared += sum(1 for _event in parser.read_events())
        if declared > MAX_NAMESPACE_DECLARATIONS:
            raise _violation(f"more than {MAX_NAMESPACE_DECLARATIONS} namespace declarations")
    return parser.close()


def check_shape(root: etree._Element, max_elements: int = MAX_ELEMENTS,
                size: int | None = None) -> None:
    """Raise OcppError(FormationViolation) when the tree under ``root`` is out of bounds:
    more than ``max_elements`` elements or attributes, or any of the fixed bounds above.
    ``size``: the message's length in bytes, when known (small messages are not counted)."""
    if size is None or size >= _MIN_NODE_BYTES * max_elements:
        elements = int(_COUNT_ELEMENTS(root))
        if elements > max_elements:
            raise _violation(f"{elements} elements, more than {max_elements}")
        attributes = int(_COUNT_ATTRIBUTES(root))
        if attributes > max_elements:
            raise _violation(f"{attributes} attributes, more than {max_elements}")
    if _DEEP_OR_CROWDED(root):
        if _TOO_DEEP(root):
            raise _violation(f"elements nested more than {MAX_DEPTH} deep")
        raise _violation(f"an element with more than {MAX_ATTRIBUTES_PER_ELEMENT} attributes")
