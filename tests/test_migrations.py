"""The migrations build exactly the schema the models declare (several engineers add
migrations in parallel; a missing column or index would only show on a real database)."""
from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from soapgw.store.database import make_engine
from soapgw.store.migrate import upgrade
from soapgw.store.models import Base


def _comparable(diff) -> bool:
    """Differences that are real (not a dialect's way of reporting the same type)."""
    kind = diff[0][0] if isinstance(diff, list) else diff[0]
    return kind not in ("modify_type",)


@pytest.mark.smoke
def test_migrated_schema_matches_the_models(database_url):
    engine = make_engine(database_url)
    upgrade(engine)
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": False})
        diffs = [d for d in compare_metadata(context, Base.metadata) if _comparable(d)]
    engine.dispose()
    assert diffs == []
