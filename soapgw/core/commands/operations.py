"""Which ChargePointService operations each OCPP version has (names as in OCPP-J 1.6)."""
from __future__ import annotations

OCPP15 = ("CancelReservation", "ChangeAvailability", "ChangeConfiguration", "ClearCache",
          "DataTransfer", "GetConfiguration", "GetDiagnostics", "GetLocalListVersion",
          "RemoteStartTransaction", "RemoteStopTransaction", "ReserveNow", "Reset",
          "SendLocalList", "UnlockConnector", "UpdateFirmware")
OCPP16 = tuple(sorted(OCPP15 + ("ClearChargingProfile", "GetCompositeSchedule",
                                "SetChargingProfile", "TriggerMessage")))
BY_VERSION: dict[str, tuple[str, ...]] = {"1.5": OCPP15, "1.6": OCPP16}
ALL = OCPP16  # every command accepted as input (its payload is OCPP-J 1.6)


def canonical(name: str) -> str | None:
    """The operation's proper name, case-insensitively (``reset`` -> ``Reset``), or None."""
    return next((op for op in ALL if op.lower() == name.strip().lower()), None)


def unsupported_reason(operation: str, ocpp_version: str | None) -> str | None:
    """Why ``operation`` cannot be sent to a station speaking ``ocpp_version``; None if it can."""
    if ocpp_version not in BY_VERSION:
        return (f"the station's OCPP version is {ocpp_version or 'unknown'} (it has not spoken "
                "OCPP 1.5 or 1.6 SOAP to us yet)")
    if operation not in BY_VERSION[ocpp_version]:
        return f"{operation} does not exist in OCPP {ocpp_version}"
    return None
