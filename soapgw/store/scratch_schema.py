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
    connections use it (search_path); drop it with everything in it afterwards."""
    schema = f"{prefix}_{uuid.uuid4().hex[:12]}"
    admin = make_engine(base_url)
    try:
        with admin.begin() as connection:
            connection.execute(text(f'CREATE SCHEMA "{schema}"'))
        try:
            url = make_url(base_url).update_query_dict({"options": f"-csearch_path={schema}"})
            yield url.render_as_string(hide_password=False)
        finally:
            with admin.begin() as connection:
                connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    finally:
        admin.dispose()
