"""The OpenAPI schema only grows: everything in the schema recorded before the contract moved is still there."""

from __future__ import annotations

import json
from pathlib import Path

from litestar.serialization import encode_json

from entrypoints.container import build_container
from entrypoints.http.app import create_app
from tests.integration.support import make_settings

BEFORE = Path(__file__).with_name("openapi-before.json")


def current_schema() -> dict[str, object]:
    """Built from the app object, with no I/O; through JSON, as the app serves it."""
    app = create_app(build_container(make_settings("postgresql://unused/unused"), "postgresql://unused/unused"))
    schema: dict[str, object] = json.loads(encode_json(app.openapi_schema.to_schema()))
    return schema


def missing(before: object, after: object, where: str = "$") -> list[str]:
    """Where `after` lacks something `before` has. Keys and list items may be added, never removed or changed."""
    if isinstance(before, dict):
        if not isinstance(after, dict):
            return [f"{where}: was an object"]
        return [
            m
            for key, value in before.items()
            for m in (missing(value, after[key], f"{where}.{key}") if key in after else [f"{where}.{key}: removed"])
        ]
    if isinstance(before, list):
        if not isinstance(after, list):
            return [f"{where}: was a list"]
        return [f"{where}[{i}]: {item!r} is gone" for i, item in enumerate(before) if not _kept(item, after)]
    return [] if before == after else [f"{where}: {before!r} became {after!r}"]


def _kept(item: object, after: list[object]) -> bool:
    return any(not missing(item, candidate) for candidate in after)


def test_the_schema_keeps_every_path_component_and_property_it_had() -> None:
    before = json.loads(BEFORE.read_text())
    assert missing(before, current_schema()) == []


def test_the_comparison_sees_a_removed_property_and_allows_an_added_one() -> None:
    before = {"components": {"schemas": {"T": {"properties": {"a": {"type": "string"}}, "required": ["a"]}}}}
    added = {"components": {"schemas": {"T": {"properties": {"a": {"type": "string"}, "b": {}}, "required": ["a"]}}}}
    retyped = {"components": {"schemas": {"T": {"properties": {"a": {"type": "integer"}}, "required": ["a"]}}}}
    assert missing(before, added) == []
    assert missing(before, retyped) == ["$.components.schemas.T.properties.a.type: 'string' became 'integer'"]
    assert missing(before, {"components": {"schemas": {}}}) == ["$.components.schemas.T: removed"]
