"""OCPP 1.5 CentralSystemService SOAP <-> the 1.6-shaped core messages.

Where 1.5 and 1.6 agree (Authorize, StartTransaction, Heartbeat, DataTransfer, the firmware and
diagnostics statuses, idTagInfo) this is the structural walk of the 1.6 mapping. By hand:

- MeterValues ``values`` -> ``meter_value``: each ``value`` element becomes a sampled value,
  its XML attributes becoming fields (1.5 has no phase). StopTransaction ``transactionData``
  holds ``values`` lists: they are flattened into one list of meter values.
- Vocabulary: every 1.5 enumeration value is spelt the same in 1.6 except the units ``Amp`` and
  ``Volt`` (1.6 ``A``/``V``), the error code ``Mode3Error`` (renamed ``EVCommunicationError`` in
  1.6) and the status ``Occupied``. A value outside the 1.5 vocabulary is kept as sent (the
  reader has recorded it as a quirk), so nothing a station reports is lost.
- ``Occupied`` -> ``Charging``: 1.6 split Occupied into Preparing/Charging/SuspendedEV/
  SuspendedEVSE/Finishing, and which one applies cannot be told from the message. SteVe, the
  reference SOAP central system, maps Occupied to Charging; operators' reports and dashboards
  built on it expect that, so we do the same (the connector is in use either way).
- BootNotification.conf: ``interval`` -> ``heartbeatInterval``; 1.5 has no Pending, so a
  station pending acceptance is answered Rejected (it retries its boot later either way).
- StopTransaction: 1.5 has no ``reason`` (None in the core).
"""
from __future__ import annotations

from soapgw.core import messages
from soapgw.timestamps import utc
from soapgw.soap.mapping.structural import from_core, to_core
from soapgw.soap.schema import cs15
from soapgw.soap.schema.base import Operation

# 1.5 spelling -> 1.6 spelling, per field; values not listed are the same in both versions.
UNITS = {"Amp": "A", "Volt": "V"}
STATUSES = {"Occupied": "Charging"}
ERROR_CODES = {"Mode3Error": "EVCommunicationError"}
REGISTRATION_STATUSES = {"Pending": "Rejected"}


def sampled_value(reading) -> messages.SampledValue | None:
    """One 1.5 ``value`` element; None when it has no text (1.6 drops such a reading too)."""
    if reading.value is None:
        return None
    return messages.SampledValue(
        value=reading.value, context=reading.context, format=reading.format,
        measurand=reading.measurand, location=reading.location,
        unit=UNITS.get(reading.unit, reading.unit))


def meter_values(values) -> list[messages.MeterValue]:
    """1.5 ``MeterValue`` elements as core meter values.

    A reading whose timestamp the reader had to remove (unparseable) is skipped, as the 1.6
    mapping skips it: the rest of the message still counts.
    """
    converted = []
    for meter_value in values or ():
        if meter_value.timestamp is None:
            continue
        samples = [sampled_value(reading) for reading in meter_value.value or ()]
        converted.append(messages.MeterValue(
            timestamp=utc(meter_value.timestamp),
            sampled_value=[sample for sample in samples if sample is not None]))
    return converted


def _meter_values_request(request) -> messages.MeterValuesRequest:
    return messages.MeterValuesRequest(connector_id=request.connectorId,
                                       transaction_id=request.transactionId,
                                       meter_value=meter_values(request.values))


def _stop_transaction_request(request) -> messages.StopTransactionRequest:
    flattened = [value for data in request.transactionData or () for value in data.values or ()]
    return messages.StopTransactionRequest(
        transaction_id=request.transactionId, id_tag=request.idTag,
        timestamp=utc(request.timestamp) if request.timestamp is not None else None,
        meter_stop=request.meterStop, transaction_data=meter_values(flattened))


def _status_notification_request(request) -> messages.StatusNotificationRequest:
    core = to_core(request, messages.StatusNotificationRequest)
    core.status = STATUSES.get(core.status, core.status)
    core.error_code = ERROR_CODES.get(core.error_code, core.error_code)
    return core


_BY_HAND = {
    "MeterValues": _meter_values_request,
    "StopTransaction": _stop_transaction_request,
    "StatusNotification": _status_notification_request,
}


def request_to_core(operation: Operation, request):
    request_type, _ = messages.ACTIONS[operation.name]
    if request is None:  # Heartbeat and other empty requests
        return request_type()
    by_hand = _BY_HAND.get(operation.name)
    if by_hand is not None:
        return by_hand(request)
    return to_core(request, request_type)


def response_from_core(operation: Operation, response):
    if operation.name == "BootNotification":
        return cs15.BootNotificationResponse(
            status=REGISTRATION_STATUSES.get(response.status, response.status),
            currentTime=utc(response.current_time).replace(microsecond=0),
            heartbeatInterval=response.interval)
    return from_core(response, operation.response)
