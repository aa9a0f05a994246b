"""What differs between OCPP 1.5 and 1.6 on the CentralSystemService side, for the simulator.

A station speaks the 1.6 vocabulary internally (statuses, meterValue/sampledValue, units
``A``/``V``, BootNotification ``interval``); the 1.5 dialect translates its requests into the
1.5 shapes and its replies back, and says which messages 1.5 simply does not have (a
``Downloading`` firmware status, say), so the station need not know about versions.
"""
from __future__ import annotations

from soapgw.simulator.wire import Message
from soapgw.soap import ocpp15_vocabulary as vocabulary
from soapgw.soap.schema import cs15, cs16
from soapgw.soap.schema.base import ServiceDefinition, named

VERSIONS = ("1.5", "1.6")


def central_service(ocpp_version: str) -> ServiceDefinition:
    """Our CentralSystemService definition of that version (cs15 / cs16)."""
    if ocpp_version not in VERSIONS:
        raise ValueError(f"OCPP {ocpp_version} is not simulated: use 1.5 or 1.6")
    return {"1.5": cs15.SERVICE, "1.6": cs16.SERVICE}[ocpp_version]


def charge_point_service(ocpp_version: str) -> ServiceDefinition:
    from soapgw.soap.schema import registry
    return registry.find("ChargePointService", ocpp_version)


def _enum(service: ServiceDefinition, operation: str, *path: str) -> tuple[str, ...]:
    """The values of an enumerated field, read from the definition (``ocpp_values``)."""
    kind = service.by_name[operation].request
    for name in path:
        kind = named(kind)._type_info[name]
        if hasattr(kind, "type"):  # an XmlAttribute wraps its simple type
            kind = kind.type
    return getattr(named(kind), "ocpp_values", ())


class Dialect16:
    """1.6 is the station's own vocabulary: nothing to translate."""

    ocpp_version = "1.6"

    def __init__(self):
        self.service = central_service("1.6")

    def request(self, action: str, payload: Message) -> Message | None:
        return payload

    def reply(self, action: str, payload: Message) -> Message:
        return payload


class Dialect15:
    ocpp_version = "1.5"

    def __init__(self):
        self.service = central_service("1.5")
        self._statuses = _enum(self.service, "StatusNotification", "status")
        self._errors = _enum(self.service, "StatusNotification", "errorCode")
        self._firmware = _enum(self.service, "FirmwareStatusNotification", "status")
        self._diagnostics = _enum(self.service, "DiagnosticsStatusNotification", "status")
        value_path = ("values", "value")
        self._measurands = _enum(self.service, "MeterValues", *value_path, "measurand")
        self._contexts = _enum(self.service, "MeterValues", *value_path, "context")
        self._locations = _enum(self.service, "MeterValues", *value_path, "location")
        self._units = _enum(self.service, "MeterValues", *value_path, "unit")

    def request(self, action: str, payload: Message) -> Message | None:
        """The 1.5 form of a request, or None when 1.5 has no such message."""
        if action == "StatusNotification":
            status = vocabulary.CONNECTOR_STATUS.v15(payload["status"])
            error = vocabulary.ERROR_CODE.v15(payload["errorCode"])
            return {**payload, "status": status if status in self._statuses else "Unavailable",
                    "errorCode": error if error in self._errors else "OtherError"}
        if action == "FirmwareStatusNotification":
            return payload if payload["status"] in self._firmware else None
        if action == "DiagnosticsStatusNotification":
            return payload if payload["status"] in self._diagnostics else None
        if action == "MeterValues":
            values = [self._meter_value(mv) for mv in payload.get("meterValue", [])]
            return {"connectorId": payload["connectorId"],
                    "transactionId": payload.get("transactionId"),
                    "values": [v for v in values if v["value"]]}
        if action == "StopTransaction":
            values = [self._meter_value(mv) for mv in payload.get("transactionData", [])]
            values = [v for v in values if v["value"]]
            # 1.5 has no stop reason; its transactionData wraps the readings in "values"
            return {**{k: v for k, v in payload.items() if k not in ("reason", "transactionData")},
                    "transactionData": [{"values": values}] if values else []}
        return payload

    def _meter_value(self, meter_value: Message) -> Message:
        readings = []
        for sample in meter_value.get("sampledValue", []):
            if sample.get("measurand") not in (None, *self._measurands):
                continue  # 1.5 has no word for it (SoC, Power.Offered, ...)
            unit = vocabulary.UNIT.v15(sample.get("unit"))
            readings.append({
                "value": sample["value"], "format": sample.get("format"),
                "measurand": sample.get("measurand"),
                "context": sample.get("context") if sample.get("context") in self._contexts
                else None,
                "location": sample.get("location") if sample.get("location") in self._locations
                else None,
                "unit": unit if unit in self._units else None})
        return {"timestamp": meter_value["timestamp"], "value": readings}

    def reply(self, action: str, payload: Message) -> Message:
        renamed = {name16: payload[name15] for name16, name15
                   in vocabulary.RESPONSE_FIELDS_15.get(action, {}).items() if name15 in payload}
        return {**payload, **renamed} if renamed else payload


def dialect_for(ocpp_version: str) -> Dialect15 | Dialect16:
    return Dialect15() if ocpp_version == "1.5" else Dialect16()
