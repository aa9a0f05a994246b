"""Who may speak as a station: source networks, HTTP Basic passwords, client certificates from a
trusted TLS proxy, callback pinning, a local proxy that is not trusted. End to end over HTTP on
127.0.0.1; the impostor connects from a second loopback address, 127.0.0.2."""
from __future__ import annotations

import ipaddress
import logging
import uuid

import pytest
import requests
from requests.adapters import HTTPAdapter
from sqlalchemy import select

from conftest import Seed, make_settings, serve_wsgi
from soapgw.app import Gateway, create_app
from soapgw.core.passwords import hash_password
from soapgw.core.station_access import PasswordVerifier
from soapgw.core.station_auth import (Presented, StationPolicy, certificate_matches,
                                      judge_station, read_networks)
from soapgw.store.migrate import upgrade
from soapgw.store.models import (ChargeBox, ConnectorStatus, EndpointChange, Event,
                                 JournalEntry, StationQuirk, Transaction)

from soap_messages import BOOT, SERVICE_PATH, envelope, fault_subcode, text_of

PASSWORD = "s3cret-station-key"
EVIL_BOOT = BOOT.replace("Acme", "Evil").replace("1.2.3", "6.6.6")
STATUS_FAULTED = ("<cs:statusNotificationRequest><cs:connectorId>1</cs:connectorId>"
                  "<cs:status>Faulted</cs:status><cs:errorCode>GroundFailure</cs:errorCode>"
                  "</cs:statusNotificationRequest>")
START_BIG = ("<cs:startTransactionRequest><cs:connectorId>1</cs:connectorId>"
             "<cs:idTag>TAG-A</cs:idTag><cs:timestamp>2026-01-01T10:00:00Z</cs:timestamp>"
             "<cs:meterStart>0</cs:meterStart></cs:startTransactionRequest>")
HEARTBEAT = "<cs:heartbeatRequest/>"


def net(*cidrs):
    return tuple(ipaddress.ip_network(c) for c in cidrs)


# --- the pure decision ----------------------------------------------------------------------
def verify(password_hash, password):
    return password_hash == f"hash-of-{password}"


@pytest.mark.parametrize("policy, presented, allowed, kind", [
    (StationPolicy(), Presented("192.0.2.1"), True, ""),
    (StationPolicy(mode="off", networks=net("10.0.0.0/8"), password_hash="hash-of-x"),
     Presented("192.0.2.1"), True, ""),
    (StationPolicy(networks=net("10.0.0.0/8")), Presented("10.1.2.3"), True, ""),
    (StationPolicy(networks=net("10.0.0.0/8")), Presented("192.0.2.1"), False, "network"),
    (StationPolicy(networks=net("10.0.0.0/8")), Presented(None), False, "network"),
    (StationPolicy(networks=net("10.0.0.0/8"), password_hash="hash-of-x"),
     Presented("192.0.2.1", "CP", "x"), False, "network"),  # the right password, wrong place
    (StationPolicy(password_hash="hash-of-x"), Presented("192.0.2.1"), False, "password"),
    (StationPolicy(password_hash="hash-of-x"), Presented("192.0.2.1", "CP", "y"), False,
     "password"),
    (StationPolicy(password_hash="hash-of-x"), Presented("192.0.2.1", "CP2", "x"), False,
     "password"),
    (StationPolicy(password_hash="hash-of-x"), Presented("192.0.2.1", "CP", "x"), True, ""),
    (StationPolicy(password_hash="hash-of-x"),
     Presented("192.0.2.1", malformed_authorization="not Basic"), False, "password"),
    (StationPolicy(mode="required"), Presented("192.0.2.1", "CP", "x"), False, "required"),
    (StationPolicy(mode="required", certificate="CN=CP"), Presented("192.0.2.1",
                                                                   certificate="CN=CP"),
     True, ""),
    (StationPolicy(certificate="CN=CP"), Presented("192.0.2.1"), False, "certificate"),
    (StationPolicy(certificate="CN=CP"), Presented("192.0.2.1", certificate_untrusted=True),
     False, "certificate"),
    (StationPolicy(certificate="CN=CP"), Presented("192.0.2.1", certificate="CN=CP2"), False,
     "certificate"),
])
def test_judge_station(policy, presented, allowed, kind):
    verdict = judge_station("CP", policy, presented, verify)
    assert (verdict.allowed, verdict.kind) == (allowed, kind), verdict.reason
    assert verdict.http_status == {"": 200, "password": 401}.get(kind, 403)


def test_certificate_values_match_as_proxies_print_them():
    fingerprint = "AB:CD:" + "01" * 18
    assert certificate_matches(fingerprint, fingerprint.replace(":", "").lower())
    assert certificate_matches("sha256:" + "ab" * 32, "AB" * 32)
    assert certificate_matches("CN=CP-1, O=Acme GmbH", "CN=CP-1,O=Acme GmbH")
    assert not certificate_matches("CN=CP-1,O=Acme", "CN=CP-10,O=Acme")


def test_read_networks_names_a_bad_value():
    assert read_networks(["10.8.0.0/16", " 192.0.2.7 ", "", "10.8.0.0/16"]) == \
        net("10.8.0.0/16", "192.0.2.7/32")
    with pytest.raises(ValueError, match="'10.8.0.300/16' is not an IP address or network"):
        read_networks(["10.8.0.300/16"])


def test_password_checks_are_cached_and_guessing_is_cut_short():
    calls = []

    def check(password_hash, password):
        calls.append(password)
        return password == "right"

    verifier = PasswordVerifier(check, max_failures=3, window=60)
    assert all(verifier("h1", "right") for _ in range(100))
    assert calls == ["right"]  # scrypt once, not per message
    assert not any(verifier("h1", f"guess-{i}") for i in range(50))
    assert len(calls) == 1 + 3  # past 3 failures a minute, guesses cost no hashing
    assert verifier("h1", "right")  # the station's own password still passes
    assert verifier("h2-new-hash", "right") and calls[-1] == "right"  # a new hash: checked


# --- end to end ---------------------------------------------------------------------------------
class _FromAddress(HTTPAdapter):
    """Connects from a chosen local address (127.0.0.2: 'another machine')."""

    def __init__(self, source: str):
        self.source = source
        super().__init__()

    def init_poolmanager(self, *args, **kwargs):
        kwargs["source_address"] = (self.source, 0)
        super().init_poolmanager(*args, **kwargs)


def client(source: str = "127.0.0.1") -> requests.Session:
    session = requests.Session()
    session.trust_env = False
    session.mount("http://", _FromAddress(source))
    return session


class Gw:
    def __init__(self, gateway: Gateway, url: str):
        self.gateway, self.url, self.seed = gateway, url, Seed(gateway)

    def post(self, identity, body, source="127.0.0.1", auth=None, headers=None,
             from_address="http://127.0.0.1:9/ocpp", url=None):
        return client(source).post(
            (url or self.url) + SERVICE_PATH, auth=auth, timeout=30,
            data=envelope(identity, body, from_address=from_address),
            headers={"Content-Type": "application/soap+xml; charset=utf-8", **(headers or {})})

    def station(self, identity) -> ChargeBox:
        with self.gateway.sessions() as db:
            return db.scalars(select(ChargeBox).where(ChargeBox.charge_box_id == identity)).one()

    def register(self, identity, **fields):
        self.seed.station(identity, **fields)

    def quirks(self, identity) -> dict:
        station = self.station(identity)
        return {q.code: q.detail for q in self.seed.scalars(
            select(StationQuirk).where(StationQuirk.charge_box_pk == station.id))}


@pytest.fixture
def start(database_url, tmp_path):
    servers = []

    def start_with(**overrides) -> Gw:
        gateway = Gateway.from_settings(make_settings(database_url, tmp_path / uuid.uuid4().hex,
                                                      **overrides))
        upgrade(gateway.engine)
        url, server = serve_wsgi(create_app(gateway=gateway))
        servers.append((server, gateway))
        return Gw(gateway, url)

    yield start_with
    for server, gateway in servers:
        server.shutdown()
        server.server_close()
        gateway.engine.dispose()


def refused(response, status: int) -> None:
    assert response.status_code == status, response.content
    assert fault_subcode(response.content) == "SecurityError", response.content


def test_impersonation_from_another_address_is_refused_when_bound(start):
    gw = start()
    gw.register("CP-A", auth_networks="127.0.0.1/32")
    gw.seed.tag("TAG-A")
    assert gw.post("CP-A", BOOT).status_code == 200
    before = gw.station("CP-A")
    for body in (EVIL_BOOT, STATUS_FAULTED, START_BIG, HEARTBEAT):
        refused(gw.post("CP-A", body, source="127.0.0.2",
                        from_address="http://127.0.0.2:9999/evil"), 403)
    after = gw.station("CP-A")
    assert (after.vendor, after.firmware_version) == ("Acme", "1.2.3")
    assert after.last_message_at == before.last_message_at  # a refused message changes nothing
    assert after.endpoint_address == "http://127.0.0.1:9/ocpp"
    assert gw.seed.scalars(select(ConnectorStatus)) == []
    assert gw.seed.scalars(select(Transaction)) == []
    assert after.auth_refusals == 4
    assert "127.0.0.2" in after.auth_refusal and after.auth_refusal.startswith("network:")
    faults = gw.seed.scalars(select(JournalEntry.http_status).where(
        JournalEntry.action == "Fault:SecurityError"))
    assert faults == [403] * 4
    refusals = gw.seed.scalars(select(Event).where(Event.type == "station.auth_refused"))
    assert [e.charge_box_id for e in refusals] == ["CP-A"] * 4
    assert '"kind":"network"' in refusals[0].payload and "127.0.0.2" in refusals[0].payload
    assert gw.seed.scalars(select(Event).where(Event.type == "station.booted",
                                               Event.charge_box_id == "CP-A")).__len__() == 1
    assert gw.post("CP-A", HEARTBEAT).status_code == 200  # the station itself still speaks


def test_the_default_networks_bind_stations_without_their_own(start):
    gw = start(station_networks=net("127.0.0.2/32"))
    gw.register("CP-D")
    gw.register("CP-OWN", auth_networks="127.0.0.1/32")
    refused(gw.post("CP-D", HEARTBEAT), 403)
    assert gw.post("CP-D", HEARTBEAT, source="127.0.0.2").status_code == 200
    assert gw.post("CP-OWN", HEARTBEAT).status_code == 200


def test_auto_registration_is_limited_to_the_default_networks(start):
    gw = start(auto_register=True, station_networks=net("127.0.0.2/32"))
    response = gw.post("CP-NEW", BOOT)
    assert response.status_code == 200 and text_of_status(response) == "Rejected"
    assert gw.seed.scalars(select(ChargeBox)) == []
    response = gw.post("CP-NEW", BOOT, source="127.0.0.2")
    assert text_of_status(response) == "Accepted"


def text_of_status(response) -> str:
    from lxml import etree
    return text_of(etree.fromstring(response.content), "status")


def test_wrong_or_missing_password_gets_401_and_no_credentials_reach_the_journal(start):
    gw = start()
    gw.register("CP-P", auth_password_hash=hash_password(PASSWORD))
    gw.seed.tag("TAG-A")
    for auth in (None, ("CP-P", "wrong-password"), ("CP-OTHER", PASSWORD)):
        response = gw.post("CP-P", EVIL_BOOT, auth=auth)
        refused(response, 401)
        assert response.headers["WWW-Authenticate"].startswith('Basic realm="soapgw"')
    refused(gw.post("CP-P", HEARTBEAT, headers={"Authorization": "Bearer abc"}), 401)
    assert gw.station("CP-P").vendor is None
    assert gw.station("CP-P").auth_refusals == 4
    # the right password; the station echoes its URL, credentials included, in wsa:From
    echoed = f"http://CP-P:{PASSWORD}@127.0.0.1:9/ocpp"
    response = gw.post("CP-P", BOOT, auth=("CP-P", PASSWORD), from_address=echoed)
    assert response.status_code == 200 and text_of_status(response) == "Accepted"
    assert gw.post("CP-P", START_BIG, auth=("CP-P", PASSWORD)).status_code == 200
    journal = b"".join(gw.seed.scalars(select(JournalEntry.raw)))
    assert PASSWORD.encode() not in journal and b"wrong-password" not in journal
    assert b"[redacted]" in journal


def test_password_checks_do_not_hash_every_message(start):
    gw = start()
    gw.register("CP-H", auth_password_hash=hash_password(PASSWORD))
    calls = []
    real = gw.gateway.central_system.access.verify._check
    gw.gateway.central_system.access.verify._check = \
        lambda h, p: calls.append(p) or real(h, p)
    for _ in range(20):
        assert gw.post("CP-H", HEARTBEAT, auth=("CP-H", PASSWORD)).status_code == 200
    assert len(calls) == 1


def test_required_mode_refuses_stations_without_credentials_and_off_checks_nothing(start):
    required = start(station_auth="required")
    required.register("CP-R")
    required.register("CP-RP", auth_password_hash=hash_password(PASSWORD))
    refused(required.post("CP-R", HEARTBEAT), 403)
    assert required.post("CP-RP", HEARTBEAT, auth=("CP-RP", PASSWORD)).status_code == 200
    off = start(station_auth="off")  # (the same database)
    off.register("CP-O", auth_password_hash=hash_password(PASSWORD),
                 auth_networks="192.0.2.0/24")
    assert off.post("CP-O", HEARTBEAT).status_code == 200


CERT_HEADER = "X-SSL-Client-S-DN"


def test_client_certificate_from_a_trusted_proxy_only(start):
    # the proxy is 127.0.0.2; stations behind it are at 10.0.0.x
    gw = start(trusted_proxies=net("127.0.0.2/32"), client_cert_header=CERT_HEADER)
    gw.register("CP-C", auth_certificate="CN=CP-C,O=Acme")
    gw.register("CP-F", auth_certificate="SHA1:" + "ab" * 20)
    proxied = {"X-Forwarded-For": "10.0.0.5"}
    ok = gw.post("CP-C", HEARTBEAT, source="127.0.0.2",
                 headers={**proxied, CERT_HEADER: "CN=CP-C, O=Acme"})
    assert ok.status_code == 200
    assert gw.post("CP-F", HEARTBEAT, source="127.0.0.2",
                   headers={**proxied, CERT_HEADER: "AB" * 20}).status_code == 200
    refused(gw.post("CP-C", HEARTBEAT, source="127.0.0.2",
                    headers={**proxied, CERT_HEADER: "CN=CP-X,O=Acme"}), 403)
    refused(gw.post("CP-C", HEARTBEAT, source="127.0.0.2", headers=proxied), 403)
    # anyone else may write the header: it is not believed
    untrusted = gw.post("CP-C", HEARTBEAT, headers={CERT_HEADER: "CN=CP-C,O=Acme"})
    refused(untrusted, 403)
    assert "not a trusted proxy" in gw.station("CP-C").auth_refusal
    assert gw.station("CP-C").last_peer_host == "10.0.0.5"


def test_callback_hijack_by_an_impostor_is_not_possible_when_bound(start):
    gw = start()
    gw.register("CP-B", auth_networks="127.0.0.1/32")
    gw.post("CP-B", BOOT, from_address="http://127.0.0.1:9100/ocpp")
    refused(gw.post("CP-B", HEARTBEAT, source="127.0.0.2",
                    from_address="http://127.0.0.2:9100/ocpp"), 403)
    station = gw.station("CP-B")
    assert (station.endpoint_address, station.endpoint_peer_host) == \
        ("http://127.0.0.1:9100/ocpp", "127.0.0.1")


def test_callback_policy_keep_records_a_move_and_keeps_the_address(start):
    """An unauthenticated station whose callback is kept: an impostor (or the station from a
    new address) is answered, recorded, and does not get the commands."""
    from outbound_support import station_server, task_runner, results
    gw = start()
    gw.register("CP-K", callback_policy="keep")
    with station_server() as (real, real_address), \
            station_server(host="127.0.0.2") as (impostor, impostor_address):
        assert gw.post("CP-K", BOOT, from_address=real_address).status_code == 200
        assert gw.post("CP-K", BOOT, source="127.0.0.2",
                       from_address=impostor_address).status_code == 200
        station = gw.station("CP-K")
        assert station.endpoint_address == real_address
        quirks = gw.quirks("CP-K")
        assert "callback-kept" in quirks and impostor_address in quirks["callback-kept"]
        assert "127.0.0.2" in quirks["address-changed"]
        history = gw.seed.rows(select(EndpointChange.address, EndpointChange.source)
                               .order_by(EndpointChange.id))
        assert history == [(real_address, "wsa:From"), (impostor_address, "kept:wsa:From")]
        with task_runner(gw.gateway) as runner:
            (result,) = results(gw.gateway.sessions,
                                runner.run("Reset", {"type": "Soft"}, ["CP-K"], "test"))
            assert result.state == "failed" and result.error_kind == "endpoint_refused"
            # the station speaks again from its own address: commands reach it
            assert gw.post("CP-K", HEARTBEAT, from_address=real_address).status_code == 200
            (result,) = results(gw.gateway.sessions,
                                runner.run("Reset", {"type": "Soft"}, ["CP-K"], "test"))
        assert result.state == "answered", result.error
        assert len(real.received) == 1 and impostor.received == []


def test_a_station_speaking_from_a_new_address_is_recorded(start):
    gw = start()
    gw.register("CP-M")
    assert gw.post("CP-M", HEARTBEAT, from_address=None).status_code == 200
    assert "address-changed" not in gw.quirks("CP-M")  # the first address is no change
    assert gw.post("CP-M", HEARTBEAT, source="127.0.0.2", from_address=None).status_code == 200
    assert gw.quirks("CP-M")["address-changed"] == \
        "messages now come from 127.0.0.2 (before: 127.0.0.1)"
    assert gw.station("CP-M").last_peer_host == "127.0.0.2"
    (moved,) = gw.seed.scalars(select(Event).where(Event.type == "station.address_changed"))
    assert "127.0.0.2" in moved.payload and "127.0.0.1" in moved.payload


def test_a_local_proxy_that_is_not_trusted_is_refused_loudly(start, caplog):
    gw = start()
    gw.register("CP-L")
    with caplog.at_level(logging.CRITICAL, logger="soapgw.soap_in.credentials"):
        response = gw.post("CP-L", HEARTBEAT, headers={"X-Forwarded-For": "198.51.100.7"})
    assert response.status_code == 500 and fault_subcode(response.content) == "InternalError"
    assert "SOAPGW_TRUSTED_PROXIES" in caplog.text
    assert gw.seed.scalars(select(JournalEntry.fault_code).where(
        JournalEntry.charge_box_id == "CP-L", JournalEntry.direction == "out")) == \
        ["InternalError"]
    assert gw.station("CP-L").last_message_at is None
    trusted = start(trusted_proxies=net("127.0.0.1/32"))
    trusted.register("CP-L2")  # (the same database)
    assert trusted.post("CP-L2", HEARTBEAT,
                        headers={"X-Forwarded-For": "198.51.100.7"}).status_code == 200
    assert trusted.station("CP-L2").last_peer_host == "198.51.100.7"
