"""Reply body elements written straight from the service definitions, without spyne.

spyne's serialiser builds a method context, fires events and walks its protocol classes for
every reply: about a tenth of an inbound message's CPU, inside the database transaction. Our
replies are small and their types are the same definitions spyne uses, so this walk writes the
same element (same names, order, ``tns`` prefix and value texts as spyne 2.14 writes them);
tests/test_direct_codec.py compares the two for every operation of every service.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from functools import cache

from lxml import etree
from spyne import ComplexModel

from soapgw.soap.schema.base import named

_PREFIX = "tns"  # spyne's prefix for the target namespace


@dataclass(frozen=True)
class _Field:
    name: str
    tag: str  # {namespace}name
    complex_type: type | None  # a named complex type, None for a simple one


@cache
def _fields(complex_type, namespace: str) -> tuple[_Field, ...]:
    return tuple(
        _Field(name, f"{{{namespace}}}{name}",
               named(kind) if issubclass(kind, ComplexModel) else None)
        for name, kind in complex_type._type_info.items())


def text_of(value) -> str:
    """A simple value's text as spyne writes it."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, (int, Decimal)):
        return str(value)
    return value


def _write(parent: etree._Element, value, complex_type, namespace: str) -> None:
    for field in _fields(complex_type, namespace):
        item = getattr(value, field.name, None)
        if item is None:
            continue
        for one in item if isinstance(item, list) else (item,):
            if one is None:
                continue
            child = etree.SubElement(parent, field.tag)
            if field.complex_type is not None:
                _write(child, one, field.complex_type, namespace)
            else:
                child.text = text_of(one)


def write_reply(value, complex_type, element_name: str, namespace: str) -> etree._Element:
    """The body element ``element_name`` holding ``value`` (an object with the fields of
    ``complex_type``, such as the mappings' response objects)."""
    element = etree.Element(f"{{{namespace}}}{element_name}", nsmap={_PREFIX: namespace})
    if value is not None:
        _write(element, value, complex_type, namespace)
    return element
