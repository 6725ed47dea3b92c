"""The latency middleware on a small Litestar app: route templates, error classes, responses of exception handlers."""

from __future__ import annotations

from litestar import Litestar, get
from litestar.exceptions import NotFoundException
from litestar.middleware import DefineMiddleware
from litestar.params import FromPath, FromQuery
from litestar.testing import TestClient

from domain.errors import InvalidValue
from entrypoints.http.errors import EXCEPTION_HANDLERS
from entrypoints.http.latency import LatencyMiddleware, LatencyRecorder


@get("/items/{item_id:int}", sync_to_thread=False)
def item(item_id: FromPath[int]) -> dict[str, int]:
    if item_id == 0:
        raise NotFoundException("no item 0")
    return {"id": item_id}


@get("/rule", sync_to_thread=False)
def rule(size: FromQuery[int]) -> dict[str, int]:
    if size < 0:
        raise InvalidValue("size", size, "not negative")
    return {"size": size}


@get("/boom", sync_to_thread=False)
def boom() -> None:
    raise RuntimeError("unexpected")


def app(recorder: LatencyRecorder) -> Litestar:
    return Litestar(
        route_handlers=[item, rule, boom],
        middleware=[DefineMiddleware(LatencyMiddleware, recorder=recorder)],
        exception_handlers=EXCEPTION_HANDLERS,  # type: ignore[arg-type]
    )


def by_route(recorder: LatencyRecorder) -> dict[str, tuple[int, int, int]]:
    return {
        f"{r.method} {r.route}": (r.since_start.count, r.since_start.errors_4xx, r.since_start.errors_5xx)
        for r in recorder.snapshot()
    }


def test_raw_urls_collapse_into_their_route_template() -> None:
    recorder = LatencyRecorder()
    with TestClient(app(recorder)) as client:
        for path in ("/items/1", "/items/2", "/items/3?x=y"):
            assert client.get(path).status_code == 200
    assert by_route(recorder) == {"GET /items/{item_id}": (3, 0, 0)}


def test_responses_made_by_exception_handlers_are_measured_with_their_status() -> None:
    recorder = LatencyRecorder()
    with TestClient(app(recorder)) as client:
        assert client.get("/items/0").status_code == 404
        assert client.get("/rule?size=-1").status_code == 400
        assert client.get("/rule?size=nope").status_code == 400
        assert client.get("/rule?size=5").status_code == 200
        assert client.get("/boom").status_code == 500
    assert by_route(recorder) == {
        "GET /items/{item_id}": (1, 1, 0),
        "GET /rule": (3, 2, 0),
        "GET /boom": (1, 0, 1),
    }
    [boom_route] = [r for r in recorder.snapshot() if r.route == "/boom"]
    assert boom_route.since_start.max_ms is not None and boom_route.since_start.max_ms > 0
