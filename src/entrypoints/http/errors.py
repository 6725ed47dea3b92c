"""Every error maps to HTTP here, once: RFC 9457 problem details, never a bare 500."""

from __future__ import annotations

import logging
import re
from typing import Any

import psycopg
from litestar import MediaType, Request, Response
from litestar.exceptions import HTTPException, ValidationException
from litestar.status_codes import HTTP_400_BAD_REQUEST, HTTP_500_INTERNAL_SERVER_ERROR, HTTP_503_SERVICE_UNAVAILABLE
from sqlalchemy.exc import SQLAlchemyError

from domain.errors import DomainError, InvalidValue, TooManyCandles, UnknownSymbol
from entrypoints.http.openapi import PROBLEM_JSON
from market_data_client.contract import InvalidParam, Problem

log = logging.getLogger("mdp.http")


def problem(status: int, title: str, detail: str, params: list[InvalidParam] | None = None) -> Response[Problem]:
    headers = {"Retry-After": "5"} if status == HTTP_503_SERVICE_UNAVAILABLE else None
    return Response(
        Problem(title=title, status=status, detail=detail, invalid_params=params or []),
        status_code=status,
        media_type=PROBLEM_JSON,
        headers=headers,
    )


def _domain_error(_: Request[Any, Any, Any], error: Exception) -> Response[Problem]:
    if isinstance(error, TooManyCandles):
        param = InvalidParam("end", f"a range of at most {error.maximum} buckets of the interval")
    elif isinstance(error, UnknownSymbol):
        param = InvalidParam("symbol", f"allowed are {', '.join(error.allowed)}")
    elif isinstance(error, InvalidValue):
        param = InvalidParam(error.field, error.allowed)
    else:
        param = None
    return problem(HTTP_400_BAD_REQUEST, "Invalid request", str(error), [param] if param else None)


def _validation_error(_: Request[Any, Any, Any], error: Exception) -> Response[Problem]:
    assert isinstance(error, ValidationException)
    params = [
        InvalidParam(str(item.get("key") or item.get("source") or "request"), str(item.get("message", "")))
        for item in (error.extra if isinstance(error.extra, list) else [])
        if isinstance(item, dict)
    ]
    missing = _MISSING_PARAMETER.search(str(error.detail))
    if not params and missing:
        params = [InvalidParam(missing.group(1), "required")]
    detail = "; ".join(f"{p.name}: {p.reason}" for p in params) or error.detail
    return problem(HTTP_400_BAD_REQUEST, "Invalid request", detail, params)


# Litestar names a missing parameter only in its message; surface it as an invalid param.
_MISSING_PARAMETER = re.compile(r"Missing required \w+ parameter '([^']+)'")


def _http_error(_: Request[Any, Any, Any], error: Exception) -> Response[Problem]:
    assert isinstance(error, HTTPException)
    title = error.detail if error.status_code < 500 else "Server error"
    response = problem(error.status_code, title, str(error.detail))
    # Keep what the exception says in headers, such as `Allow` on a 405 (RFC 9110 requires it).
    for name, value in (error.headers or {}).items():
        response.headers[name] = value
    return response


def _infrastructure_error(request: Request[Any, Any, Any], error: Exception) -> Response[Problem]:
    log.warning("%s %s: database unavailable: %s", request.method, request.url.path, type(error).__name__)
    return problem(HTTP_503_SERVICE_UNAVAILABLE, "Service unavailable", "the database is unavailable; retry shortly")


def _unexpected_error(request: Request[Any, Any, Any], error: Exception) -> Response[Problem]:
    log.exception("%s %s failed", request.method, request.url.path, exc_info=error)
    return problem(HTTP_500_INTERNAL_SERVER_ERROR, "Server error", "an unexpected error occurred; it has been logged")


EXCEPTION_HANDLERS = {
    DomainError: _domain_error,
    ValidationException: _validation_error,
    HTTPException: _http_error,
    SQLAlchemyError: _infrastructure_error,
    # Raised unwrapped by the hot reads that run straight on the driver (adapters/postgres/driver.py).
    psycopg.Error: _infrastructure_error,
    OSError: _infrastructure_error,
    TimeoutError: _infrastructure_error,
    Exception: _unexpected_error,
}
MEDIA_TYPE_JSON = MediaType.JSON
