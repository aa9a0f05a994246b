"""The throw-away PostgreSQL schema of the tests and benchmarks is dropped even when a session
that used it is still open and holding locks (a server process outliving its test)."""
import pytest
from sqlalchemy import inspect, text
from sqlalchemy.exc import DBAPIError

from soapgw.store.database import make_engine
from soapgw.store.scratch_schema import scratch_schema

pytestmark = pytest.mark.postgres


def _schemas(admin_url: str) -> set[str]:
    engine = make_engine(admin_url)
    try:
        return set(inspect(engine).get_schema_names())
    finally:
        engine.dispose()


def test_a_session_left_open_in_a_transaction_does_not_stop_the_drop(postgres_admin_url):
    with scratch_schema(postgres_admin_url, "soapgw_test_leftover") as url:
        engine = make_engine(url, pool_pre_ping=False)
        leftover = engine.connect()
        leftover.execute(text("CREATE TABLE held (id integer)"))
        leftover.commit()
        leftover.execute(text("INSERT INTO held VALUES (1)"))  # open transaction: a lock held
        schema, name = leftover.execute(text(
            "SELECT current_schema(), current_setting('application_name')")).one()
        assert schema.startswith("soapgw_test_leftover_") and name == schema
    try:
        assert schema not in _schemas(postgres_admin_url)
        with pytest.raises(DBAPIError):
            leftover.execute(text("SELECT 1"))  # its session was ended
    finally:
        engine.dispose()
