"""Hostile envelope shapes: valid-looking OCPP 1.6 requests (Authorize, Heartbeat, MeterValues)
whose XML shape costs a reader dearly, each under the default SOAPGW_MAX_MESSAGE_BYTES.

Shared by tests/test_hostile_shapes.py and benchmarks/hostile_shapes.py.
"""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

from soapgw.soap.shape import MAX_ELEMENTS  # the default SOAPGW_MAX_MESSAGE_ELEMENTS
from soapgw.timestamps import format_timestamp

SOAP12 = "http://www.w3.org/2003/05/soap-envelope"
WSA = "http://www.w3.org/2005/08/addressing"
CS16 = "urn://Ocpp/Cs/2015/10/"
CS15 = "urn://Ocpp/Cs/2012/06/"
LIMIT = 1024 * 1024  # the default SOAPGW_MAX_MESSAGE_BYTES


def wrap(identity: str, body: str, action: str, head_attrs: str = "", headers: str = "",
         root_attrs: str = "") -> bytes:
    """A SOAP 1.2 request envelope with the usual headers; ``body`` uses the prefix ``cs``."""
    return (f'<s:Envelope xmlns:s="{SOAP12}" xmlns:a="{WSA}" xmlns:cs="{CS16}"{root_attrs}>'
            f"<s:Header><cs:chargeBoxIdentity{head_attrs}>{identity}</cs:chargeBoxIdentity>"
            f"<a:MessageID>urn:uuid:hostile-{action}</a:MessageID><a:Action>/{action}</a:Action>"
            f"{headers}</s:Header><s:Body>{body}</s:Body></s:Envelope>").encode()


_DIGITS = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"


def _name(number: int) -> str:
    """A short distinct attribute name per number (base 62)."""
    name = ""
    while True:
        number, digit = divmod(number, 62)
        name = _DIGITS[digit] + name
        if not number:
            return "a" + name


def _attrs(count: int) -> str:
    return "".join(f' {_name(i)}=""' for i in range(count))


def attributes_on_one(identity: str, operation: str = "Authorize") -> bytes:
    """100,000 attributes on the request element (the 931 KB Authorize of issue 14)."""
    body = {"Authorize": f"<cs:authorizeRequest{_attrs(100_000)}><cs:idTag>TAG1</cs:idTag>"
                         "</cs:authorizeRequest>",
            "Heartbeat": f"<cs:heartbeatRequest{_attrs(100_000)}/>",
            "MeterValues": f"<cs:meterValuesRequest{_attrs(100_000)}><cs:connectorId>1"
                           "</cs:connectorId><cs:meterValue><cs:timestamp>2026-03-01T10:00:00Z"
                           "</cs:timestamp><cs:sampledValue><cs:value>1</cs:value>"
                           "</cs:sampledValue></cs:meterValue></cs:meterValuesRequest>",
            }[operation]
    return wrap(identity, body, operation)


def attributes_on_header(identity: str, operation: str = "Authorize") -> bytes:
    """100,000 attributes on the chargeBoxIdentity header (read before the body)."""
    return wrap(identity, _plain_body(operation), operation, head_attrs=_attrs(100_000))


def attributes_spread(identity: str, operation: str = "MeterValues") -> bytes:
    """100,000 attributes, 50 on each of 2,000 sampled values (OCPP 1.6 declares none)."""
    values = "".join(f"<cs:sampledValue{_attrs(50)}><cs:value>1</cs:value>"
                     "</cs:sampledValue>" for _ in range(2_000))
    return wrap(identity, _meter_values(values), operation)


def many_elements(identity: str, operation: str = "MeterValues") -> bytes:
    """200,000 tiny elements: unknown empty children of the request element."""
    filler = "<x/>" * 200_000
    body = {"Authorize": f"<cs:authorizeRequest>{filler}<cs:idTag>TAG1</cs:idTag>"
                         "</cs:authorizeRequest>",
            "Heartbeat": f"<cs:heartbeatRequest>{filler}</cs:heartbeatRequest>",
            "MeterValues": _meter_values(filler)}[operation]
    return wrap(identity, body, operation)


def many_sampled_values(identity: str, operation: str = "MeterValues") -> bytes:
    """20,000 schema-valid sampled values in one MeterValues (60,000 elements)."""
    values = ("<sampledValue><value>1</value></sampledValue>" * 20_000)
    return wrap(identity, _meter_values(values).replace(
        "<cs:meterValue>", f'<cs:meterValue xmlns="{CS16}">'), operation)


def deep(identity: str, operation: str = "Authorize") -> bytes:
    """Elements nested 10,000 deep inside the request (libxml2 stops at 256 without huge_tree)."""
    nest = "<cs:d>" * 10_000 + "</cs:d>" * 10_000
    return wrap(identity, _plain_body(operation, nest), operation)


def long_text(identity: str, operation: str = "Authorize") -> bytes:
    """A 900 KB text node as the idTag (the schema allows 20 characters)."""
    body = {"Authorize": "<cs:authorizeRequest><cs:idTag>" + "T" * 900_000 + "</cs:idTag>"
                         "</cs:authorizeRequest>",
            "Heartbeat": "<cs:heartbeatRequest>" + "T" * 900_000 + "</cs:heartbeatRequest>",
            "MeterValues": _meter_values("<cs:sampledValue><cs:value>" + "1" * 900_000
                                         + "</cs:value></cs:sampledValue>")}[operation]
    return wrap(identity, body, operation)


def namespace_declarations(identity: str, operation: str = "Authorize") -> bytes:
    """5,000 namespace declarations on the request element."""
    decls = "".join(f' xmlns:n{i}="urn:x:{i}"' for i in range(5_000))
    return wrap(identity, _plain_body(operation).replace(">", decls + ">", 1), operation)


def namespaces_spread(identity: str, operation: str = "MeterValues") -> bytes:
    """8,000 sampled values, each declaring 3 prefixes of its own (24,000 declarations)."""
    values = "".join(f'<cs:sampledValue xmlns:p{i}="urn:p:{i}" xmlns:q="urn:q:{i}" '
                     f'xmlns:r{i % 7}="urn:r"><cs:value>1</cs:value></cs:sampledValue>'
                     for i in range(8_000))
    return wrap(identity, _meter_values(values), operation)


def prefixed_attributes(identity: str, operation: str = "Authorize") -> bytes:
    """20,000 attributes each in a namespace of its own prefix (xmlns + qualified attribute)."""
    attrs = "".join(f' xmlns:p{i}="urn:p:{i}" p{i}:a="x"' for i in range(20_000))
    return wrap(identity, _plain_body(operation).replace(">", attrs + ">", 1), operation)


def long_attribute_values(identity: str, operation: str = "Authorize") -> bytes:
    """Ten attributes of 90 KB each on the request element."""
    attrs = "".join(f' a{i}="{"v" * 90_000}"' for i in range(10))
    return wrap(identity, _plain_body(operation).replace(">", attrs + ">", 1), operation)


def entity_expansion(identity: str, operation: str = "Authorize") -> bytes:
    """A DOCTYPE with nested entities (billion laughs)."""
    lol = ('<?xml version="1.0"?><!DOCTYPE s:Envelope [<!ENTITY a "aaaaaaaaaa">'
           + "".join(f'<!ENTITY {chr(98 + i)} "{("&" + chr(97 + i) + ";") * 10}">'
                     for i in range(9)) + "]>")
    body = _plain_body(operation).replace("TAG1", "&j;")
    return lol.encode() + wrap(identity, body, operation)


def _plain_body(operation: str, inner: str = "") -> str:
    return {"Authorize": f"<cs:authorizeRequest>{inner}<cs:idTag>TAG1</cs:idTag>"
                         "</cs:authorizeRequest>",
            "Heartbeat": f"<cs:heartbeatRequest>{inner}</cs:heartbeatRequest>",
            "MeterValues": _meter_values(inner + "<cs:sampledValue><cs:value>1</cs:value>"
                                         "</cs:sampledValue>")}[operation]


def _meter_values(sampled: str) -> str:
    return ("<cs:meterValuesRequest><cs:connectorId>1</cs:connectorId><cs:meterValue>"
            f"<cs:timestamp>2026-03-01T10:00:00Z</cs:timestamp>{sampled}</cs:meterValue>"
            "</cs:meterValuesRequest>")


# name -> (builder, the operation it is sent as): shapes refused by soapgw.soap.shape or libxml2
SHAPES = {
    "attributes on one element": (attributes_on_one, "Authorize"),
    "attributes on a header": (attributes_on_header, "Heartbeat"),
    "attributes spread": (attributes_spread, "MeterValues"),
    "many elements": (many_elements, "MeterValues"),
    "many sampled values": (many_sampled_values, "MeterValues"),
    "depth 10,000": (deep, "Authorize"),
    "namespace declarations": (namespace_declarations, "Authorize"),
    "namespaces spread": (namespaces_spread, "MeterValues"),
    "prefixed attributes": (prefixed_attributes, "Authorize"),
    "entity expansion": (entity_expansion, "Authorize"),
}
# Big but cheap: one long text or value is parsed at memcpy speed and read once (the
# DataTransfer data may legitimately fill the whole message), so no bound applies.
CHEAP = {
    "900 KB text": (long_text, "Authorize"),
    "long attribute values": (long_attribute_values, "Authorize"),
}


# Shapes just inside the bounds of soapgw.soap.shape: accepted by the check, read in full.
def elements_at_bound(identity: str, operation: str = "Authorize") -> bytes:
    """19,900 unknown empty elements in an Authorize (each one dropped by the reader)."""
    body = f"<cs:authorizeRequest>{'<x/>' * 19_900}<cs:idTag>TAG1</cs:idTag></cs:authorizeRequest>"
    return wrap(identity, body, operation)


# Elements every MeterValues below has before its readings: Envelope, Header,
# chargeBoxIdentity, MessageID, Action, Body, meterValuesRequest, connectorId.
_METER_VALUES_HEAD = 8


def sampled_values_at_bound(identity: str, operation: str = "MeterValues") -> bytes:
    """9,995 schema-valid sampled values (2 elements each) under one timestamp: 20,000
    elements, the most readings one MeterValues can carry at the bound."""
    count = (MAX_ELEMENTS - _METER_VALUES_HEAD - 2) // 2
    values = "<sampledValue><value>1</value></sampledValue>" * count
    return wrap(identity, _meter_values(values).replace(
        "<cs:meterValue>", f'<cs:meterValue xmlns="{CS16}">'), operation)


def timestamped_values_at_bound(identity: str, operation: str = "MeterValues") -> bytes:
    """4,998 meterValues of one reading each, every one with its own timestamp (4 elements
    each): the costliest valid OCPP 1.6 MeterValues per element."""
    count = (MAX_ELEMENTS - _METER_VALUES_HEAD) // 4
    values = "".join(f"<cs:meterValue><cs:timestamp>{_moment(i)}</cs:timestamp><cs:sampledValue>"
                     f"<cs:value>{i}</cs:value></cs:sampledValue></cs:meterValue>"
                     for i in range(count))
    return wrap(identity, "<cs:meterValuesRequest><cs:connectorId>1</cs:connectorId>"
                          f"{values}</cs:meterValuesRequest>", operation)


def ocpp15_values_at_bound(identity: str, operation: str = "MeterValues") -> bytes:
    """19,990 OCPP 1.5 meter ``value`` elements (one element each) under one timestamp: the
    most readings per element of any request."""
    count = MAX_ELEMENTS - _METER_VALUES_HEAD - 2
    body = ("<cs:meterValuesRequest><cs:connectorId>1</cs:connectorId><cs:values>"
            f"<cs:timestamp>2026-03-01T10:00:00Z</cs:timestamp>{'<cs:value>1</cs:value>' * count}"
            "</cs:values></cs:meterValuesRequest>")
    return wrap(identity, body, operation).replace(CS16.encode(), CS15.encode())


def _moment(second: int) -> str:
    return format_timestamp(datetime(2026, 3, 1, tzinfo=timezone.utc) + timedelta(seconds=second))


def attributes_at_bound(identity: str, operation: str = "MeterValues") -> bytes:
    """1,240 sampled values with 16 unknown attributes each (19,840 attributes)."""
    values = "".join(f"<cs:sampledValue{_attrs(16)}><cs:value>1</cs:value></cs:sampledValue>"
                     for _ in range(1_240))
    return wrap(identity, _meter_values(values), operation)


def namespaces_at_bound(identity: str, operation: str = "MeterValues") -> bytes:
    """4,000 namespace declarations on the Envelope, then 3,000 unqualified sampled values
    (the reader moves each into the OCPP namespace, a lookup through the declarations)."""
    decls = "".join(f' xmlns:n{i}="urn:x:{i}"' for i in range(4_000))
    values = "<sampledValue><value>1</value></sampledValue>" * 3_000
    return wrap(identity, _meter_values(values), operation, root_attrs=decls)


AT_BOUNDS = {
    "elements at the bound": (elements_at_bound, "Authorize"),
    "sampled values at the bound": (sampled_values_at_bound, "MeterValues"),
    "timestamped values at the bound": (timestamped_values_at_bound, "MeterValues"),
    "OCPP 1.5 values at the bound": (ocpp15_values_at_bound, "MeterValues"),
    "attributes at the bound": (attributes_at_bound, "MeterValues"),
    "namespaces at the bound": (namespaces_at_bound, "MeterValues"),
}
