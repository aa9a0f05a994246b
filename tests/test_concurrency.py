"""Resent messages under concurrency: one transaction id, one stop, on SQLite and PostgreSQL."""
from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
from sqlalchemy import func, select

from soap_messages import SERVICE_PATH, envelope, text_of, body_of
from soapgw.store.models import FailedStop, MeterValueRow, Transaction

THREADS = 20
START = ("<cs:startTransactionRequest><cs:connectorId>1</cs:connectorId><cs:idTag>TAG1"
         "</cs:idTag><cs:timestamp>2026-03-01T10:00:00Z</cs:timestamp><cs:meterStart>100"
         "</cs:meterStart></cs:startTransactionRequest>")


def stop(tx):
    return (f"<cs:stopTransactionRequest><cs:transactionId>{tx}</cs:transactionId>"
            "<cs:timestamp>2026-03-01T11:00:00Z</cs:timestamp><cs:meterStop>900</cs:meterStop>"
            "<cs:transactionData><cs:timestamp>2026-03-01T11:00:00Z</cs:timestamp>"
            "<cs:sampledValue><cs:value>900</cs:value></cs:sampledValue></cs:transactionData>"
            "</cs:stopTransactionRequest>")


def burst(url: str, data: bytes) -> list[requests.Response]:
    """Send the same message from THREADS threads at once."""
    def send(_):
        return requests.post(url + SERVICE_PATH, data=data, timeout=60,
                             headers={"Content-Type": "application/soap+xml"})
    with ThreadPoolExecutor(THREADS) as pool:
        return list(pool.map(send, range(THREADS)))


def check_one_start_and_one_stop(url: str, count):
    replies = burst(url, envelope("CB1", START))
    assert [r.status_code for r in replies] == [200] * THREADS, replies[0].text
    ids = {text_of(body_of(r.content), "transactionId") for r in replies}
    assert len(ids) == 1
    assert count(Transaction) == 1
    (tx,) = ids
    replies = burst(url, envelope("CB1", stop(tx)))
    assert [r.status_code for r in replies] == [200] * THREADS
    assert count(FailedStop) == 0  # duplicates of the applied stop are not failures
    assert count(MeterValueRow) == 1  # transactionData stored once


def counter(sessions):
    def count(model):
        with sessions() as db:
            return db.scalar(select(func.count()).select_from(model))
    return count


@pytest.mark.slow
def test_concurrent_resends_in_one_process(live_url, seed, gateway):
    seed.station("CB1")
    seed.tag("TAG1")
    check_one_start_and_one_stop(live_url, counter(gateway.sessions))
    with gateway.sessions() as db:
        (row,) = db.scalars(select(Transaction)).all()
    assert (row.meter_start, row.meter_stop) == (100, 900)


@pytest.mark.slow
def test_concurrent_resends_across_gunicorn_workers(database_url, served_gateway, tmp_path):
    from conftest import command_env, soapgw_command
    env = command_env(database_url)
    assert soapgw_command("chargebox", "add", "CB1", env=env).returncode == 0
    assert soapgw_command("tag", "add", "TAG1", env=env).returncode == 0
    url = served_gateway(database_url, workers=2)
    from soapgw.store.database import make_engine, make_session_factory
    engine = make_engine(database_url)
    try:
        check_one_start_and_one_stop(url, counter(make_session_factory(engine)))
    finally:
        engine.dispose()
