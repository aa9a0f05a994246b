"""Configuration keys of a simulated station (GetConfiguration / ChangeConfiguration).

The OCPP 1.6 core keys a real station has (1.5 stations expose mostly the same names), with
their kind so ChangeConfiguration can answer like a station: unknown key -> NotSupported,
read-only key or unusable value -> Rejected, otherwise Accepted and the new value is used
(HeartbeatInterval and MeterValueSampleInterval reschedule the station at once).
"""
from __future__ import annotations

from dataclasses import dataclass

MEASURANDS = ("Energy.Active.Import.Register", "Power.Active.Import", "Current.Import",
              "Voltage", "Current.Offered", "Power.Offered", "SoC")


@dataclass
class Key:
    value: str
    readonly: bool = False
    kind: str = "str"  # int | bool | measurands (comma-separated) | str


def default_keys(connectors: int, heartbeat: int, meter_interval: int,
                 ocpp_version: str) -> dict[str, Key]:
    keys = {
        "AllowOfflineTxForUnknownId": Key("false", kind="bool"),
        "AuthorizationCacheEnabled": Key("true", kind="bool"),
        "AuthorizeRemoteTxRequests": Key("false", kind="bool"),
        "ClockAlignedDataInterval": Key("0", kind="int"),
        "ConnectionTimeOut": Key("60", kind="int"),
        "GetConfigurationMaxKeys": Key("50", readonly=True, kind="int"),
        "HeartbeatInterval": Key(str(heartbeat), kind="int"),
        "LocalAuthorizeOffline": Key("true", kind="bool"),
        "LocalPreAuthorize": Key("false", kind="bool"),
        "LocalAuthListEnabled": Key("true", kind="bool"),
        "LocalAuthListMaxLength": Key("1000", readonly=True, kind="int"),
        "SendLocalListMaxLength": Key("100", readonly=True, kind="int"),
        "MeterValuesAlignedData": Key("Energy.Active.Import.Register", kind="measurands"),
        "MeterValuesSampledData": Key("Energy.Active.Import.Register,Power.Active.Import,"
                                      "Current.Import", kind="measurands"),
        "MeterValueSampleInterval": Key(str(meter_interval), kind="int"),
        "NumberOfConnectors": Key(str(connectors), readonly=True, kind="int"),
        "ResetRetries": Key("3", kind="int"),
        "StopTransactionOnEVSideDisconnect": Key("true", kind="bool"),
        "StopTransactionOnInvalidId": Key("true", kind="bool"),
        "StopTxnSampledData": Key("Energy.Active.Import.Register", kind="measurands"),
        "TransactionMessageAttempts": Key("3", kind="int"),
        "TransactionMessageRetryInterval": Key("10", kind="int"),
        "UnlockConnectorOnEVSideDisconnect": Key("true", kind="bool"),
        "ReserveConnectorZeroSupported": Key("false", readonly=True, kind="bool"),
    }
    if ocpp_version == "1.6":
        keys.update({
            "SupportedFeatureProfiles": Key("Core,FirmwareManagement,LocalAuthListManagement,"
                                            "Reservation,SmartCharging,RemoteTrigger",
                                            readonly=True),
            "ChargeProfileMaxStackLevel": Key("10", readonly=True, kind="int"),
            "ChargingScheduleAllowedChargingRateUnit": Key("Current,Power",
                                                           readonly=True),
            "ChargingScheduleMaxPeriods": Key("24", readonly=True, kind="int"),
            "MaxChargingProfilesInstalled": Key("10", readonly=True, kind="int"),
        })
    return keys


def check_value(key: Key, value: str) -> bool:
    """Whether ``value`` suits the key's kind (a station rejects what it cannot use)."""
    text = value.strip()
    if key.kind == "int":
        return text.isdigit()
    if key.kind == "bool":
        return text.lower() in ("true", "false")
    if key.kind == "measurands":
        return all(item.strip() in MEASURANDS for item in text.split(",") if item.strip())
    return True
