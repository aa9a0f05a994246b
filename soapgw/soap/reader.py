"""Lenient, schema-guided reading of an OCPP body element, before spyne deserialises it.

Real stations break the schema in ways that keep the meaning clear: elements out of order,
unqualified or unknown elements, whitespace, timestamps without zone, over-long strings,
missing informative fields. The reader walks the element along the spyne definition, repairs
what spyne would choke on (bad values are removed, text is trimmed, timestamps normalised to
UTC), and records each breach as a quirk. Only a problem with an *essential* field (see
``Operation.essential``) becomes an OcppError, with the OCPP code that fits it.

The same walk builds the request object (``Reading.value``): what spyne's deserialiser makes
of the repaired element (same field names, same Python values), at a fraction of its cost.
The inbound endpoint uses it instead of spyne; tests/test_direct_codec.py proves the two equal
over every sample, every operation and a fuzz corpus.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from functools import cache, lru_cache

from lxml import etree
from spyne import Boolean, ComplexModel, DateTime, Decimal as SpyneDecimal, Integer, XmlAttribute
from spyne import XmlData

from soapgw.core.errors import ErrorCode, OcppError
from soapgw.timestamps import TimestampError, parse_timestamp
from soapgw.soap.schema.base import Operation, named

_INTEGER = re.compile(r"^[+-]?\d+$")
_XSI = "http://www.w3.org/2001/XMLSchema-instance"
_XSI_TYPE, _XSI_NIL = f"{{{_XSI}}}type", f"{{{_XSI}}}nil"


@dataclass(frozen=True)
class Quirk:
    code: str  # short and stable, e.g. "out-of-order"
    detail: str


@dataclass
class Reading:
    """What the reader found: quirks to record, and per-field problems (dotted paths).

    A quirk is kept once per kind, with its latest detail (what a station's quirk record
    keeps): 19,000 unknown elements are one quirk to pass on, not 19,000."""

    latest_quirks: dict[str, Quirk] = field(default_factory=dict)
    missing: dict[str, str] = field(default_factory=dict)
    invalid: dict[str, tuple[str, str]] = field(default_factory=dict)  # path -> (kind, detail)
    value: object = None  # the request object (read_request); None for an empty request

    @property
    def quirks(self) -> list[Quirk]:
        return list(self.latest_quirks.values())

    def quirk(self, code: str, detail: str) -> None:
        self.latest_quirks[code] = Quirk(code, detail)


@dataclass(frozen=True)
class _Check:
    text: str | None  # normalised text; None when the value is unusable and must go
    problem: str | None = None  # "type" | "property" when the value breaks its type
    quirk: str | None = None  # a tolerated oddity worth recording
    message: str | None = None
    parsed: object = None  # a datetime's parsed value (not parsed again for the object)


def _exact(value) -> str:
    """xs:dateTime in UTC keeping every microsecond the station sent (stored as sent).

    isoformat, not strftime: strftime's ``%Y`` writes the year 1 as ``1``, no xs:dateTime."""
    value = value.replace(tzinfo=None)
    return value.isoformat("T", "microseconds" if value.microsecond else "seconds") + "Z"


@dataclass(frozen=True)
class _Simple:
    """A simple spyne type, classified once (issubclass chains per value added up)."""

    category: str  # datetime | integer | decimal | boolean | text
    values: tuple | None = None  # an OCPP enumeration's values
    max_len: int | None = None
    bounds: tuple[int, int] | None = None  # xs:int and the like: (minimum, maximum)

    def plain(self, text: str) -> bool:
        """Text taken as it is, with nothing to check or record (most values)."""
        return (self.category == "text" and (self.values is None or text in self.values)
                and (self.max_len is None or len(text) <= self.max_len))

    @property
    def typed(self) -> bool:
        """Types whose empty text cannot be a value (an empty string can)."""
        return self.category != "text"

    def convert(self, text: str):
        """The Python value spyne gives a (checked) text: int, Decimal, bool, str; a
        datetime's text is parsed by the caller (see _value)."""
        if self.category == "integer":
            return int(text)
        if self.category == "decimal":
            return Decimal(text)
        if self.category == "boolean":
            return text in ("true", "1")
        return text


@cache
def _simple(kind) -> _Simple:
    base = named(kind)
    if issubclass(base, Integer):
        # xs:int is 32 bits: a larger number fits no column on every database alike
        low = getattr(base.Attributes, "min_bound", None)
        high = getattr(base.Attributes, "max_bound", None)
        return _Simple("integer", bounds=(low, high) if low is not None else None)
    for category, spyne_type in (("datetime", DateTime), ("decimal", SpyneDecimal),
                                 ("boolean", Boolean)):
        if issubclass(base, spyne_type):
            return _Simple(category)
    values = getattr(base, "ocpp_values", None)
    max_len = getattr(base.Attributes, "max_len", None)
    return _Simple("text", tuple(values) if values is not None else None,
                   max_len if isinstance(max_len, int) else None)


def _check_simple(simple: _Simple, text: str) -> _Check:
    """Validate one simple value against its (classified) spyne type."""
    if simple.category == "datetime":
        try:
            value, had_zone = parse_timestamp(text)
        except TimestampError as exc:
            return _Check(None, "type", message=str(exc))
        return _Check(_exact(value), quirk=None if had_zone else "timestamp-without-zone",
                      parsed=value)
    if simple.category == "integer":
        if not _INTEGER.match(text):
            return _Check(None, "type", message=f"{_cut(text)!r} is not an integer")
        if simple.bounds is not None:
            low, high = simple.bounds
            # compared before int(): a huge digit string is not worth converting
            if len(text.lstrip("+-0")) > 20 or not low <= int(text) <= high:
                return _Check(None, "type", message=f"{_cut(text)} is out of range "
                                                    f"({low} to {high})")
        return _Check(text)
    if simple.category == "decimal":
        try:
            Decimal(text)
        except InvalidOperation:
            return _Check(None, "type", message=f"{text!r} is not a decimal number")
        return _Check(text)
    if simple.category == "boolean":
        if text.lower() not in ("true", "false", "1", "0"):
            return _Check(None, "type", message=f"{text!r} is not a boolean")
        return _Check(text.lower())
    if simple.values is not None and text not in simple.values:
        # Kept as sent (nothing is lost); for an essential field it becomes a Fault.
        return _Check(text, "property",
                      message=f"{text!r} is not one of {', '.join(simple.values)}")
    if simple.max_len is not None and len(text) > simple.max_len:
        return _Check(text, quirk="too-long")
    return _Check(text)


def _cut(text: str, limit: int = 40) -> str:
    return text if len(text) <= limit else f"{text[:limit]}..."


def _is_nil(element: etree._Element) -> bool:
    return (element.get(_XSI_NIL) or "").strip() in ("true", "1")


def _drop_type_substitution(element: etree._Element, where: str, reading: Reading) -> None:
    """``xsi:type`` would make spyne read the element as another type (OCPP declares none
    derived): the element is read as the type the schema gives it."""
    if element.get(_XSI_TYPE) is not None:
        reading.quirk("xsi-type", f"{where}: xsi:type {_cut(element.get(_XSI_TYPE))!r} ignored")
        del element.attrib[_XSI_TYPE]


class RequestObject:
    """A request (or part of one) as read: an attribute per schema field, None when absent,
    a list for a repeated field. What the mappings read from a spyne object, and nothing
    more: no validation, no serialisation."""

    def __init__(self, **fields):
        self.__dict__.update(fields)

    def __repr__(self) -> str:
        return f"RequestObject({', '.join(f'{k}={v!r}' for k, v in vars(self).items())})"


@dataclass(frozen=True)
class _Layout:
    """What the reader needs of a complex type, worked out once per type."""

    order: dict[str, int]  # element name -> position in the schema's sequence
    simple_fields: dict[str, _Simple]
    complex_fields: dict[str, type]  # name -> named complex type
    required: tuple[str, ...]  # minOccurs >= 1
    simple_content: bool  # text with attributes (the OCPP 1.5 meter ``value``)
    repeated: frozenset[str]  # maxOccurs > 1: read as a list
    empty: dict  # every field (elements and attributes) -> None: a new object's start


@cache
def _layout(complex_type) -> _Layout:
    fields = tuple((name, kind) for name, kind in complex_type._type_info.items()
                   if not issubclass(kind, (XmlAttribute, XmlData)))
    return _Layout(
        order={name: index for index, (name, _kind) in enumerate(fields)},
        simple_fields={name: _simple(kind) for name, kind in fields
                       if not issubclass(kind, ComplexModel)},
        complex_fields={name: named(kind) for name, kind in fields
                        if issubclass(kind, ComplexModel)},
        required=tuple(name for name, kind in fields if kind.Attributes.min_occurs >= 1),
        simple_content=any(issubclass(kind, XmlData)
                           for kind in complex_type._type_info.values()),
        repeated=frozenset(name for name, kind in fields
                           if kind.Attributes.max_occurs not in (1, None)),
        empty=dict.fromkeys(complex_type._type_info))


def _value(simple: _Simple, check: _Check):
    """The object's value of a usable checked text (a datetime as the check parsed it)."""
    return check.parsed if check.parsed is not None else simple.convert(check.text)


@lru_cache(maxsize=4096)  # bounded: tags come from stations
def _tag_parts(tag: str) -> tuple[str | None, str]:
    """(namespace or None, local name) of an lxml tag, without an etree.QName per element."""
    if tag[:1] == "{":
        namespace, _, name = tag[1:].partition("}")
        return namespace, name
    return None, tag


def read_element(element: etree._Element, complex_type, namespace: str, reading: Reading,
                 path: str = "") -> RequestObject:
    """Check and repair ``element`` (an instance of ``complex_type``) in place; returns what
    spyne would read from the repaired element."""
    layout = _layout(complex_type)
    if layout.simple_content:
        return _read_simple_content(element, complex_type, reading, path)
    result = RequestObject()
    values = result.__dict__
    values.update(layout.empty)
    repeated = layout.repeated
    order = layout.order
    complex_fields = layout.complex_fields
    simple_fields = layout.simple_fields
    counts: dict[str, int] = {}
    last_index = -1
    where = path or _tag_parts(element.tag)[1]
    # Per element, only dictionary lookups unless something is odd: the quirks' checks are
    # behind cheap tests (attributes present, text not plain), as a MeterValues of thousands
    # of sampled values pays them per value.
    for child in list(element):
        tag = child.tag
        if not isinstance(tag, str):
            continue
        child_namespace, name = _tag_parts(tag)
        index = order.get(name)
        if index is None:
            reading.quirk("unknown-element", f"{where}: unknown element {name!r} ignored")
            element.remove(child)
            continue
        if child_namespace != namespace:
            reading.quirk("unqualified-element" if child_namespace is None else
                          "foreign-namespace",
                          f"{where}: {name} is in namespace {child_namespace or '(none)'}")
            child.tag = f"{{{namespace}}}{name}"
        if index < last_index:
            reading.quirk("out-of-order", f"{where}: {name} comes after a later element")
        else:
            last_index = index
        if child.keys():  # attributes: xsi:nil and xsi:type are read here
            if _is_nil(child):  # OCPP elements are not nillable: xsi:nil says "no value"
                reading.quirk("nil-element", f"{where}: {name} is xsi:nil, taken as absent")
                element.remove(child)
                continue
            if child.get(_XSI_NIL) is not None:  # xsi:nil="false": a value (spyne: nil)
                del child.attrib[_XSI_NIL]
            _drop_type_substitution(child, f"{where}.{name}", reading)
        counts[name] = counts.get(name, 0) + 1
        child_type = complex_fields.get(name)
        if child_type is not None:
            value = read_element(child, child_type, namespace, reading,
                                 f"{path}.{name}" if path else name)
        else:
            text = child.text or ""
            if text.strip() != text:
                child.text = text = text.strip()
            simple = simple_fields[name]
            if simple.plain(text):
                value = text
            else:
                if text == "" and simple.typed:
                    reading.quirk("empty-element", f"{where}: empty {name} taken as absent")
                    element.remove(child)
                    counts[name] -= 1
                    continue
                check = _check_simple(simple, text)
                if check.quirk:
                    reading.quirk(check.quirk, f"{where}: {name}={text!r}")
                if check.problem:
                    child_path = f"{path}.{name}" if path else name
                    reading.invalid[child_path] = (check.problem, f"{name}: {check.message}")
                    reading.quirk("invalid-value", f"{where}: {name}: {check.message}")
                if check.text is None:
                    element.remove(child)
                    counts[name] -= 1
                    continue
                if check.text != text:
                    child.text = check.text
                value = _value(simple, check)
        if name in repeated:  # appended to a repeated field, else the last one wins (spyne)
            if values[name] is None:
                values[name] = [value]
            else:
                values[name].append(value)
        else:
            values[name] = value
    for name in layout.required:
        if counts.get(name, 0) == 0:
            child_path = f"{path}.{name}" if path else name
            if child_path not in reading.invalid:
                reading.missing[child_path] = f"{where}: required {name} is missing"
                reading.quirk("missing-required", reading.missing[child_path])
    return result


def _read_simple_content(element, complex_type, reading: Reading, path: str) -> RequestObject:
    """Elements with text and attributes (the OCPP 1.5 meter ``value``)."""
    _drop_type_substitution(element, path, reading)
    for child in list(element):
        # No element belongs in simple content (the reading is the text before it). spyne
        # would read one named like an attribute as that attribute, one named ``value`` as
        # the reading (None when empty, a crash when not): removed, like unknown elements.
        if isinstance(child.tag, str):
            reading.quirk("unknown-element", f"{path}: element "
                                             f"{etree.QName(child).localname!r} in a value ignored")
            element.remove(child)
    if element.text and element.text.strip() != element.text:
        element.text = element.text.strip()
    text_field, text_kind, kinds = _simple_content_kinds(complex_type)
    result = RequestObject(**_layout(complex_type).empty)
    values = result.__dict__
    if element.text is not None:
        values[text_field] = _simple(text_kind).convert(element.text)
    for key in list(element.attrib):
        qname = etree.QName(key)
        name = qname.localname
        if qname.namespace == _XSI:
            continue  # xsi:type and the like describe the element, they carry no reading data
        if name not in kinds:
            reading.quirk("unknown-attribute", f"{path}: unknown attribute {name!r} ignored")
            continue
        if qname.namespace is not None:
            # OCPP attributes are unqualified; spyne would silently drop a qualified one
            reading.quirk("qualified-attribute", f"{path}@{name} is in namespace "
                                                 f"{qname.namespace}")
            value = element.attrib.pop(key)
            if element.get(name) is None:
                element.set(name, value)
        value = element.get(name)
        if value.strip() != value:  # trimmed like element text, so mappings see the value
            element.set(name, value := value.strip())
        simple = _simple(kinds[name])
        check = _check_simple(simple, value)
        if check.problem:
            reading.quirk("invalid-value", f"{path}@{name}: {check.message}")
        # (OCPP's attributes are all enumerations: text, kept as sent like spyne keeps it)
        values[name] = value if check.text is None else _value(simple, check)
    return result


@cache
def _simple_content_kinds(complex_type) -> tuple[str, type, dict[str, type]]:
    """(the text's field name, its type, attribute name -> type) of a simple-content type."""
    text_field, text_kind, kinds = "value", None, {}
    for name, kind in complex_type._type_info.items():
        if issubclass(kind, XmlData):
            text_field, text_kind = name, kind.type
        elif issubclass(kind, XmlAttribute):
            kinds[name] = kind.type
    return text_field, text_kind, kinds


def read_request(body: etree._Element, operation: Operation, namespace: str) -> Reading:
    """Read a request body element; raise OcppError when an essential field is unusable."""
    reading = Reading()
    where = etree.QName(body).localname
    _drop_type_substitution(body, where, reading)
    if body.get(_XSI_NIL) is not None:
        # a nil request is an empty one: its required fields are missing, nothing more
        reading.quirk("nil-element", f"{where} has xsi:nil={body.get(_XSI_NIL)!r}: read as empty")
        del body.attrib[_XSI_NIL]
    request = read_element(body, operation.request, namespace, reading)
    # spyne declares an empty request (Heartbeat) as no parameter: no object either
    reading.value = request if operation.request._type_info else None
    for path in operation.essential:
        if path in reading.invalid:
            kind, detail = reading.invalid[path]
            code = (ErrorCode.PROPERTY_CONSTRAINT_VIOLATION if kind == "property"
                    else ErrorCode.TYPE_CONSTRAINT_VIOLATION)
            raise OcppError(code, f"{operation.name}: {detail}")
        if path in reading.missing:
            raise OcppError(ErrorCode.OCCURENCE_CONSTRAINT_VIOLATION,
                            f"{operation.name}: required field {path} is missing")
    return reading
