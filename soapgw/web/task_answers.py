"""Rich answers on the task page: GetConfiguration keys, a GetCompositeSchedule and a
GetDiagnostics file name drawn as tables from the stored OCPP-J response (pure functions)."""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import timedelta

from soapgw.timestamps import TimestampError, format_timestamp, parse_timestamp


@dataclass
class RichAnswer:
    """What the task page draws for an answer: (label, value) pairs, then a table."""

    kind: str  # the operation, for the template's CSS class
    facts: list[tuple[str, object]]
    columns: tuple[str, ...] = ()
    rows: list[tuple] = field(default_factory=list)
    extra: list[tuple[str, list[str]]] = field(default_factory=list)  # (label, items)


def _plus_seconds(start: str | None, seconds) -> str | None:
    try:
        return format_timestamp(parse_timestamp(start)[0] + timedelta(seconds=float(seconds)))
    except (TimestampError, TypeError, ValueError, OverflowError):
        return None


def rich_answer(operation: str, response: str | None) -> RichAnswer | None:
    """GetConfiguration keys, a GetCompositeSchedule and a GetDiagnostics file name as tables
    (None for other answers, or a reply that does not have the expected shape)."""
    try:
        data = json.loads(response) if response else None
    except json.JSONDecodeError:
        return None
    if not isinstance(data, dict):
        return None
    if operation == "GetConfiguration":
        keys = [k for k in data.get("configurationKey") or [] if isinstance(k, dict)]
        unknown = [str(k) for k in data.get("unknownKey") or []]
        return RichAnswer(operation, [("Keys", len(keys))], ("Key", "Value", "Read-only"),
                          [(k.get("key"), k.get("value"),
                            {True: "yes", False: "no"}.get(k.get("readonly"), "–"))
                           for k in keys],
                          [("Unknown keys", unknown)] if unknown else [])
    if operation == "GetCompositeSchedule":
        schedule = data.get("chargingSchedule") if isinstance(
            data.get("chargingSchedule"), dict) else {}
        start = data.get("scheduleStart") or schedule.get("startSchedule")
        unit = schedule.get("chargingRateUnit")
        facts = [("Status", data.get("status")), ("Connector", data.get("connectorId")),
                 ("Schedule start", start), ("Duration (s)", schedule.get("duration")),
                 ("Rate unit", unit), ("Minimum rate", schedule.get("minChargingRate"))]
        periods = [p for p in schedule.get("chargingSchedulePeriod") or []
                   if isinstance(p, dict)]
        return RichAnswer(operation, [(k, v) for k, v in facts if v is not None],
                          ("Start (s)", "From", f"Limit ({unit or '?'})", "Phases"),
                          [(p.get("startPeriod"), _plus_seconds(start, p.get("startPeriod")),
                            p.get("limit"), p.get("numberPhases")) for p in periods])
    if operation == "GetDiagnostics":
        return RichAnswer(operation, [("File name", data.get("fileName")
                                       or "none (the station has no diagnostics to upload)")])
    return None
