"""A query parameter that takes one value, given twice, is a 400 naming it (Litestar would keep one silently)."""

from __future__ import annotations

from typing import Any

from litestar import Litestar, Request
from litestar.exceptions import ValidationException
from litestar.handlers import BaseRouteHandler
from litestar.routes import HTTPRoute


class SingleValuedQuery:
    """A `before_request` hook: it runs before Litestar reads the parameters.

    The single-valued parameters of a route are the query parameters its handler declares with a type
    that is not a list, as Litestar itself reads them; found once per route handler, on its first request.
    """

    def __init__(self) -> None:
        self._names: dict[BaseRouteHandler, frozenset[str]] = {}

    async def __call__(self, request: Request[Any, Any, Any]) -> None:
        if not request.scope["query_string"]:
            return
        handler = request.route_handler
        names = self._names.get(handler)
        if names is None:
            names = self._names[handler] = _single_valued(request.app, handler)
        query = request.query_params
        repeated = [(name, count) for name in sorted(names) if (count := len(query.getall(name, []))) > 1]
        if repeated:
            raise ValidationException(
                detail="a parameter that takes one value was given several",
                extra=[
                    {"key": name, "source": "query", "message": f"may be given only once (it was given {count} times)"}
                    for name, count in repeated
                ],
            )


def _single_valued(app: Litestar, handler: BaseRouteHandler) -> frozenset[str]:
    for route in app.routes:
        if isinstance(route, HTTPRoute):
            for candidate, kwargs in route.route_handler_map.values():
                if candidate is handler:
                    return frozenset(p.field_alias for p in kwargs.expected_query_params if not p.is_sequence)
    return frozenset()
