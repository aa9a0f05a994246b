"""``soapgw call ... RemoteStartTransaction`` prints the transaction the station started (the
documented extra field ``transactionId``), the OCPP payload otherwise unchanged."""
from __future__ import annotations

import json
import threading

import pytest

from conftest import command_env, make_settings, serve_wsgi, soapgw_command
from outbound_support import register_station, station_server
from soap_messages import envelope, post
from soapgw.app import Gateway, create_app
from soapgw.soap.schema import cp16
from soapgw.store.migrate import upgrade
from soapgw.store.models import IdTag


@pytest.fixture
def served(sqlite_url, tmp_path):
    """The gateway's database, served on 127.0.0.1 (where the test station reports to)."""
    gateway = Gateway.from_settings(make_settings(sqlite_url, tmp_path))
    upgrade(gateway.engine)
    url, server = serve_wsgi(create_app(gateway=gateway))
    yield gateway, url
    server.shutdown()
    server.server_close()
    gateway.engine.dispose()


def start_transaction(url: str, identity: str, id_tag: str) -> None:
    post(url, envelope(identity, (
        "<cs:startTransactionRequest><cs:connectorId>1</cs:connectorId>"
        f"<cs:idTag>{id_tag}</cs:idTag><cs:timestamp>2026-03-01T10:00:00Z</cs:timestamp>"
        "<cs:meterStart>0</cs:meterStart></cs:startTransactionRequest>"),
        from_address=None))  # keeps the station's callback address as registered


@pytest.mark.smoke
def test_remote_start_prints_the_transaction_id(served, sqlite_url):
    gateway, url = served
    with gateway.sessions.begin() as db:
        db.add(IdTag(id_tag="TAG-RS"))
    env = command_env(sqlite_url, SOAPGW_OPERATION_TIMEOUT="5")
    with station_server() as (station, address):
        register_station(gateway.sessions, "CB-RS", "1.6", address)

        def accept_and_start(request):  # like a station: accepts, then starts charging
            threading.Timer(0.2, start_transaction, (url, "CB-RS", request.idTag)).start()
            return cp16.RemoteStartTransactionResponse(status="Accepted")
        station.answers["RemoteStartTransaction"] = accept_and_start
        started = soapgw_command("call", "CB-RS", "RemoteStartTransaction",
                                 '{"idTag": "TAG-RS", "connectorId": 1}', env=env)
        station.answers["RemoteStartTransaction"] = cp16.RemoteStartTransactionResponse(
            status="Rejected")
        rejected = soapgw_command("call", "CB-RS", "RemoteStartTransaction",
                                  '{"idTag": "TAG-RS"}', env=env)
    assert started.returncode == 0, started.stderr
    answer = json.loads(started.stdout)
    assert answer["status"] == "Accepted" and isinstance(answer["transactionId"], int)
    assert set(answer) == {"status", "transactionId"}
    shown = soapgw_command("tasks", "show", "1", "--json", env=env)
    assert json.loads(shown.stdout)["results"][0]["transaction_id"] == answer["transactionId"]
    # rejected: the station's payload only
    assert rejected.returncode == 0, rejected.stderr
    assert json.loads(rejected.stdout) == {"status": "Rejected"}


def test_remote_start_without_a_start_prints_null(served, sqlite_url):
    gateway, _url = served
    env = command_env(sqlite_url, SOAPGW_OPERATION_TIMEOUT="0.5")
    with station_server() as (_station, address):
        register_station(gateway.sessions, "CB-RS", "1.6", address)
        done = soapgw_command("call", "CB-RS", "RemoteStartTransaction", '{"idTag": "T"}',
                              env=env)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == {"status": "Accepted", "transactionId": None}
