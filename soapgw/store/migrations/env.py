"""Alembic environment: the engine comes from soapgw (config.attributes), never from an .ini."""
from alembic import context

from soapgw.store.models import Base

engine = context.config.attributes["engine"]

with engine.begin() as connection:
    context.configure(connection=connection, target_metadata=Base.metadata,
                      render_as_batch=True,  # SQLite needs table copies for ALTER
                      compare_type=True)
    with context.begin_transaction():
        context.run_migrations()
