"""PostgreSQL adapters: schema, engine, repositories, unit of work, embedded server."""
