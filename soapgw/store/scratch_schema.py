"""A throw-away PostgreSQL schema: the test suite and the benchmarks each run in one of their
own, so they never touch what else lives in the database they are pointed at."""
from __future__ import annotations

import contextlib
import uuid
from collections.abc import Iterator

from sqlalchemy import text
from sqlalchemy.engine import make_url

from soapgw.store.database import make_engine


@contextlib.contextmanager
def scratch_schema(base_url: str, prefix: str) -> Iterator[str]:
    """Create a schema named ``prefix_<random>`` in ``base_url``'s database; yield a URL whose
    connections use it (search_path) and carry its name as application_name; drop it with
    everything in it afterwards.

    Before the drop, sessions still open on the URL are ended: a server process outliving its
    test (or a leaked pool) would otherwise hold locks that deadlock DROP SCHEMA."""
    schema = f"{prefix}_{uuid.uuid4().hex[:12]}"
    admin = make_engine(base_url)
    try:
        with admin.begin() as connection:
            connection.execute(text(f'CREATE SCHEMA "{schema}"'))
        try:
            url = make_url(base_url).update_query_dict(
                {"options": f"-csearch_path={schema}", "application_name": schema})
            yield url.render_as_string(hide_password=False)
        finally:
            with admin.begin() as connection:
                # an error after 30 s rather than a run that hangs on a lock nobody releases
                connection.execute(text("SET LOCAL lock_timeout = '30s'"))
                connection.execute(text(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                    " WHERE application_name = :schema AND pid <> pg_backend_pid()"),
                    {"schema": schema})
                connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    finally:
        admin.dispose()
