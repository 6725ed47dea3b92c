"""What the OpenAPI schema says beyond the handlers' types: problem+json answers and the operator token.

Kept apart from the error mapping (`errors.py`), which needs the database driver's
exceptions: the dashboard declares its 401 here without importing them.
"""

from __future__ import annotations

from litestar.openapi import ResponseSpec
from litestar.openapi.spec import Components, SecurityRequirement, SecurityScheme

from market_data_client.contract import Problem

PROBLEM_JSON = "application/problem+json"
OPERATOR_SCHEME = "OperatorToken"
OPERATOR_COMPONENTS = Components(
    security_schemes={
        OPERATOR_SCHEME: SecurityScheme(
            type="http",
            scheme="bearer",
            description="OPERATOR_TOKEN, when the service has one (docs/security.md); unset, the routes are open",
        )
    }
)
"""The security scheme of the operator routes, for OpenAPIConfig."""
OPERATOR_SECURITY: list[SecurityRequirement] = [{OPERATOR_SCHEME: []}]
"""`security=` of the operator routes (`/metrics`, `/dashboard`), which `operator_guard` protects."""

_REASONS = {
    400: "Invalid request: `invalid_params` names each bad parameter",
    401: (
        "OPERATOR_TOKEN is set and the request did not send it as `Authorization: Bearer <token>`; "
        "the answer carries `WWW-Authenticate: Bearer`"
    ),
    503: "The database is unavailable",
}


def problem_responses(*statuses: int) -> dict[int, ResponseSpec]:
    """OpenAPI entries saying these statuses answer with a problem+json body."""
    return {
        status: ResponseSpec(
            data_container=Problem,
            media_type=PROBLEM_JSON,
            description=_REASONS.get(status, "Problem details"),
            generate_examples=False,  # random examples (status 4966) would mislead readers
        )
        for status in statuses
    }
