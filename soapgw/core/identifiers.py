"""Rules for the identifiers people type: chargeBoxIdentity and idTag."""
from __future__ import annotations

import re

from soapgw.core.errors import Invalid

_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
CHARGE_BOX_ID_LENGTH = 255  # the column; OCPP sets no limit for SOAP stations
ID_TAG_LENGTH = 20  # OCPP IdToken is CiString20Type: a station can send no longer one


def identifier_problem(value: str, what: str, max_length: int) -> str | None:
    """Why ``value`` is not a usable identifier, or None."""
    if not value:
        return f"the {what} is empty"
    if len(value) > max_length:
        return f"the {what} is longer than {max_length} characters"
    if _CONTROL.search(value):
        return f"the {what} contains control characters"
    if value != value.strip():
        return f"the {what} starts or ends with spaces"
    return None


def check_identifiers(field: str, values: list[str], what: str, max_length: int) -> list[str]:
    """The values without duplicates (order kept); Invalid naming every bad one."""
    if not values:
        raise Invalid({field: f"no {what} given"})
    problems = [f"{value!r}: {problem}" for value in values
                if (problem := identifier_problem(value, what, max_length))]
    if problems:
        shown = "; ".join(problems[:5]) + ("; …" if len(problems) > 5 else "")
        raise Invalid({field: shown})
    return list(dict.fromkeys(values))
