"""The throw-away PostgreSQL schema of the tests and benchmarks is dropped even when a session
that used it is still open and holding locks (a server process outliving its test)."""
import pytest
from sqlalchemy import inspect, text

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
    leftover = None
    with scratch_schema(postgres_admin_url, "soapgw_test_leftover") as url:
        schema = next(s for s in _schemas(postgres_admin_url) if s.startswith("soapgw_test_leftover_"))
        leftover = make_engine(url, pool_pre_ping=False).connect()
        leftover.execute(text("CREATE TABLE held (id integer)"))
        leftover.commit()
        leftover.execute(text("INSERT INTO held VALUES (1)"))  # open transaction: a lock held
        name = leftover.execute(text("SELECT current_setting('application_name')")).scalar_one()
        assert name == schema
    assert schema not in _schemas(postgres_admin_url)
    with pytest.raises(Exception):
        leftover.execute(text("SELECT 1"))  # its session was ended
