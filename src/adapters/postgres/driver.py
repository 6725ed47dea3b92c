"""The psycopg connection under a session, for the few hot reads where SQLAlchemy's result layer costs more
than PostgreSQL takes to answer."""

from __future__ import annotations

from typing import Any

from psycopg import AsyncConnection
from sqlalchemy.ext.asyncio import AsyncConnection as PooledConnection
from sqlalchemy.ext.asyncio import AsyncSession


async def driver_connection(session: AsyncSession) -> AsyncConnection[Any]:
    """The session's connection (in its transaction) as psycopg sees it; statements run on it take part."""
    return await driver_of(await session.connection())


async def driver_of(connection: PooledConnection) -> AsyncConnection[Any]:
    """A pooled connection as psycopg sees it."""
    raw = (await connection.get_raw_connection()).driver_connection
    assert isinstance(raw, AsyncConnection)
    return raw
