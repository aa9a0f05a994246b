"""TLS to stations: our CA, a client certificate (SOAPGW_TLS_CA, SOAPGW_TLS_CLIENT_CERT/KEY),
against a real HTTPS station on 127.0.0.1 that requires client certificates."""
from __future__ import annotations

import ssl
import threading
from contextlib import contextmanager
from pathlib import Path

import pytest

from soapgw.config import Settings
from soapgw.core.commands.runner import Target
from soapgw.soap_out.client import SoapSender

from cp_station import ChargePointStation
from outbound_support import _BusyServer, _Quiet
from pki_support import make_pki, needs_openssl

pytestmark = needs_openssl


@pytest.fixture(scope="module")
def pki(tmp_path_factory) -> Path:
    return make_pki(tmp_path_factory.mktemp("pki"))


@contextmanager
def https_station(pki: Path):
    from wsgiref.simple_server import make_server
    station = ChargePointStation("1.6")
    server = make_server("127.0.0.1", 0, station, server_class=_BusyServer, handler_class=_Quiet)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(pki / "server.pem", pki / "server.key")
    context.verify_mode = ssl.CERT_REQUIRED
    context.load_verify_locations(pki / "ca.pem")
    server.socket = context.wrap_socket(server.socket, server_side=True)
    server.handle_error = lambda request, address: None  # refused handshakes are expected
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield station, f"https://127.0.0.1:{server.server_port}/Ocpp/ChargePointService/"
    finally:
        server.shutdown()
        server.server_close()


def sender_from_env(tmp_path, **env) -> SoapSender:
    return SoapSender(Settings.from_env({"SOAPGW_INSTANCE_PATH": str(tmp_path),
                                         "SOAPGW_OPERATION_TIMEOUT": "5", **env}))


def test_client_certificate_and_private_ca(pki, tmp_path):
    sender = sender_from_env(tmp_path, SOAPGW_TLS_CA=str(pki / "ca.pem"),
                             SOAPGW_TLS_CLIENT_CERT=str(pki / "client.pem"),
                             SOAPGW_TLS_CLIENT_KEY=str(pki / "client.key"))
    with https_station(pki) as (station, address):
        reply = sender.send(Target("CB-TLS", "1.6", address), "Reset", {"type": "Hard"})
    assert reply.error is None, reply.error
    assert reply.response == {"status": "Accepted"}
    assert station.received[0].identity == "CB-TLS"


def test_without_a_client_certificate_the_station_refuses(pki, tmp_path):
    sender = sender_from_env(tmp_path, SOAPGW_TLS_CA=str(pki / "ca.pem"))
    with https_station(pki) as (station, address):
        reply = sender.send(Target("CB-TLS", "1.6", address), "Reset", {"type": "Hard"})
    assert reply.error.kind.value == "tls_error", reply.error
    assert str(reply.error).startswith(f"TLS with {address} failed")
    assert station.received == []


def test_an_unknown_ca_is_refused(pki, tmp_path):
    sender = sender_from_env(tmp_path, SOAPGW_TLS_CLIENT_CERT=str(pki / "client.pem"),
                             SOAPGW_TLS_CLIENT_KEY=str(pki / "client.key"))
    with https_station(pki) as (station, address):
        reply = sender.send(Target("CB-TLS", "1.6", address), "Reset", {"type": "Hard"})
    assert reply.error.kind.value == "tls_error"
    assert "certificate verify failed" in str(reply.error)
    assert station.received == []
