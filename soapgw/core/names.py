"""OCPP field names: the OCPP-J camelCase names and the snake_case names of the core messages."""
from __future__ import annotations

import re
from functools import cache

_CAMEL = re.compile(r"(?<!^)(?=[A-Z])")


@cache
def snake(name: str) -> str:
    """``chargePointVendor`` -> ``charge_point_vendor``."""
    return _CAMEL.sub("_", name).lower()


@cache
def camel(name: str) -> str:
    """``charge_point_vendor`` -> ``chargePointVendor``."""
    first, *rest = name.split("_")
    return first + "".join(part[:1].upper() + part[1:] for part in rest)
