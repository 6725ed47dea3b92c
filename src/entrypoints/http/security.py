"""Operator authentication, security headers and HEAD, around the whole app."""

from __future__ import annotations

import hmac
import ipaddress
import secrets
from typing import Any

from litestar.connection import ASGIConnection
from litestar.enums import ScopeType
from litestar.exceptions import NotAuthorizedException
from litestar.handlers import BaseRouteHandler
from litestar.types import ASGIApp, Message, Receive, Scope, Send

NONCE_KEY = "csp_nonce"
"""Where the per-response script nonce is kept in the request's scope state (drawn only for HTML pages)."""


def csp_nonce(scope: Scope) -> str:
    """This response's script nonce, drawn on first use: only HTML pages need one."""
    state = scope.setdefault("state", {})
    nonce = state.get(NONCE_KEY)
    if nonce is None:
        nonce = state[NONCE_KEY] = secrets.token_urlsafe(16)
    return str(nonce)


NO_HEAD = frozenset({"/candles/stream"})
"""GET routes that HEAD does not reach: an endless body, so HEAD answers 405 there."""


def content_security_policy(nonce: str) -> str:
    return "; ".join(
        (
            "default-src 'self'",
            f"script-src 'nonce-{nonce}'",
            "style-src 'self' 'unsafe-inline'",
            "img-src 'self' data:",
            "connect-src 'self'",
            "frame-ancestors 'none'",
        )
    )


class SecurityHeaders:
    """`nosniff` on every response; a nonce-based CSP and `X-Frame-Options: DENY` on HTML.

    It wraps the app's whole ASGI handler (not one route's), so 404s, 405s and
    problem responses made by exception handlers carry the headers too.
    """

    def __init__(self, app: ASGIApp) -> None:
        self._app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != ScopeType.HTTP:
            await self._app(scope, receive, send)
            return
        state = scope.setdefault("state", {})

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                headers.append((b"x-content-type-options", b"nosniff"))
                if any(name.lower() == b"content-type" and value.startswith(b"text/html") for name, value in headers):
                    # The page drew its nonce from csp_nonce(); a page made without one gets a fresh one.
                    nonce = state.get(NONCE_KEY) or secrets.token_urlsafe(16)
                    headers.append((b"content-security-policy", content_security_policy(nonce).encode()))
                    headers.append((b"x-frame-options", b"DENY"))
                message = {**message, "headers": headers}
            await send(message)

        await self._app(scope, receive, send_with_headers)


class HeadAsGet:
    """HEAD runs the GET handler and drops the body: same status and headers (RFC 9110 9.3.2)."""

    def __init__(self, app: ASGIApp) -> None:
        self._app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != ScopeType.HTTP or scope.get("method") != "HEAD" or scope["path"] in NO_HEAD:
            await self._app(scope, receive, send)
            return

        async def send_without_body(message: Message) -> None:
            if message["type"] == "http.response.body":
                message = {**message, "body": b""}
            await send(message)

        await self._app({**scope, "method": "GET"}, receive, send_without_body)


async def operator_guard(connection: ASGIConnection[Any, Any, Any, Any], _handler: BaseRouteHandler) -> None:
    # async: Litestar runs a plain-function guard in a worker thread, on every request.
    """With OPERATOR_TOKEN set, the route needs `Authorization: Bearer <token>`; 401 otherwise."""
    token: str | None = connection.app.state.operator_token
    if token is None:
        return
    scheme, _space, given = connection.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not hmac.compare_digest(given.strip().encode(), token.encode()):
        raise NotAuthorizedException(
            "a bearer token is required (Authorization: Bearer <OPERATOR_TOKEN>)",
            headers={"WWW-Authenticate": "Bearer"},
        )


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
