"""DNS rebinding: the callback guard resolves a station's host and judges the address; the
call must go to that address, not to what a second look-up answers. A local resolver (a stub
of socket.getaddrinfo, which both the guard and the HTTP client use) answers 127.0.0.1 the
first time and 127.0.0.2 afterwards; real HTTP servers listen on both, on the same port."""
from __future__ import annotations

import shutil
import socket
import ssl
import subprocess
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from soapgw.config import Settings
from soapgw.core.commands.runner import Target
from soapgw.soap_out.client import SoapSender
from soapgw.soap_out.pinning import pinned_url

from cp_station import ChargePointStation
from outbound_support import _BusyServer, _Quiet, register_station, results, station_server
from outbound_support import task_runner

NAME = "station.rebind.test"
_real_getaddrinfo = socket.getaddrinfo


class Resolver:
    """Answers for NAME from a list (the last answer repeats); every other name as usual."""

    def __init__(self, *answers: str):
        self.answers, self.asked = list(answers), 0

    def __call__(self, host, port, family=0, type=0, proto=0, flags=0):
        if host != NAME:
            return _real_getaddrinfo(host, port, family, type, proto, flags)
        if not self.answers:
            raise socket.gaierror(socket.EAI_NONAME, "no answer")
        ip = self.answers[min(self.asked, len(self.answers) - 1)]
        self.asked += 1
        return [(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP, "", (ip, port or 0))]


class _Recorder(BaseHTTPRequestHandler):
    hits: list

    def do_POST(self):  # noqa: N802
        self.hits.append((self.headers.get("Host"), self.path))
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.send_response(500)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


def internal_service(port: int):
    """What must never be reached: a 'service' on 127.0.0.2, same port as the station."""
    handler = type("Handler", (_Recorder,), {"hits": []})
    server = ThreadingHTTPServer(("127.0.0.2", port), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, handler.hits


def test_pinned_url_keeps_the_name_for_host_and_tls():
    assert pinned_url("http://cp.example:8080/ocpp?x=1", "192.0.2.7") == \
        ("http://192.0.2.7:8080/ocpp?x=1", "cp.example:8080")
    assert pinned_url("https://u:p@cp.example/ocpp", "2001:db8::7") == \
        ("https://u:p@[2001:db8::7]/ocpp", "cp.example")
    assert pinned_url("http://192.0.2.7:80/", "192.0.2.7") == ("http://192.0.2.7:80/", None)


def test_a_rebinding_resolver_cannot_steer_a_command(gateway, monkeypatch):
    with station_server() as (station, station_address):
        port = urlsplit(station_address).port
        try:
            internal, hits = internal_service(port)
        except OSError:
            pytest.skip(f"127.0.0.2:{port} is taken")
        try:
            # the station's requests come from 127.0.0.1, its host name resolves there: allowed
            address = f"http://{NAME}:{port}/Ocpp/ChargePointService/"
            register_station(gateway.sessions, "CB-REBIND", "1.6", address,
                             peer_host="127.0.0.1")
            resolver = Resolver("127.0.0.1", "127.0.0.2")
            monkeypatch.setattr(socket, "getaddrinfo", resolver)
            with task_runner(gateway) as runner:
                task_id = runner.run("Reset", {"type": "Soft"}, ["CB-REBIND"], "test")
            (result,) = results(gateway.sessions, task_id)
        finally:
            internal.shutdown()
            internal.server_close()
    assert hits == [], "the command went to the address of the second DNS answer"
    assert result.state == "answered", result.error
    assert len(station.received) == 1
    assert resolver.asked == 1  # the guard's look-up only


# --- https: the TLS server name and the certificate check keep the host name ------------------
def _openssl(*args, cwd: Path) -> None:
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True, timeout=60)


@pytest.fixture(scope="module")
def named_pki(tmp_path_factory) -> Path:
    if shutil.which("openssl") is None:
        pytest.skip("openssl is not installed: cannot make test certificates")
    d = tmp_path_factory.mktemp("pki")
    ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
    _openssl("req", "-x509", *ec, "-keyout", "ca.key", "-out", "ca.pem", "-days", "2",
             "-subj", "/CN=soapgw test CA", "-addext", "basicConstraints=critical,CA:TRUE",
             "-addext", "keyUsage=critical,keyCertSign,cRLSign", cwd=d)
    (d / "server.ext").write_text(
        "basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\n"
        "subjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid\n"
        f"extendedKeyUsage=serverAuth\nsubjectAltName=DNS:{NAME}\n")
    _openssl("req", *ec, "-keyout", "server.key", "-out", "server.csr", "-subj", f"/CN={NAME}",
             cwd=d)
    _openssl("x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key",
             "-CAcreateserial", "-out", "server.pem", "-days", "2", "-extfile", "server.ext",
             cwd=d)
    return d


def _https_station(pki: Path, names: list):
    from wsgiref.simple_server import make_server
    station = ChargePointStation("1.6")
    server = make_server("127.0.0.1", 0, station, server_class=_BusyServer, handler_class=_Quiet)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(pki / "server.pem", pki / "server.key")
    context.sni_callback = lambda sock, name, ctx: names.append(name)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    server.handle_error = lambda request, address: None
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return station, server


def test_https_to_the_checked_address_verifies_the_host_name(named_pki, tmp_path, monkeypatch):
    monkeypatch.setattr(socket, "getaddrinfo", Resolver())  # NAME must not be looked up
    sender = SoapSender(Settings.from_env({"SOAPGW_INSTANCE_PATH": str(tmp_path),
                                           "SOAPGW_OPERATION_TIMEOUT": "5",
                                           "SOAPGW_TLS_CA": str(named_pki / "ca.pem")}))
    names: list = []
    station, server = _https_station(named_pki, names)
    try:
        port = server.server_port
        good = sender.send(Target("CB-TLS", "1.6", f"https://{NAME}:{port}/ocpp",
                                  connect_to=("127.0.0.1",)), "Reset", {"type": "Hard"})
        # the same server under a name its certificate does not carry
        other = sender.send(Target("CB-TLS", "1.6", f"https://other.rebind.test:{port}/ocpp",
                                   connect_to=("127.0.0.1",)), "Reset", {"type": "Hard"})
    finally:
        server.shutdown()
        server.server_close()
    assert good.error is None, good.error
    assert good.response == {"status": "Accepted"}
    assert station.received[0].identity == "CB-TLS"
    assert names[0] == NAME  # SNI
    assert other.error is not None and other.error.kind.value == "tls_error", other.error
    assert len(station.received) == 1
