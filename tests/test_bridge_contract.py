"""Lines of the bridge's contract the session tests do not reach: a central system that does
not select ocpp1.6, wss:// verified with SOAPGW_UPSTREAM_CA, a central system later than
SOAPGW_UPSTREAM_ANSWER_TIMEOUT, and a replayed start it refuses (StopTransactionOnInvalidId).
Real ``soapgw serve`` and a central system we did not write (tests/upstream_csms.py)."""
from __future__ import annotations

import json
import ssl
import time

import pytest
from sqlalchemy import select

from soapgw.store.database import make_engine, make_session_factory
from soapgw.store.models import ChargeBox, ConfigurationKey, Task

from pki_support import make_pki, needs_openssl
from soap_messages import BOOT, text_of
from test_bridge import START, bridged, link, send, wait  # noqa: F401  (fixture)
from upstream_csms import Csms

pytestmark = pytest.mark.slow

AUTHORIZE = "<cs:authorizeRequest><cs:idTag>{}</cs:idTag></cs:authorizeRequest>"


@pytest.fixture
def central_systems():
    made = []

    def make(**options) -> Csms:
        made.append(Csms(**options).start())
        return made[-1]
    yield make
    for csms in made:
        csms.close()


def test_a_central_system_that_does_not_select_ocpp16_is_an_error_shown(central_systems,
                                                                         bridged):
    csms = central_systems(subprotocols=())
    _, env = bridged(csms.url)
    assert wait(lambda: "did not select the subprotocol ocpp1.6"
                in (link(env, "CP-1")["last_error"] or ""))
    row = link(env, "CP-1")
    assert row["connected"] is False and "selected none" in row["last_error"]
    assert csms.connections and not csms.received  # the socket opened; nothing was sent


@pytest.fixture
def tls_central_system(central_systems, tmp_path):
    """A wss:// central system whose certificate a test CA signed; (it, the CA's file)."""
    pki = make_pki(tmp_path)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(pki / "server.pem", pki / "server.key")
    csms = central_systems(ssl=context)
    assert csms.url.startswith("wss://127.0.0.1:")
    return csms, pki / "ca.pem"


@needs_openssl
def test_wss_with_the_central_systems_ca(tls_central_system, bridged):
    trusted, ca = tls_central_system
    base, env = bridged(trusted.url, SOAPGW_UPSTREAM_CA=str(ca))
    assert wait(lambda: link(env, "CP-1")["connected"])
    send(base, "CP-1", "Authorize", AUTHORIZE.format("TAG1"))
    assert trusted.wait_for(lambda: trusted.messages("CP-1", "Authorize"))


@needs_openssl
def test_wss_without_the_ca_is_refused_and_shown(tls_central_system, bridged):
    untrusted, _ca = tls_central_system
    _, env = bridged(untrusted.url)  # no SOAPGW_UPSTREAM_CA: the system's roots only
    assert wait(lambda: "CERTIFICATE_VERIFY_FAILED" in (link(env, "CP-1")["last_error"] or ""))
    assert link(env, "CP-1")["connected"] is False and not untrusted.connections


def test_a_late_central_system_leaves_the_decision_to_the_local_rules(central_systems,
                                                                      bridged):
    """SOAPGW_UPSTREAM_ANSWER_TIMEOUT=1: an Authorize the central system answers after 3 s
    is decided by soapgw's own tag table (an unknown tag: Invalid) within the timeout."""
    csms = central_systems()
    csms.answer_delay = 3.0
    base, env = bridged(csms.url, SOAPGW_UPSTREAM_ANSWER_TIMEOUT="1")
    assert wait(lambda: link(env, "CP-1")["connected"])
    assert text_of(send(base, "CP-1", "BootNotification", BOOT), "status") == "Accepted"
    started = time.monotonic()
    answer = send(base, "CP-1", "Authorize", AUTHORIZE.format("NOT-LOCAL"))
    took = time.monotonic() - started
    assert text_of(answer, "status") == "Invalid"  # the central system would say Accepted
    assert 0.9 <= took < 2.9, took
    assert csms.wait_for(lambda: csms.messages("CP-1", "Authorize"))  # it was asked


def test_a_replayed_start_the_central_system_refuses_is_shown_and_stopped(central_systems,
                                                                          bridged):
    """Started while the central system was down; on replay it answers Blocked: the error is
    shown for the station and, as its StopTransactionOnInvalidId is true, the gateway asks
    the station to stop the transaction (a task with origin upstream)."""
    csms = central_systems()
    csms.refused_tags = {"TAG1"}
    base, env = bridged(csms.url)
    assert wait(lambda: link(env, "CP-1")["connected"])
    csms.stop()
    assert wait(lambda: not link(env, "CP-1")["connected"], 10)
    sessions = make_session_factory(make_engine(env["SOAPGW_DATABASE_URL"]))
    with sessions.begin() as db:
        station = db.scalar(select(ChargeBox.id).where(ChargeBox.charge_box_id == "CP-1"))
        db.add(ConfigurationKey(charge_box_pk=station, key="StopTransactionOnInvalidId",
                                value="true", readonly=False))
    send(base, "CP-1", "BootNotification", BOOT)
    local = int(text_of(send(base, "CP-1", "StartTransaction", START), "transactionId"))
    csms.start()
    assert csms.wait_for(lambda: csms.messages("CP-1", "StartTransaction"), 60)
    assert wait(lambda: f"replayed start of transaction {local} with Blocked"
                in (link(env, "CP-1")["last_error"] or ""), 30)

    def stop_task():
        with sessions() as db:
            return db.execute(select(Task.operation, Task.payload, Task.origin)
                              .where(Task.operation == "RemoteStopTransaction")).first()
    assert wait(lambda: stop_task() is not None, 30)
    task = stop_task()
    assert task.origin == "upstream" and json.loads(task.payload) == {"transactionId": local}
