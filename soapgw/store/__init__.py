"""SQL storage: the schema, the engine, migrations and the message journal."""
