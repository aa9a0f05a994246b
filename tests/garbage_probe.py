"""Counts the objects a handled message leaves in reference cycles (run by
test_inbound_garbage.py in a fresh interpreter, where no other test's threads allocate).

    python tests/garbage_probe.py DATABASE_URL STATION TAG   ->  JSON on stdout
"""
from __future__ import annotations

import gc
import io
import json
import re
import sys
import tempfile
import threading
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from soap_messages import BOOT, CS15, SERVICE_PATH, envelope  # noqa: E402

METER = ("<cs:meterValue><cs:timestamp>2026-03-01T10:15:00Z</cs:timestamp>"
         "<cs:sampledValue><cs:value>1500</cs:value></cs:sampledValue></cs:meterValue>")


def operations_16(tag: str) -> dict[str, str]:
    """A body for each of the ten OCPP 1.6 requests ({tx}: a started transaction)."""
    return {
        "Authorize": f"<cs:authorizeRequest><cs:idTag>{tag}</cs:idTag></cs:authorizeRequest>",
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
        "StatusNotification": ("<cs:statusNotificationRequest><cs:connectorId>1"
                               "</cs:connectorId><cs:status>Available</cs:status>"
                               "<cs:errorCode>NoError</cs:errorCode>"
                               "</cs:statusNotificationRequest>"),
        "StartTransaction": ("<cs:startTransactionRequest><cs:connectorId>1</cs:connectorId>"
                             f"<cs:idTag>{tag}</cs:idTag><cs:timestamp>2026-03-01T10:00:00Z"
                             "</cs:timestamp><cs:meterStart>1000</cs:meterStart>"
                             "</cs:startTransactionRequest>"),
        "MeterValues": ("<cs:meterValuesRequest><cs:connectorId>1</cs:connectorId>"
                        "<cs:transactionId>{tx}</cs:transactionId>" + METER
                        + "</cs:meterValuesRequest>"),
        "StopTransaction": ("<cs:stopTransactionRequest><cs:transactionId>{tx}"
                            "</cs:transactionId><cs:timestamp>2026-03-01T11:00:00Z"
                            "</cs:timestamp><cs:meterStop>5000</cs:meterStop>"
                            "</cs:stopTransactionRequest>"),
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


def measure(app, messages: list[bytes]) -> dict:
    """Handle ``messages`` once to fill lazy caches, then again with the collector off:
    what a full collection then finds is what the messages left in cycles."""
    alive = [thread.name for thread in threading.enumerate()]
    assert alive == ["MainThread"], f"another thread could add garbage: {alive}"
    for data in messages:
        call(app, data)
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
    return {"garbage": found, "kinds": kinds, "statuses": statuses}


def main(database_url: str, station: str, tag: str) -> dict:
    from soapgw.app import Gateway, create_app
    from soapgw.config import Settings

    settings = Settings(database_url=database_url, instance_path=Path(tempfile.mkdtemp()))
    gateway = Gateway.from_settings(settings)
    # The SOAP endpoint itself, not the dispatcher in front of it: the dispatcher starts the
    # journal-purge thread on the first request, whose ORM work would be counted too.
    app = create_app(gateway=gateway).soap
    bodies = operations_16(tag)
    _, reply = call(app, envelope(station, bodies["StartTransaction"]))
    tx = re.search(rb"transactionId>(\d+)<", reply).group(1).decode()
    results = {operation: measure(app, [envelope(station, body.format(tx=tx),
                                                 action=f"/{operation}") for _ in range(3)])
               for operation, body in bodies.items()}
    results["refused and OCPP 1.5"] = measure(app, [
        envelope(station, "<cs:heartbeatRequest/>", ns=CS15),           # OCPP 1.5
        envelope(station, "<cs:authorizeRequest/>"),                     # missing idTag
        envelope(station, "<cs:heartbeatRequest><cs:x>1</cs:x></cs:heartbeatRequest>"),
        envelope("CB-UNKNOWN", "<cs:heartbeatRequest/>"),                # not registered
        envelope(station, "<cs:noSuchRequest/>"),                        # unknown message
        b"<not-xml",
    ])
    gateway.engine.dispose()
    return results


if __name__ == "__main__":
    print(json.dumps(main(*sys.argv[1:4])))
