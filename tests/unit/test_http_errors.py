"""Infrastructure errors answer 503 problem+json with Retry-After, whichever layer raised them."""

from __future__ import annotations

import psycopg
import pytest
from litestar import Litestar, get
from litestar.testing import TestClient
from sqlalchemy.exc import OperationalError

from entrypoints.http.errors import EXCEPTION_HANDLERS


@get("/driver", sync_to_thread=False)
def driver_read() -> None:
    # What a read straight on the psycopg connection raises when the server goes away mid-request.
    raise psycopg.OperationalError("consuming input failed: server closed the connection unexpectedly")


@get("/orm", sync_to_thread=False)
def orm_read() -> None:
    raise OperationalError("SELECT 1", {}, psycopg.OperationalError("connection refused"))


@pytest.mark.parametrize("path", ["/driver", "/orm"])
def test_a_database_gone_mid_request_is_a_503_not_a_500(path: str) -> None:
    app = Litestar(route_handlers=[driver_read, orm_read], exception_handlers=EXCEPTION_HANDLERS)  # type: ignore[arg-type]
    with TestClient(app) as client:
        response = client.get(path)
    assert response.status_code == 503
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.headers["retry-after"]
    assert response.json()["detail"] == "the database is unavailable; retry shortly"
