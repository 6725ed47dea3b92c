"""The service's public JSON API over HTTP with httpx: what any external client would see."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from typing import Any

import httpx


@dataclass(frozen=True, slots=True)
class Fetched:
    """One call's outcome: the decoded JSON, or why there is none."""

    path: str
    data: Any = None
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


class HttpServiceApi:
    """GETs JSON from the API under a short timeout; failures come back as values, never as exceptions."""

    def __init__(self, client: httpx.AsyncClient) -> None:
        self._client = client

    async def get_json(self, path: str, params: Mapping[str, str] | None = None) -> Fetched:
        try:
            response = await self._client.get(path, params=params)
        except httpx.TimeoutException:
            return Fetched(path, error=f"no answer within {self._client.timeout.read or 0:g}s")
        except httpx.HTTPError as error:
            return Fetched(path, error=f"{type(error).__name__}: {error}".strip().rstrip(":"))
        if response.status_code != 200:
            return Fetched(path, error=f"HTTP {response.status_code}{_detail(response)}")
        try:
            return Fetched(path, data=response.json())
        except ValueError:
            return Fetched(path, error="the answer was not JSON")


async def service_api_resource(base_url: str, timeout_seconds: float) -> AsyncIterator[HttpServiceApi]:
    """Container resource: one connection pool for the process; environment proxies are ignored."""
    client = httpx.AsyncClient(
        base_url=base_url,
        timeout=httpx.Timeout(timeout_seconds),
        headers={"Accept": "application/json"},
        trust_env=False,
    )
    try:
        yield HttpServiceApi(client)
    finally:
        await client.aclose()


def _detail(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return ""
    detail = body.get("detail") if isinstance(body, dict) else None
    return f": {detail}" if isinstance(detail, str) else ""
