"""The psycopg connection under a session, for the few hot reads where SQLAlchemy's result layer costs more
than PostgreSQL takes to answer."""

from __future__ import annotations

from typing import Any

from psycopg import AsyncConnection
from sqlalchemy.ext.asyncio import AsyncSession


async def driver_connection(session: AsyncSession) -> AsyncConnection[Any]:
    """The session's connection (in its transaction) as psycopg sees it; statements run on it take part."""
    connection = await session.connection()
    raw = (await connection.get_raw_connection()).driver_connection
    assert isinstance(raw, AsyncConnection)
    return raw
