"""Field-by-field mapping where SOAP and the core differ only in naming (camelCase/snake_case).

OCPP 1.6 SOAP has the OCPP-J shape, so its mapping is this walk; 1.5 uses it for everything
its own module does not map by hand.
"""
from __future__ import annotations

import dataclasses
import types
import typing
from datetime import datetime
from decimal import Decimal
from functools import cache

from soapgw.core.names import camel, snake
from soapgw.timestamps import utc


def _unwrap_optional(hint):
    args = [a for a in typing.get_args(hint) if a is not type(None)]
    if typing.get_origin(hint) in (typing.Union, types.UnionType) and len(args) == 1:
        return args[0]
    return hint


_SIMPLE = {datetime: utc, int: int, str: str, Decimal: Decimal}


@cache
def _shape(hint) -> tuple[str, object]:
    """How a value of this type hint converts, worked out once per hint (inspecting the
    typing objects for every value cost more than the conversion): ("list", item hint),
    ("dataclass", type) or ("simple", converter or None)."""
    hint = _unwrap_optional(hint)
    if typing.get_origin(hint) is list:
        return "list", typing.get_args(hint)[0]
    if dataclasses.is_dataclass(hint):
        return "dataclass", hint
    return "simple", _SIMPLE.get(hint)


def _converted(value, shape: str, target):
    if shape == "list":
        return _convert_list(value, target)
    if value is None:
        return None
    if shape == "dataclass":
        return to_core(value, target)
    return value if target is None else target(value)


def _convert_list(value, item_hint) -> list:
    shape, target = _shape(item_hint)
    items = []
    for item in value or ():  # spyne: an absent list is None
        try:
            items.append(_converted(item, shape, target))
        except MissingField:
            # A reading the lenient reader found unusable: drop it, keep the others.
            continue
    return items


class MissingField(ValueError):
    """A field the core type requires is absent."""


@cache
def _core_fields(core_type) -> tuple[tuple[str, str, str, object, bool], ...]:
    """(name, SOAP name, shape, target, required) of each field of a core dataclass; shape
    and target as _shape gives them, worked out here once (hashing a typing hint such as
    ``str | None`` for every value cost more than converting it)."""
    hints = typing.get_type_hints(core_type)
    return tuple((field.name, camel(field.name), *_shape(hints[field.name]),
                  field.default is dataclasses.MISSING
                  and field.default_factory is dataclasses.MISSING)
                 for field in dataclasses.fields(core_type))


def to_core(spyne_object, core_type):
    """Build a core dataclass from a spyne object with the same (camelCase) field names.

    Items of a list whose required fields are missing (the lenient reader removed them as
    unreadable) are skipped rather than failing the whole message.
    """
    values, missing = {}, []
    for name, soap_name, shape, target, required in _core_fields(core_type):
        value = getattr(spyne_object, soap_name, None)
        # _converted, inlined for the plain fields (a long meter value list has tens of
        # thousands): a str stays itself, as str() would give it back.
        if shape == "simple":
            if value is not None and target is not None and not (
                    target is str and type(value) is str):
                value = target(value)
        else:
            value = _converted(value, shape, target)
        values[name] = value
        if value is None and required:
            missing.append(name)
    if missing:
        raise MissingField(f"{core_type.__name__}: missing {', '.join(missing)}")
    return core_type(**values)


def from_core(core_object, spyne_type):
    """Build a spyne object of ``spyne_type`` from a core dataclass (same names, snake_case)."""
    if core_object is None:
        return None
    values = {}
    for name, kind in spyne_type._type_info.items():
        value = getattr(core_object, snake(name), None)
        if value is None:
            continue
        target = getattr(kind, "__orig__", None) or kind
        if isinstance(value, list):
            values[name] = [from_core(item, target) if dataclasses.is_dataclass(item) else item
                            for item in value]
        elif dataclasses.is_dataclass(value):
            values[name] = from_core(value, target)
        elif isinstance(value, datetime):
            # Whole seconds in UTC: some station parsers fail on six fraction digits.
            values[name] = utc(value).replace(microsecond=0)
        else:
            values[name] = value
    return spyne_type(**values)
