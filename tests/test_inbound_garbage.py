"""A handled message leaves no reference cycles behind.

Objects in cycles are only freed by Python's cyclic garbage collector, whose passes in a busy
gunicorn worker took 30-60 ms each (the HTTP benchmark's p99). spyne's per-request contexts
and its event manager made about 60 such objects per message until soapgw cut them; this
keeps it that way, for every operation, for faults, and for OCPP 1.5.
"""
from __future__ import annotations

import gc
import io
import re

import pytest

from soap_messages import BOOT, CS15, CS16, SERVICE_PATH, envelope

TAG = "TAG-GC"
METER = ("<cs:meterValue><cs:timestamp>2026-03-01T10:15:00Z</cs:timestamp>"
         "<cs:sampledValue><cs:value>1500</cs:value></cs:sampledValue></cs:meterValue>")
OPERATIONS_16 = {
    "Authorize": f"<cs:authorizeRequest><cs:idTag>{TAG}</cs:idTag></cs:authorizeRequest>",
    "BootNotification": BOOT,
    "DataTransfer": ("<cs:dataTransferRequest><cs:vendorId>Acme</cs:vendorId>"
                     "<cs:messageId>m</cs:messageId><cs:data>d</cs:data>"
                     "</cs:dataTransferRequest>"),
    "DiagnosticsStatusNotification": ("<cs:diagnosticsStatusNotificationRequest>"
                                      "<cs:status>Uploaded</cs:status>"
                                      "</cs:diagnosticsStatusNotificationRequest>"),
    "FirmwareStatusNotification": ("<cs:firmwareStatusNotificationRequest>"
                                   "<cs:status>Installed</cs:status>"
                                   "</cs:firmwareStatusNotificationRequest>"),
    "Heartbeat": "<cs:heartbeatRequest/>",
    "StatusNotification": ("<cs:statusNotificationRequest><cs:connectorId>1</cs:connectorId>"
                           "<cs:status>Available</cs:status><cs:errorCode>NoError</cs:errorCode>"
                           "</cs:statusNotificationRequest>"),
    "StartTransaction": ("<cs:startTransactionRequest><cs:connectorId>1</cs:connectorId>"
                         f"<cs:idTag>{TAG}</cs:idTag><cs:timestamp>2026-03-01T10:00:00Z"
                         "</cs:timestamp><cs:meterStart>1000</cs:meterStart>"
                         "</cs:startTransactionRequest>"),
    "MeterValues": ("<cs:meterValuesRequest><cs:connectorId>1</cs:connectorId>"
                    f"<cs:transactionId>{{tx}}</cs:transactionId>{METER}</cs:meterValuesRequest>"),
    "StopTransaction": ("<cs:stopTransactionRequest><cs:transactionId>{tx}</cs:transactionId>"
                        "<cs:timestamp>2026-03-01T11:00:00Z</cs:timestamp>"
                        "<cs:meterStop>5000</cs:meterStop></cs:stopTransactionRequest>"),
}


def call(app, data: bytes) -> tuple[str, bytes]:
    """The WSGI app called directly: no HTTP server whose own objects would be counted."""
    environ = {"REQUEST_METHOD": "POST", "PATH_INFO": SERVICE_PATH, "QUERY_STRING": "",
               "SERVER_NAME": "127.0.0.1", "SERVER_PORT": "80", "SERVER_PROTOCOL": "HTTP/1.1",
               "REMOTE_ADDR": "127.0.0.1", "CONTENT_LENGTH": str(len(data)),
               "CONTENT_TYPE": "application/soap+xml; charset=utf-8",
               "wsgi.input": io.BytesIO(data), "wsgi.url_scheme": "http",
               "wsgi.errors": io.StringIO(), "wsgi.multithread": False,
               "wsgi.multiprocess": True, "wsgi.run_once": False, "wsgi.version": (1, 0)}
    status = []
    body = b"".join(app(environ, lambda s, h, exc_info=None: status.append(s)))
    return status[0], body


def cyclic_garbage(app, messages: list[bytes]) -> tuple[int, list[str]]:
    """How many objects only the cyclic collector would free after handling ``messages``,
    and the replies' status lines."""
    gc.collect()
    gc.disable()
    gc.set_debug(gc.DEBUG_SAVEALL)
    try:
        statuses = [call(app, data)[0] for data in messages]
        found = gc.collect()
        kinds = sorted({type(o).__qualname__ for o in gc.garbage})
    finally:
        gc.set_debug(0)
        gc.garbage.clear()
        gc.enable()
    assert found == 0, f"{found} objects in reference cycles: {kinds}"
    return found, statuses


@pytest.fixture
def station(seed):
    seed.station("CB-GC")
    seed.tag(TAG, max_active_transactions=0)
    return "CB-GC"


def test_every_ocpp16_operation_leaves_no_cyclic_garbage(app, station):
    _, reply = call(app, envelope(station, OPERATIONS_16["StartTransaction"]))
    tx = re.search(rb"transactionId>(\d+)<", reply).group(1).decode()
    for operation, body in OPERATIONS_16.items():
        message = envelope(station, body.format(tx=tx), action=f"/{operation}")
        call(app, message)  # first call: lazy caches fill (not garbage, not counted)
        _, statuses = cyclic_garbage(app, [envelope(station, body.format(tx=tx),
                                                    action=f"/{operation}")
                                           for _ in range(3)])
        assert statuses == ["200 OK"] * 3, operation


def test_ocpp15_and_faults_leave_no_cyclic_garbage(app, station):
    messages = [
        envelope(station, "<cs:heartbeatRequest/>", ns=CS15),           # OCPP 1.5
        envelope(station, "<cs:authorizeRequest/>"),                     # missing idTag
        envelope(station, "<cs:heartbeatRequest><cs:x>1</cs:x></cs:heartbeatRequest>"),
        envelope("CB-UNKNOWN", "<cs:heartbeatRequest/>"),                # not registered
        envelope(station, "<cs:noSuchRequest/>"),                        # unknown message
        b"<not-xml",
    ]
    for data in messages:
        call(app, data)
    _, statuses = cyclic_garbage(app, messages)
    assert statuses[0] == "200 OK"
    assert all(not status.startswith("500") for status in statuses), statuses
    assert any(status.startswith("400") for status in statuses), statuses
