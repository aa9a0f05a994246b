"""Plain dicts <-> OCPP XML and spyne objects, walking our spyne service definitions.

The simulator keeps its messages as dicts with the OCPP (camelCase) field names. The
definitions give field order, namespaces, simple types and which fields repeat, so one small
walker serves every operation of every version (no per-message code to keep in sync).
"""
from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from lxml import etree
from spyne import (Boolean, ComplexModel, DateTime, Decimal as SpyneDecimal, Integer,
                   XmlAttribute, XmlData)

from soapgw.timestamps import TimestampError, format_timestamp, parse_timestamp
from soapgw.soap.schema.base import named

Message = dict[str, Any]


def fields(complex_type) -> list[tuple[str, type]]:
    """(name, spyne type) of a complexType in sequence order."""
    return list(named(complex_type)._type_info.items())


def is_complex(kind) -> bool:
    base = named(kind)
    return isinstance(base, type) and issubclass(base, ComplexModel)


def repeats(kind) -> bool:
    max_occurs = kind.Attributes.max_occurs  # spyne: Decimal('Infinity') for unbounded
    return max_occurs == "unbounded" or (not isinstance(max_occurs, str) and max_occurs > 1)


def _is_simple_content(complex_type) -> bool:
    return any(issubclass(kind, XmlData) for _, kind in fields(complex_type))


def _text(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        return format_timestamp(value)
    if isinstance(value, float):
        return f"{value:.1f}"  # OCPP decimals (limits) carry one fraction digit
    return str(value)


def _parse(kind, text: str):
    """Simple XML text -> Python value by its spyne type; unreadable text stays text."""
    base = named(kind)
    text = text.strip()
    try:
        if issubclass(base, DateTime):
            return parse_timestamp(text)[0]
        if issubclass(base, Boolean):
            return text.lower() in ("true", "1")
        if issubclass(base, Integer):
            return int(text)
        if issubclass(base, SpyneDecimal):
            return Decimal(text)
    except (TimestampError, ValueError, ArithmeticError):
        return text
    return text


# --- dict -> XML ----------------------------------------------------------------------------
def to_element(complex_type, data: Message, tag: str, namespace: str) -> etree._Element:
    """Build ``{namespace}tag`` from ``data``; None values and unknown keys are left out."""
    element = etree.Element(f"{{{namespace}}}{tag}")
    if _is_simple_content(complex_type):
        for name, kind in fields(complex_type):
            value = data.get(name)
            if value is None:
                continue
            if issubclass(kind, XmlData):
                element.text = _text(value)
            else:
                element.set(name, _text(value))
        return element
    for name, kind in fields(complex_type):
        value = data.get(name)
        if value is None:
            continue
        for item in value if repeats(kind) else [value]:
            if is_complex(kind):
                element.append(to_element(named(kind), item, name, namespace))
            else:
                etree.SubElement(element, f"{{{namespace}}}{name}").text = _text(item)
    return element


# --- XML -> dict ----------------------------------------------------------------------------
def from_element(complex_type, element: etree._Element) -> Message:
    """Read ``element`` along ``complex_type``: by local name, unknown children ignored,
    repeated fields as lists (empty when absent)."""
    if _is_simple_content(complex_type):
        result: Message = {}
        for name, kind in fields(complex_type):
            if issubclass(kind, XmlData):
                result[name] = (element.text or "").strip()
            elif element.get(name) is not None:
                result[name] = element.get(name)
        return result
    kinds = dict(fields(complex_type))
    result = {name: [] for name, kind in kinds.items() if repeats(kind)}
    for child in element:
        if not isinstance(child.tag, str):
            continue
        name = etree.QName(child).localname
        kind = kinds.get(name)
        if kind is None:
            continue
        value = (from_element(named(kind), child) if is_complex(kind)
                 else _parse(kind, child.text or ""))
        if repeats(kind):
            result[name].append(value)
        else:
            result[name] = value
    return result


# --- spyne <-> dict (the ChargePointService side runs on spyne) -----------------------------
def from_spyne(obj) -> Any:
    """A spyne object (as spyne deserialised it) -> plain dicts and lists."""
    if obj is None:
        return None
    if isinstance(obj, (list, tuple)):
        return [from_spyne(item) for item in obj]
    if isinstance(obj, ComplexModel):
        result: Message = {}
        for name, kind in type(obj)._type_info.items():
            value = from_spyne(getattr(obj, name, None))
            if repeats(kind) and value is None:
                value = []
            result[name] = value
        return result
    return obj


def to_spyne(complex_type, data: Message | None):
    """Plain dict -> an instance of the spyne ``complex_type`` (for spyne to serialise)."""
    if data is None:
        return None
    complex_type = named(complex_type)
    values = {}
    for name, kind in complex_type._type_info.items():
        value = data.get(name)
        if value is None:
            continue
        if issubclass(kind, XmlAttribute) or issubclass(kind, XmlData):
            values[name] = value
        elif is_complex(kind):
            values[name] = ([to_spyne(kind, item) for item in value] if repeats(kind)
                            else to_spyne(kind, value))
        else:
            values[name] = list(value) if repeats(kind) else value
    return complex_type(**values)
